"""Statistics and the funders' report on the command line: aggregates only, small cells hidden.

`peerline stats` prints the figures; `peerline report` writes one self-contained HTML file and,
with `--csv DIR`, the same tables as CSV files.
"""

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli_base import run_in_session
from bot.clock import SystemClock
from bot.settings import Settings
from flows.audit import audit
from flows.statistics import statistics
from flows.statistics.export import as_text, write_csv
from flows.statistics.report import render
from flows.statistics.tables import Statistics
from i18n import LANGUAGES

DEFAULT_DAYS = 30
FROM = typer.Option(None, "--from", help="First day, YYYY-MM-DD (default: 30 days before --to).")
TO = typer.Option(None, "--to", help="Last day, YYYY-MM-DD, included (default: today, UTC).")
LANGUAGE = typer.Option(None, help="Language of the labels: en pl uk ru fa ar (DEFAULT_LANGUAGE).")


def period(start: str | None, end: str | None) -> tuple[date, date]:
    """The days asked for; a wrong date ends the command with one line saying what to type."""
    try:
        last = date.fromisoformat(end) if end else SystemClock().now().date()
        first = date.fromisoformat(start) if start else last - timedelta(days=DEFAULT_DAYS - 1)
    except ValueError:
        typer.echo("error: dates are written YYYY-MM-DD, e.g. --from 2026-11-01", err=True)
        raise typer.Exit(2) from None
    if first > last:
        typer.echo("error: --from is after --to", err=True)
        raise typer.Exit(2)
    return first, last


def _language(language: str | None, settings: Settings) -> str:
    chosen = language or settings.default_language
    if chosen not in LANGUAGES:
        typer.echo(f"error: --language must be one of {' '.join(LANGUAGES)}", err=True)
        raise typer.Exit(2)
    return chosen


def _figures(first: date, last: date, action: str, **details: Any) -> tuple[Statistics, Settings]:
    async def work(session: AsyncSession, settings: Settings) -> tuple[Statistics, Settings]:
        stats = await statistics(session, first, last)
        audit(session, SystemClock().now(), "cli", action, "statistics",
              start=first.isoformat(), end=last.isoformat(), **details)  # fmt: skip
        return stats, settings

    return run_in_session(work)


def stats(start: str = FROM, end: str = TO, language: str = LANGUAGE) -> None:
    """Print the statistics for a period: counts under 5 show as <5."""
    first, last = period(start, end)
    figures, settings = _figures(first, last, "stats.view")
    typer.echo(as_text(figures, _language(language, settings)))


def report(
    start: str = FROM,
    end: str = TO,
    out: Path = typer.Option(Path("report.html"), help="Where to write the HTML report."),
    csv: Path = typer.Option(None, "--csv", help="Also write the tables as CSV into this folder."),
    language: str = LANGUAGE,
) -> None:
    """Write the funders' report: one HTML file with charts, opened as it is in any browser."""
    first, last = period(start, end)
    figures, settings = _figures(first, last, "stats.report", csv=csv is not None)
    lang = _language(language, settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(figures, lang, SystemClock().now()), encoding="utf-8")
    typer.echo(f"report written to {out}")
    if csv is not None:
        files = write_csv(figures, lang, csv)
        typer.echo(f"{len(files)} CSV files written to {csv}")


def register(app: typer.Typer) -> None:
    app.command("stats")(stats)
    app.command("report")(report)
