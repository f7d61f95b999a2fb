"""The funders' report: one HTML file with inline SVG charts, readable offline and in print.

It is written in the coordinator's language (right to left for Persian and Arabic) and holds
only the published tables, so nothing in it is finer than the statistics themselves.
"""

from datetime import datetime
from html import escape

from flows.statistics import charts
from flows.statistics.export import measure_text
from flows.statistics.tables import Statistics, Table
from i18n import RIGHT_TO_LEFT, normalise_language, translate

STYLE = """
body{font-family:system-ui,"Segoe UI","Noto Sans","Noto Sans Arabic",Tahoma,sans-serif;
margin:2rem auto;max-width:960px;padding:0 1rem;color:#222;line-height:1.4}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin:1.6rem 0 .4rem}
.period{color:#555;margin-top:0}.cards{display:flex;flex-wrap:wrap;gap:.6rem}
.card{border:1px solid #ddd;border-radius:8px;padding:.6rem .8rem;min-width:9rem}
.card b{display:block;font-size:1.3rem}.card span{color:#555;font-size:.85rem}
section{break-inside:avoid;page-break-inside:avoid}
table{border-collapse:collapse;margin-top:.4rem;font-size:.9rem}
td,th{border-bottom:1px solid #eee;padding:.2rem .8rem;text-align:start}
td.n{text-align:end;font-variant-numeric:tabular-nums}tr.total td{font-weight:bold}
svg.chart{max-width:100%;height:auto;display:block;direction:ltr}
.num{direction:ltr;unicode-bidi:isolate}
svg .bar{fill:#3d6fb6}svg .bar.hidden{fill:none;stroke:#999;stroke-dasharray:3 2}
svg text{font-size:12px;fill:#333}svg .axis{stroke:#999}
.note{color:#555;font-size:.85rem;margin-top:2rem}
@media print{body{margin:0;max-width:none}.card{border-color:#999}}
"""


def render(stats: Statistics, language: str, made_at: datetime) -> str:
    """The whole report as one string of HTML; nothing in it refers to anything outside it."""
    lang = normalise_language(language)
    rtl = lang in RIGHT_TO_LEFT

    def t(text_id: str, **params: object) -> str:
        return escape(translate(lang, text_id, params or None))

    period = {"start": _ltr(stats.start.isoformat()), "end": _ltr(stats.end.isoformat())}
    cards = "".join(
        f'<div class="card"><b><span class="num">{escape(measure_text(lang, m))}</span></b>'
        f"<span>{t(m.label)}</span></div>"
        for m in stats.headline
    )
    sections = "".join(_section(table, lang, rtl) for table in stats.tables)
    return (
        f'<!DOCTYPE html><html lang="{lang}" dir="{"rtl" if rtl else "ltr"}"><head>'
        f'<meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{t('stats.report_title')}</title><style>{STYLE}</style></head><body>"
        f"<h1>{t('stats.report_title')}</h1>"
        f'<p class="period">{t("stats.period", **period)}</p>'
        f'<section><h2>{t("stats.headline")}</h2><div class="cards">{cards}</div></section>'
        f"{sections}"
        f'<p class="note">{t("stats.small_note")}</p>'
        f'<p class="note">{t("stats.made_on", day=_ltr(made_at.date().isoformat()))}</p>'
        "</body></html>"
    )


def _section(table: Table, lang: str, rtl: bool) -> str:
    title = table.heading(lang)
    labelled = [(translate(lang, c.label), c) for c in table.cells]
    draw = charts.columns if table.chart == "columns" else charts.bars
    chart = draw(title, labelled, rtl=rtl) if table.chart else ""
    rows = "".join(
        f'<tr><td>{_label(label)}</td><td class="n"><span class="num">{escape(cell.shown)}</span>'
        "</td></tr>"
        for label, cell in labelled
    )
    if table.total is not None:
        rows += (
            f'<tr class="total"><td>{escape(translate(lang, table.total.label))}</td>'
            f'<td class="n"><span class="num">{escape(table.total.shown)}</span></td></tr>'
        )
    return (
        f'<section id="{table.key}"><h2>{escape(title)}</h2>{chart}'
        f"<table><tbody>{rows}</tbody></table></section>"
    )


def _ltr(text: str) -> str:
    """Dates and figures keep their left-to-right order inside Persian or Arabic sentences."""
    return f"\u2066{text}\u2069"


def _label(label: str) -> str:
    return f'<span class="num">{escape(label)}</span>' if label[:1].isdigit() else escape(label)
