"""A supporter's weekly hours: parsed from what she types, checked against the clock.

She writes e.g. "mon-fri 18-22; sat 10-14" (or "any time"); we store one entry per day and span,
like ["mon 18:00-22:00", "sat 10:00-14:00"], read in her own time zone. An empty list means
"any time", so a profile without hours is never silently unreachable.
"""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Day names as women type them in the languages we speak (Persian and Arabic use the English ones
# or the presets on the buttons: their week names are long and spelled many ways).
_DAY_WORDS = {
    **{day: i for i, day in enumerate(DAYS)},
    **{w: i for i, w in enumerate(
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))},
    **{w: i for i, w in enumerate(("pon", "wt", "śr", "czw", "pt", "sob", "nd"))},
    "niedz": 6, "sr": 2, "niedziela": 6,
    **{w: i for i, w in enumerate(("пн", "вт", "ср", "чт", "пт", "сб", "нд"))},
    "вс": 6,
}  # fmt: skip
ANY_TIME_WORDS = frozenset({"any", "any time", "anytime", "always", "24/7", "*"})
_ENTRY = re.compile(
    r"^(?P<days>[^\d\s]+(?:\s*[-–,]\s*[^\d\s]+)*|daily|every day)\s+"
    r"(?P<start>\d{1,2}(?::\d{2})?)\s*[-–]\s*(?P<end>\d{1,2}(?::\d{2})?)$"
)


class HoursError(ValueError):
    """What she typed cannot be read as weekly hours."""


def parse_weekly_hours(text: str) -> list[str]:
    """Turn "mon-fri 18-22; sat 10-14" into stored entries; raise HoursError when unreadable."""
    cleaned = " ".join(text.strip().casefold().split())
    if cleaned in ANY_TIME_WORDS:
        return []
    entries: list[str] = []
    parts = [p.strip() for p in re.split(r"[;\n]+", cleaned) if p.strip()]
    if not parts:
        raise HoursError("empty")
    for part in parts:
        match = _ENTRY.match(part)
        if not match:
            raise HoursError(part)
        days = _days(match["days"])
        start, end = _minutes(match["start"]), _minutes(match["end"])
        if start == end:
            raise HoursError(part)
        for day in days:
            if end > start:
                entries.append(_entry(day, start, end))
            else:  # past midnight: the evening part and the early hours of the next day
                entries.append(_entry(day, start, 24 * 60))
                if end:
                    entries.append(_entry((day + 1) % 7, 0, end))
    return sorted(set(entries), key=lambda e: (DAYS.index(e[:3]), e))


def is_within_hours(weekly_hours: list[str], timezone: str, now: datetime) -> bool:
    """True when `now` falls inside one of her stored spans (always, when she gave none)."""
    if not weekly_hours:
        return True
    local = now.astimezone(ZoneInfo(timezone))
    minute = local.hour * 60 + local.minute
    day = DAYS[local.weekday()]
    for entry in weekly_hours:
        entry_day, _, span = entry.partition(" ")
        start, _, end = span.partition("-")
        if entry_day == day and _minutes(start) <= minute < _minutes(end):
            return True
    return False


def next_within_hours(weekly_hours: list[str], timezone: str, at: datetime) -> datetime:
    """The first moment at or after `at` inside her spans (UTC); `at` itself when she gave none.

    A span's start is read on her wall clock, so summer time moves it with her."""
    if is_within_hours(weekly_hours, timezone, at):
        return at
    zone = ZoneInfo(timezone)
    today = at.astimezone(zone).date()
    starts = []
    for offset in range(8):  # every weekday comes round within a week, and once more
        day = today + timedelta(days=offset)
        for entry in weekly_hours:
            entry_day, _, span = entry.partition(" ")
            if entry_day == DAYS[day.weekday()]:
                start = _minutes(span.partition("-")[0])
                wall = datetime.combine(day, time(start // 60 % 24, start % 60), tzinfo=zone)
                if (moment := wall.astimezone(UTC)) > at:
                    starts.append(moment)
    return min(starts, default=at)


def _days(text: str) -> list[int]:
    if text in ("daily", "every day"):
        return list(range(7))
    days: list[int] = []
    for chunk in re.split(r"\s*,\s*", text):
        ends = [w.strip().rstrip(".") for w in re.split(r"\s*[-–]\s*", chunk)]
        if len(ends) > 2 or any(w not in _DAY_WORDS for w in ends):
            raise HoursError(text)
        first, last = _DAY_WORDS[ends[0]], _DAY_WORDS[ends[-1]]
        days.extend((first + i) % 7 for i in range((last - first) % 7 + 1))
    return days


def _minutes(text: str) -> int:
    hours, _, minutes = text.partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if int(hours) > 24 or int(minutes or 0) > 59 or value > 24 * 60:
        raise HoursError(text)
    return value


def _entry(day: int, start: int, end: int) -> str:
    return f"{DAYS[day]} {start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
