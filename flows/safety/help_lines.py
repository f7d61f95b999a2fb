"""The help lines she is shown, from the help directory, written out in her language.

Both the danger guard (help at once on a signal) and the referral flow (help she asks for) show
these; a broken directory falls back to the numbers that must never be missing.
"""

import logging

from flows.context import FlowContext
from flows.safety.directory import HelpService, load_directory
from i18n import N_, translate

log = logging.getLogger(__name__)

# What she can name, and the directory kinds that answer it, most fitting first.
HELP_KINDS: dict[str, tuple[str, ...]] = {
    "home": ("domestic_violence", "victims_of_crime", "emotional_crisis"),
    "sexual": ("sexual_violence", "domestic_violence", "victims_of_crime"),
    "exploited": ("trafficking", "migrants_legal_aid"),
    "self": ("emotional_crisis",),
    "other": ("domestic_violence", "emotional_crisis", "victims_of_crime", "migrants_legal_aid"),
}
SIGNAL_KINDS = {"violence": HELP_KINDS["home"], "self_harm": HELP_KINDS["self"]}
EMERGENCY = "emergency"
# Help lines that only serve children are not what an adult woman in danger needs first.
LEAVE_OUT = frozenset({"children"})


# Shown only if the directory cannot be read: the numbers that must never be missing, in her
# language (the catalog text carries them).
FALLBACK_LINES = N_("referral.fallback_services")


def kinds_for_signal(label: str) -> tuple[str, ...]:
    return SIGNAL_KINDS.get(label, HELP_KINDS["other"])


def _services(ctx: FlowContext, kinds: tuple[str, ...]) -> list[HelpService]:
    """Directory entries for these kinds in this order, each once."""
    country = getattr(ctx.config, "help_country", "PL") or "PL"
    directory = load_directory()
    chosen: list[HelpService] = []
    seen: set[str] = set()
    for kind in kinds:
        for service in directory.services(country=country, kinds=[kind]):
            if service.id in seen or (service.kinds and set(service.kinds) <= LEAVE_OUT):
                continue
            seen.add(service.id)
            chosen.append(service)
    return chosen


# Polish mobile prefixes: these numbers are written 3-3-3, landlines 2-3-2-2 after the area code.
_PL_MOBILE = ("45", "50", "51", "53", "57", "60", "66", "69", "72", "73", "78", "79", "88")


def display_phone(phone: str) -> str:
    """The number as people write it ("+48 22 628 01 20", "800 120 002"), still tappable."""
    digits = phone.lstrip("+")
    if not digits.isdigit():
        return phone
    if phone.startswith("+48") and len(digits) == 11:
        national = digits[2:]
        if national.startswith(_PL_MOBILE) or national.startswith("80"):
            return f"+48 {national[:3]} {national[3:6]} {national[6:]}"
        return f"+48 {national[:2]} {national[2:5]} {national[5:7]} {national[7:]}"
    if not phone.startswith("+") and len(digits) in (6, 9):
        return " ".join(digits[i : i + 3] for i in range(0, len(digits), 3))
    return phone


def _service_line(language: str, service: HelpService) -> str:
    descriptions = service.descriptions or {}
    description = descriptions.get(language) or descriptions.get("en") or ""
    hours = service.opening_hours(language) or translate(language, "referral.hours_always")
    # Hours and "free" in her words, joined the way her language joins them.
    text_id = "referral.hours_free" if service.free else "referral.hours"
    when = translate(language, text_id, {"hours": hours})
    # The number stands alone on its line so Telegram and WhatsApp make it tappable.
    lines = [f"• {service.name}", f"☎ {display_phone(service.phone)} ({when})"]
    if description:
        lines.append(" ".join(description.split()))
    return "\n".join(lines)


def services_text(
    ctx: FlowContext, kinds: tuple[str, ...], *, emergency_first: bool = False
) -> str:
    """The services for `kinds` as lines in her language; 112 first in danger, last otherwise."""
    language = ctx.language
    try:
        services = _services(ctx, kinds)
        emergency = _services(ctx, (EMERGENCY,))
    except Exception:  # a broken directory must never leave her without a number
        log.exception("help directory unavailable; showing the built-in numbers")
        return translate(language, FALLBACK_LINES)
    ids = {service.id for service in emergency}
    services = [service for service in services if service.id not in ids]
    ordered = [*emergency, *services] if emergency_first else [*services, *emergency]
    return "\n\n".join(_service_line(language, service) for service in ordered)
