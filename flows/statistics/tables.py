"""The published figures: every table of the statistics and the report, already protected.

Text, CSV and HTML are all drawn from these tables, so a figure hidden in one is hidden in all.
A group whose total is another table's hidden cell is hidden whole (it would add up to it).
"""

import math
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from flows.conversation.questions import TOPICS
from flows.statistics.disclosure import HIDDEN, THRESHOLD, Cell, protect, share, single
from flows.statistics.figures import Raw
from i18n import LANGUAGES, N_, translate
from models.stats import LENGTH_EDGES, WAIT_EDGES, bucket_names

CHANNELS = ("telegram", "whatsapp", "console")
OUTCOMES = ("matched", "waiting", "expired", "cancelled")
ENDED_BY = ("seeker", "supporter", "system", "open")
CHECKINS = ("ok", "heavy", "talk")
REFERRALS = ("emergency", "home", "sexual", "exploited", "self", "other")
DANGER = ("violence", "self_harm")
# A campaign's messages by where they stand; "queued" also counts a paused campaign's.
DELIVERY = ("queued", "sent", "delivered", "failed", "blocked", "opted_out", "dropped")
LOAD = (("1", 1, 1), ("2_3", 2, 3), ("4_6", 4, 6), ("ge7", 7, 10**9))


@dataclass(frozen=True)
class Table:
    key: str  # also the CSV file's name
    title: str  # a text id
    cells: list[Cell]
    total: Cell | None
    chart: str | None = None  # "bars" or "columns" (a series over time)
    title_params: dict[str, str] | None = None  # e.g. a campaign's name in its title

    def heading(self, language: str) -> str:
        return translate(language, self.title, self.title_params)


@dataclass(frozen=True)
class Measure:
    key: str
    label: str  # a text id
    shown: str
    unit: str | None = None  # a text id with {n}, e.g. "{n} min"


@dataclass
class Statistics:
    start: date
    end: date
    headline: list[Measure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.key == key)


def _group(
    key: str,
    title: str,
    counts: Counter[str],
    order: tuple[str, ...] | list[str],
    label_prefix: str,
    *,
    chart: str | None = "bars",
    parent: Cell | None = None,
) -> Table:
    """One protected group; categories in `order` always appear, others (e.g. "unknown") after."""
    keys = [*order, *sorted(k for k in counts if k not in order and counts[k])]
    values = {k: counts.get(k, 0) for k in keys}
    labels = {k: N_("stats.unknown") if k == "unknown" else f"{label_prefix}{k}" for k in keys}
    cells, total = protect(values, labels)
    if parent is not None and not parent.published:
        cells = [c if not c.published else Cell(c.key, c.label, None, HIDDEN) for c in cells]
        total = Cell("total", N_("stats.total"), None, parent.shown)
    return Table(key, title, cells, total, chart)


def _weeks(raw: Raw) -> Table:
    monday = raw.start - timedelta(days=raw.start.weekday())
    counts: Counter[str] = Counter()
    labels: dict[str, str] = {}
    while monday <= raw.end:
        year, week, _ = monday.isocalendar()
        labels[monday.isoformat()] = f"{year}-W{week:02d}"
        counts[monday.isoformat()] = 0
        monday += timedelta(days=7)
    for day, value in raw.requests_by_day.items():
        counts[(day - timedelta(days=day.weekday())).isoformat()] += value
    cells, total = protect(counts, labels)
    return Table("requests_by_week", N_("stats.requests_by_week"), cells, total, "columns")


def quantile(values: list[float], q: float) -> float:
    """Nearest-rank quantile: a value someone really had, never an interpolation."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _minutes(key: str, label: str, values: list[float], q: float, population: Cell,
             least: int) -> Measure:  # fmt: skip
    """A quantile of durations, only over a published population of at least `least`."""
    if not population.published or len(values) < least:
        return Measure(key, label, HIDDEN)
    minutes = quantile(values, q)
    if minutes < 120:
        return Measure(key, label, f"{minutes:.0f}", N_("stats.unit_minutes"))
    return Measure(key, label, f"{minutes / 60:.1f}", N_("stats.unit_hours"))


def build(raw: Raw) -> Statistics:
    stats = Statistics(raw.start, raw.end)
    topics = _group("requests_by_topic", N_("stats.requests_by_topic"), raw.topics, TOPICS,
                    "topic.")  # fmt: skip
    outcome = _group("requests_by_outcome", N_("stats.requests_by_outcome"), raw.outcomes,
                     OUTCOMES, "stats.outcome_")  # fmt: skip
    matched = next(c for c in outcome.cells if c.key == "matched")
    stats.tables += [
        _weeks(raw),
        topics,
        _group("requests_by_language", N_("stats.requests_by_language"), raw.languages,
               LANGUAGES, "language."),
        _group("requests_by_channel", N_("stats.requests_by_channel"), raw.channels, CHANNELS,
               "stats.channel_"),
        outcome,
        _group("time_to_match", N_("stats.time_to_match"), raw.wait_buckets,
               bucket_names(WAIT_EDGES), "stats.bucket_", parent=matched),
        _group("conversations_by_ending", N_("stats.conversations_by_ending"), raw.ended_by,
               ENDED_BY, "stats.ended_by_", parent=matched),
        _group("conversation_length", N_("stats.conversation_length"), raw.length_buckets,
               bucket_names(LENGTH_EDGES), "stats.bucket_", parent=matched),
        _group("feedback_scores", N_("stats.feedback_scores"), raw.scores,
               ("1", "2", "3", "4", "5"), "stats.score_"),
        _group("supporter_checkins", N_("stats.supporter_checkins"), raw.checkins, CHECKINS,
               "stats.checkin_"),
        _group("referrals_by_kind", N_("stats.referrals_by_kind"), raw.referrals, REFERRALS,
               "stats.referral_"),
        _group("danger_signals", N_("stats.danger_signals"), raw.danger, DANGER,
               "stats.danger_"),
        _load(raw),
        *_campaign_delivery(raw),
    ]  # fmt: skip
    total = topics.total
    assert total is not None
    lengths = stats.table("conversation_length").total
    assert lengths is not None
    urgent, _ = protect({"urgent": raw.urgent, "other": (total.value or 0) - raw.urgent})
    active = single("active_supporters", N_("stats.active_supporters"), sum(raw.load.values()))
    stats.headline = [
        Measure("requests", N_("stats.requests"), total.shown),
        Measure("urgent", N_("stats.urgent"), urgent[0].shown if total.published else HIDDEN),
        Measure("share_matched", N_("stats.share_matched"), share(matched, total)),
        _minutes("wait_median", N_("stats.wait_median"), raw.waits, 0.5, matched, 5),
        _minutes("wait_p90", N_("stats.wait_p90"), raw.waits, 0.9, matched, 10),
        _minutes("length_median", N_("stats.length_median"), raw.lengths, 0.5, lengths, 5),
        Measure("active_supporters", active.label, active.shown),
        Measure("average_score", N_("stats.average_score"), _average(stats)),
        Measure("quick_exits", N_("stats.quick_exits"), single("q", "", raw.quick_exits).shown),
        Measure("erasures", N_("stats.erasures"), single("e", "", raw.erasures).shown),
        Measure("campaigns", N_("stats.campaigns"), single("c", "", raw.campaigns).shown),
        Measure("campaign_reach", N_("stats.campaign_reach"),
                single("r", "", raw.campaign_reach).shown),
    ]  # fmt: skip
    return stats


def _campaign_delivery(raw: Raw) -> list[Table]:
    """One protected group per campaign of the period; small cells "<5" as everywhere."""
    tables = []
    for number, (name, counted) in enumerate(raw.campaign_delivery, start=1):
        counts = Counter({k: v for k, v in counted.items() if k != "paused"})
        counts["queued"] += counted.get("paused", 0)
        group = _group(f"campaign_{number}", N_("stats.campaign_delivery"), counts, DELIVERY,
                       "stats.delivery_")  # fmt: skip
        tables.append(replace(group, title_params={"name": name}))
    return tables


def _load(raw: Raw) -> Table:
    """How many conversations each active supporter had, as a distribution of supporters."""
    counts: Counter[str] = Counter()
    for conversations, supporters in raw.load.items():
        key = next(k for k, low, high in LOAD if low <= conversations <= high)
        counts[key] += supporters
    return _group("supporter_load", N_("stats.supporter_load"), counts, [k for k, _, _ in LOAD],
                  "stats.load_")  # fmt: skip


def _average(stats: Statistics) -> str:
    """The mean score, only when no score cell is hidden (else the mean could unmask one)."""
    cells = stats.table("feedback_scores").cells
    if any(not c.published for c in cells):
        return HIDDEN
    n = sum(c.value or 0 for c in cells)
    if n < THRESHOLD:
        return HIDDEN
    return f"{sum(int(c.key) * (c.value or 0) for c in cells) / n:.1f}"
