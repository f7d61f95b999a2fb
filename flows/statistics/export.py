"""The published tables as plain text (chat and terminal) and as CSV files, in one language."""

import csv
import io
from pathlib import Path

from flows.statistics.tables import Measure, Statistics
from i18n import translate


def measure_text(language: str, measure: Measure) -> str:
    if measure.unit and measure.shown[:1].isdigit():
        return translate(language, measure.unit, {"n": measure.shown})
    return measure.shown


def compact(stats: Statistics, language: str) -> str:
    """The figures in a few lines for a chat message: one line per table."""
    lines = [
        " · ".join(f"{translate(language, m.label)} {measure_text(language, m)}"
                   for m in stats.headline),
    ]  # fmt: skip
    for table in stats.tables:
        cells = [*table.cells, *([table.total] if table.total is not None else [])]
        figures = " · ".join(f"{translate(language, c.label)} {c.shown}" for c in cells)
        lines.append(f"{table.heading(language)}: {figures}")
    return "\n\n".join(lines)


def as_text(stats: Statistics, language: str) -> str:
    """Every figure, one per line, grouped under translated headings."""
    lines = [
        translate(language, "stats.heading",
                  {"start": stats.start.isoformat(), "end": stats.end.isoformat()}),
        "",
    ]  # fmt: skip
    for measure in stats.headline:
        lines.append(f"{translate(language, measure.label)}: {measure_text(language, measure)}")
    for table in stats.tables:
        lines += ["", table.heading(language)]
        for cell in table.cells:
            lines.append(f"  {translate(language, cell.label)}: {cell.shown}")
        if table.total is not None:
            lines.append(f"  {translate(language, table.total.label)}: {table.total.shown}")
    lines += ["", translate(language, "stats.small_note")]
    return "\n".join(lines)


def write_csv(stats: Statistics, language: str, directory: Path) -> list[Path]:
    """One file per table (key, label, value) and `summary.csv`; hidden cells keep their mark."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    summary = [(m.key, translate(language, m.label), measure_text(language, m))
               for m in stats.headline]  # fmt: skip
    written.append(_write(directory / "summary.csv", summary))
    for table in stats.tables:
        rows = [(c.key, translate(language, c.label), c.shown) for c in table.cells]
        if table.total is not None:
            rows.append(("total", translate(language, table.total.label), table.total.shown))
        written.append(_write(directory / f"{table.key}.csv", rows))
    return written


def _write(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("key", "label", "value"))
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path
