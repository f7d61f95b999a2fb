"""Help directory: the lines a woman can call, per country, checked before anyone is sent there.

A wrong or outdated number given to someone in danger is worse than none, so every file in
``flows/safety/data/directory/<country>.yaml`` is validated on load (fields, kinds, dates, all six
description languages, hours that are 24/7 or written in all six) and problems are reported as
``file:line: problem``; an entry not checked for too long is reported as stale.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, field_validator
from pydantic.functional_validators import PlainValidator

from flows.data_files import DataModel, Flag, Text, check_file, problem

DEFAULT_DIRECTORY_DIR = Path(__file__).parent / "data" / "directory"

KINDS = (
    "emergency", "domestic_violence", "sexual_violence", "trafficking", "emotional_crisis",
    "victims_of_crime", "migrants_legal_aid", "shelter", "children",
)  # fmt: skip
DESCRIPTION_LANGUAGES = ("en", "pl", "uk", "ru", "fa", "ar")
ALWAYS = "24/7"  # the one hours value written as is; each language says it in its own words
FACTS = ("name", "phone", "hours", "free", "languages", "kinds", "descriptions")
STALE_AFTER_DAYS = 180  # an entry checked longer ago than this is reported as stale

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_PHONE = re.compile(r"^(\+[1-9]\d{6,14}|\d{3,12})$")  # E.164, or a national/short number
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_REGION = re.compile(r"^[a-z][a-z0-9_-]*$")


class DirectoryError(ValueError):
    """A directory file cannot be used; the message reads ``file:line: problem``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0] if problems else "unknown problem")
        self.problems = problems


@dataclass(frozen=True)
class HelpService:
    """One help line: what it is for, when it answers, in which languages, and where it is from."""

    id: str
    name: str
    phone: str  # as dialled: E.164 ("+48226280120") or a national/short number ("112")
    hours: str
    free: bool  # the call itself costs nothing
    languages: tuple[str, ...]  # languages the line answers in
    kinds: tuple[str, ...]
    descriptions: dict[str, str] = field(hash=False)  # language code -> text
    source: str  # URL of the official page the entry was checked against
    verified: date  # when it was last checked against that page
    country: str = ""
    regions: tuple[str, ...] = ()  # empty: the whole country
    opening: dict[str, str] = field(default_factory=dict, hash=False)  # hours, per language

    def description(self, language: str) -> str:
        """The description in her language, English when that one is missing."""
        return self.descriptions.get(language) or self.descriptions["en"]

    def opening_hours(self, language: str) -> str | None:
        """When the line answers, in her language; None when it always does (24/7)."""
        if self.hours == ALWAYS:
            return None
        return self.opening.get(language) or self.opening.get("en") or self.hours

    def stale(self, today: date, after_days: int = STALE_AFTER_DAYS) -> bool:
        """Whether the entry was last checked too long ago to be trusted without a new check."""
        return (today - self.verified).days > after_days

    @property
    def tel_uri(self) -> str:
        """A ``tel:`` link for a call button."""
        return f"tel:{self.phone}"


class Directory:
    """All loaded services, by country; build it with `load_directory`."""

    def __init__(self, by_country: dict[str, list[HelpService]]) -> None:
        self._by_country = by_country

    def countries(self) -> list[str]:
        return sorted(self._by_country)

    def services(
        self, country: str = "PL", kinds: Iterable[str] | None = None, region: str | None = None
    ) -> list[HelpService]:
        """Services of a country that offer any of ``kinds`` (all when None).

        Nationwide services always, regional ones only for the region asked. Emergency services
        come first whenever they are among those asked for, so 112 tops the list in danger.
        An unknown country gives an empty list; an unknown kind is a programming error.
        """
        wanted = None if kinds is None else set(kinds)
        if wanted is not None and (unknown := wanted - set(KINDS)):
            raise ValueError(f"unknown kind(s): {', '.join(sorted(unknown))}")
        found = [
            s
            for s in self._by_country.get(country.upper(), [])
            if (wanted is None or wanted & set(s.kinds))
            and (not s.regions or (region is not None and region in s.regions))
        ]
        if wanted is None or "emergency" in wanted:
            found.sort(key=lambda s: "emergency" not in s.kinds)  # stable: file order otherwise
        return found

    def service(self, service_id: str, country: str = "PL") -> HelpService:
        for s in self._by_country.get(country.upper(), []):
            if s.id == service_id:
                return s
        raise KeyError(f"no service {service_id!r} in {country.upper()}")

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_country.values())


# --- Loading and validation ----------------------------------------------------------------------


@dataclass
class DirectoryReport:
    """What `check_directory` found: the services it could read and every problem."""

    services: list[HelpService] = field(default_factory=list)
    files: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass
class _Reading:
    """What one country file has told so far: its regions and the service ids already seen."""

    country: str
    regions: set[str] = field(default_factory=set)
    ids: set[str] = field(default_factory=set)


def _matches(pattern: re.Pattern[str], problem_text: str) -> Any:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise problem(problem_text.format(value=value))
        return value

    return AfterValidator(check)


def _kind(value: str) -> str:
    if value not in KINDS:
        raise problem(f"unknown kind {value!r} (known: {', '.join(KINDS)})")
    return value


def _verified(value: object) -> date:
    text = value if isinstance(value, str) else ""
    try:
        verified = date.fromisoformat(text)
    except ValueError:
        raise problem(f"verified {text!r} must be a date like 2026-01-31") from None
    if verified > date.today() + timedelta(days=1):  # a day of slack for time zones
        raise problem(f"verified {text!r} is in the future")
    return verified


def _hours(value: object) -> str | dict[str, str]:
    if isinstance(value, str) and value.strip() == ALWAYS:
        return ALWAYS
    if isinstance(value, dict):
        texts = {str(k): " ".join(str(v).split()) for k, v in value.items() if str(v).strip()}
        missing = [language for language in DESCRIPTION_LANGUAGES if language not in texts]
        if missing:
            raise problem(f"hours: missing language {', '.join(map(repr, missing))}")
        return texts
    raise problem(
        f"hours {value!r}: write {ALWAYS}, or one short text per language "
        f"({', '.join(DESCRIPTION_LANGUAGES)}): she must not read them in a language not hers"
    )


Language = Annotated[Text, _matches(_LANGUAGE, "language {value!r}: use a code such as 'uk'")]
DescriptionLanguage = Annotated[
    str, _matches(_LANGUAGE, "description language {value!r}: use a code such as 'uk'")
]
Region = Annotated[
    Text, _matches(_REGION, "region {value!r}: use lower-case letters, digits, - or _")
]
NonEmpty = Field(min_length=1)
_DIALLED = "phone {value!r}: write it as dialled, digits only, e.g. '+48226280120' or '112'"


class _Service(DataModel):
    """One help line as written in a country file; fields in the order they are reported."""

    noun = "a service"
    missing_text = "service is missing {name!r}"
    unknown_text = "unknown field {name!r}"
    value_nouns = {"descriptions": "description"}

    id: Annotated[Text, _matches(_ID, "id {value!r}: use lower-case letters, digits, _")]
    name: Text
    phone: Annotated[
        Text,
        _matches(
            _PHONE,
            "phone {value!r}: write it as dialled, digits only, e.g. '+48226280120' or '112'",
        ),
    ]
    hours: Annotated[Any, PlainValidator(_hours)]
    free: Flag
    languages: Annotated[list[Language], NonEmpty]
    kinds: Annotated[list[Annotated[Text, AfterValidator(_kind)]], NonEmpty]
    descriptions: dict[DescriptionLanguage, Text]
    source: Text
    verified: Annotated[date, PlainValidator(_verified)]
    regions: Annotated[list[Text], NonEmpty] = []
    note: Any = None
    checks: dict[Text, Text] = {}  # where one fact comes from when it is not `source`

    @field_validator("checks")
    @classmethod
    def _checked_facts(cls, value: dict[str, str]) -> dict[str, str]:
        for fact in value:
            if fact not in FACTS:
                raise problem(f"checks: unknown fact {fact!r} (known: {', '.join(FACTS)})")
        return value

    @field_validator("id")
    @classmethod
    def _unique_id(cls, value: str, info: ValidationInfo) -> str:
        reading: _Reading = info.context
        if value in reading.ids:
            raise problem(f"duplicate service id {value!r}")
        reading.ids.add(value)
        return value

    @field_validator("source")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise problem(f"source {value!r} must be an https:// URL")
        return value

    @field_validator("descriptions")
    @classmethod
    def _six_languages(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [language for language in DESCRIPTION_LANGUAGES if language not in value]
        if missing:
            raise problem(f"missing description language {', '.join(map(repr, missing))}")
        return {language: " ".join(text.split()) for language, text in value.items()}

    @field_validator("regions")
    @classmethod
    def _known_regions(cls, value: list[str], info: ValidationInfo) -> list[str]:
        reading: _Reading = info.context
        for region in value:
            if region not in reading.regions:
                raise problem(f"region {region!r} is not in 'regions'")
        return value

    def service(self, country: str) -> HelpService:
        return HelpService(
            id=self.id,
            name=self.name,
            phone=self.phone,
            hours=self.hours if self.hours == ALWAYS else self.hours["en"],
            opening={} if self.hours == ALWAYS else dict(self.hours),
            free=self.free,
            languages=tuple(self.languages),
            kinds=tuple(self.kinds),
            descriptions=dict(self.descriptions),
            source=self.source,
            verified=self.verified,
            country=country,
            regions=tuple(self.regions),
        )


class _CountryFile(DataModel):
    """One country's file; its regions come before its services, which may name only those."""

    country: Text
    notes: Any = None
    regions: Annotated[list[Region], NonEmpty] = []
    services: Annotated[list[_Service], NonEmpty]

    @field_validator("country")
    @classmethod
    def _named_after_file(cls, value: str, info: ValidationInfo) -> str:
        if value != info.context.country:
            raise problem(f"country {value!r} must match the file name")
        return value

    @field_validator("regions")
    @classmethod
    def _remember_regions(cls, value: list[str], info: ValidationInfo) -> list[str]:
        info.context.regions.update(value)
        return value


def check_directory(directory_dir: Path | None = None) -> DirectoryReport:
    """Read every country file in a folder and report all problems, not just the first."""
    folder = Path(directory_dir or DEFAULT_DIRECTORY_DIR)
    report = DirectoryReport()
    files = sorted(folder.glob("*.yaml"))
    if not files:
        report.problems.append(f"{folder.name}:0: no *.yaml directory files in {folder}")
    for path in files:
        report.files += 1
        country_file, problems = check_file(path, _CountryFile, _Reading(path.stem.upper()))
        report.problems += problems
        if country_file is not None:
            report.services += [s.service(country_file.country) for s in country_file.services]
    return report


def load_directory(directory_dir: Path | None = None) -> Directory:
    """Load and check the help directory; raise DirectoryError ("file:line: problem") if bad."""
    report = check_directory(directory_dir)
    if report.problems:
        raise DirectoryError(report.problems)
    by_country: dict[str, list[HelpService]] = {}
    for service in report.services:
        by_country.setdefault(service.country, []).append(service)
    return Directory(by_country)
