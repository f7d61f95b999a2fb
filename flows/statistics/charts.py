"""Inline SVG charts for the report: plain shapes, no script, nothing fetched from anywhere.

A hidden figure is drawn as an empty outline with its "<5" or "–", never as a guessed bar.
"""

from html import escape

from flows.statistics.disclosure import Cell

BAR_HEIGHT = 22
LABEL_WIDTH = 190
WIDTH = 640


def bars(title: str, cells: list[tuple[str, Cell]], *, rtl: bool = False) -> str:
    """Horizontal bars, one per (translated label, cell); mirrored for right-to-left languages."""
    top = max([c.value or 0 for _, c in cells] + [1])
    plot = WIDTH - LABEL_WIDTH - 60
    height = BAR_HEIGHT * len(cells) + 10
    parts = [_open(title, WIDTH, height)]
    for index, (label, cell) in enumerate(cells):
        y = 5 + index * BAR_HEIGHT
        length = max(2.0, plot * (cell.value or 0) / top) if cell.published else 2.0
        if rtl:
            label_x, anchor = WIDTH - 5, "end"
            bar_x = WIDTH - LABEL_WIDTH - length
            value_x, value_anchor = bar_x - 6, "end"
        else:
            label_x, anchor = 5, "start"
            bar_x = LABEL_WIDTH
            value_x, value_anchor = bar_x + length + 6, "start"
        parts.append(
            f'<text x="{label_x}" y="{y + 15}" text-anchor="{anchor}" class="label">'
            f"{escape(_short(label))}</text>"
        )
        parts.append(_bar(bar_x, y + 3, length, BAR_HEIGHT - 6, cell))
        parts.append(
            f'<text x="{value_x:.1f}" y="{y + 15}" text-anchor="{value_anchor}" class="value">'
            f"{escape(cell.shown)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def columns(title: str, cells: list[tuple[str, Cell]], *, rtl: bool = False) -> str:
    """Vertical columns over time (oldest first, or last for right-to-left languages)."""
    ordered = list(reversed(cells)) if rtl else cells
    top = max([c.value or 0 for _, c in cells] + [1])
    height, plot, base = 230, 160, 190
    step = max(18.0, (WIDTH - 20) / max(1, len(cells)))
    width = max(WIDTH, int(step * len(cells) + 20))
    parts = [_open(title, width, height)]
    every = max(1, len(cells) // 12)  # at most about twelve week labels under the axis
    for index, (label, cell) in enumerate(ordered):
        x = 10 + index * step
        tall = max(2.0, plot * (cell.value or 0) / top) if cell.published else 2.0
        parts.append(_bar(x + 2, base - tall, step - 4, tall, cell))
        parts.append(
            f'<text x="{x + step / 2:.1f}" y="{base - tall - 4:.1f}" text-anchor="middle" '
            f'class="value">{escape(cell.shown)}</text>'
        )
        if index % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{base + 16}" text-anchor="middle" '
                f'class="label">{escape(label[-3:] if len(cells) > 8 else label)}</text>'
            )
    parts.append(f'<line x1="8" y1="{base}" x2="{width - 8}" y2="{base}" class="axis"/>')
    parts.append("</svg>")
    return "".join(parts)


def _open(title: str, width: int, height: int) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" direction="ltr" '
        f'aria-label="{escape(title)}" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}"><title>{escape(title)}</title>'
    )


def _bar(x: float, y: float, width: float, height: float, cell: Cell) -> str:
    kind = "bar" if cell.published else "bar hidden"
    return (
        f'<rect class="{kind}" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" '
        f'height="{height:.1f}" rx="2"/>'
    )


def _short(label: str, most: int = 28) -> str:
    return label if len(label) <= most else label[: most - 1] + "…"
