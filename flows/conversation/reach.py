"""Her time: which zone she lives in and the hours in which the bot may write to her first.

Nothing the bot starts by itself (a check-in, a campaign, news while she waits) reaches her
outside those hours; a moment that falls outside them is moved to the next moment inside, never
dropped. "never" means the bot does not write first at all.
"""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models import Participant

NEVER = "never"
# Calling codes of countries that keep a single time zone, for women who write from WhatsApp:
# the best first guess until she tells us her time. Countries spanning zones are left out.
CALLING_CODE_ZONES = {
    "48": "Europe/Warsaw", "380": "Europe/Kyiv", "375": "Europe/Minsk", "49": "Europe/Berlin",
    "420": "Europe/Prague", "421": "Europe/Bratislava", "370": "Europe/Vilnius",
    "371": "Europe/Riga", "372": "Europe/Tallinn", "373": "Europe/Chisinau",
    "40": "Europe/Bucharest", "36": "Europe/Budapest", "43": "Europe/Vienna",
    "44": "Europe/London", "33": "Europe/Paris", "39": "Europe/Rome", "31": "Europe/Amsterdam",
    "32": "Europe/Brussels", "46": "Europe/Stockholm", "47": "Europe/Oslo",
    "45": "Europe/Copenhagen", "358": "Europe/Helsinki", "41": "Europe/Zurich",
    "90": "Europe/Istanbul", "995": "Asia/Tbilisi", "374": "Asia/Yerevan", "994": "Asia/Baku",
    "98": "Asia/Tehran", "93": "Asia/Kabul", "963": "Asia/Damascus", "964": "Asia/Baghdad",
    "961": "Asia/Beirut", "962": "Asia/Amman", "20": "Africa/Cairo", "966": "Asia/Riyadh",
    "971": "Asia/Dubai", "974": "Asia/Qatar", "965": "Asia/Kuwait", "967": "Asia/Aden",
    "992": "Asia/Dushanbe", "998": "Asia/Tashkent", "996": "Asia/Bishkek",
    "993": "Asia/Ashgabat", "92": "Asia/Karachi", "249": "Africa/Khartoum",
    "212": "Africa/Casablanca", "216": "Africa/Tunis", "213": "Africa/Algiers",
    "218": "Africa/Tripoli",
}  # fmt: skip


def parse_span(value: str | None) -> tuple[int, int] | None:
    """ "09:00-21:00" as minutes of the day (start, end); None when it is not such a span."""
    if not value or "-" not in value:
        return None
    bounds = []
    for part in value.split("-", 1):
        hours, _, minutes = part.strip().partition(":")
        if not (hours.isdigit() and (minutes or "0").isdigit()):
            return None
        hour, minute = int(hours), int(minutes or 0)
        if hour > 24 or minute > 59 or (hour == 24 and minute):
            return None
        bounds.append(hour * 60 + minute)
    start, end = bounds
    return (start, end) if start != end else None


def zone_for_address(channel: str, address: str) -> str | None:
    """A WhatsApp number's country, when that country keeps one time zone; else None."""
    if channel != "whatsapp":
        return None
    digits = "".join(ch for ch in address.removeprefix("whatsapp:") if ch.isdigit())
    for length in (3, 2, 1):
        if (zone := CALLING_CODE_ZONES.get(digits[:length])) is not None:
            return zone
    return None


def zone_of(person: Participant, config: object) -> ZoneInfo:
    for name in (person.timezone, getattr(config, "timezone", None), "UTC"):
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def span_of(person: Participant, config: object) -> tuple[int, int] | None:
    """Her hours (start, end in minutes, her time), or None when she said "never"."""
    if person.reach_hours == NEVER:
        return None
    return (
        parse_span(person.reach_hours)
        or parse_span(getattr(config, "reach_hours", None))
        or (9 * 60, 21 * 60)
    )


def _inside(minute: int, span: tuple[int, int]) -> bool:
    start, end = span
    return start <= minute < end if start < end else (minute >= start or minute < end)


def next_reachable(person: Participant, at: datetime, config: object) -> datetime | None:
    """The first moment at or after `at` inside her hours (UTC), or None if she said "never"."""
    span = span_of(person, config)
    if span is None:
        return None
    zone = zone_of(person, config)
    local = at.astimezone(zone)
    if _inside(local.hour * 60 + local.minute, span):
        return at
    start = span[0]
    day = local.date()
    for _ in range(3):
        wall = datetime.combine(day, time(start // 60 % 24, start % 60), tzinfo=zone)
        if wall.astimezone(UTC) > at:
            return wall.astimezone(UTC)
        day += timedelta(days=1)
    return at + timedelta(days=1)  # not reached: some start lies within three days


def zone_from_her_time(typed: str, now: datetime, config: object) -> str | None:
    """The zone whose clock shows the time she typed ("14:30", "2"), preferring familiar ones.

    The deployment's own zone comes first, then the zones of the calling-code table; failing
    those, a fixed offset (which does not follow summer time).
    """
    text = typed.strip().replace(".", ":").replace("h", ":")
    hours, _, minutes = text.partition(":")
    if not hours.isdigit() or not (minutes.strip() or "0").isdigit():
        return None
    hour, minute = int(hours), int(minutes.strip() or 0)
    if hour > 23 or minute > 59:
        return None
    utc = now.astimezone(UTC)
    told = hour * 60 + minute
    offset = (told - (utc.hour * 60 + utc.minute) + 12 * 60) % (24 * 60) - 12 * 60
    offset = round(offset / 15) * 15
    candidates = [getattr(config, "timezone", None), *dict.fromkeys(CALLING_CODE_ZONES.values())]
    for name in candidates:
        if not name:
            continue
        shift = utc.astimezone(ZoneInfo(name)).utcoffset()
        if shift is not None and round(shift.total_seconds() / 60) == offset:
            return name
    if offset % 60 == 0 and -12 * 60 <= offset <= 14 * 60:
        hours_east = offset // 60
        # POSIX-style names: Etc/GMT-3 is three hours east of Greenwich.
        return "UTC" if hours_east == 0 else f"Etc/GMT{-hours_east:+d}"
    return None
