"""Texts whose words agree with a number, and which parameter carries that number.

Declared here, beside the catalogs, because agreement belongs to the text and not to the place
that sends it: the flows pass the number as before and the catalog picks the form (CLDR rules,
1 / 2–4 / 5+ in Polish, six forms in Arabic).
"""

from babel import Locale


def NP_(text_id: str) -> str:
    """Marks a text id as plural for extraction (it becomes an entry with msgid_plural)."""
    return text_id


COUNTED: dict[str, str] = {
    NP_("safety.flood_notice"): "seconds",
    NP_("match.waiting"): "minutes",
    NP_("match.waiting_busy"): "minutes",
    NP_("match.alert_unmatched"): "minutes",
    NP_("intake.about"): "days",
    NP_("intake.welcome"): "days",
    NP_("intake.note_too_long"): "limit",
    NP_("report.ask_excerpt_text"): "limit",
    NP_("coord.invite_code"): "hours",
    NP_("coord.invite_link"): "hours",
    NP_("onboard.alias_length"): "high",
    NP_("onboard.ask_alias"): "high",
    NP_("care.estimate"): "minutes",
    NP_("care.alert_still_waiting"): "minutes",
}

# The order of the forms in a catalog, as GNU gettext and CLDR give them for integers.
CLDR_ORDER = ("zero", "one", "two", "few", "many", "other")
FORMS: dict[str, tuple[str, ...]] = {
    "en": ("one", "other"),
    "pl": ("one", "few", "many"),
    "uk": ("one", "few", "many"),
    "ru": ("one", "few", "many"),
    "fa": ("other",),
    "ar": ("zero", "one", "two", "few", "many", "other"),
}


def forms_of(language: str) -> tuple[str, ...]:
    """The plural categories a catalog in `language` has, in catalog order."""
    if language in FORMS:
        return FORMS[language]
    tags = Locale.parse(language).plural_form.tags | {"other"}
    return tuple(tag for tag in CLDR_ORDER if tag in tags)
