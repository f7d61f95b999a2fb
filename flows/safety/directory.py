"""Help directory: the lines a woman can call, per country, checked before anyone is sent there.

A wrong or outdated number given to someone in danger is worse than none, so every file in
``flows/safety/data/directory/<country>.yaml`` is validated on load (fields, kinds, dates, all six
description languages) and problems are reported as ``file:line: problem``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import yaml

from flows.data_files import yaml_problem

DEFAULT_DIRECTORY_DIR = Path(__file__).parent / "data" / "directory"

KINDS = (
    "emergency", "domestic_violence", "sexual_violence", "trafficking", "emotional_crisis",
    "victims_of_crime", "migrants_legal_aid", "shelter", "children",
)  # fmt: skip
DESCRIPTION_LANGUAGES = ("en", "pl", "uk", "ru", "fa", "ar")

_REQUIRED = (
    "id", "name", "phone", "hours", "free", "languages", "kinds", "descriptions", "source",
    "verified",
)  # fmt: skip
_OPTIONAL = ("regions", "note")
_TOP_KEYS = ("country", "notes", "regions", "services")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_PHONE = re.compile(r"^(\+[1-9]\d{6,14}|\d{3,12})$")  # E.164, or a national/short number
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_REGION = re.compile(r"^[a-z][a-z0-9_-]*$")
_BOOLS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


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

    def description(self, language: str) -> str:
        """The description in her language, English when that one is missing."""
        return self.descriptions.get(language) or self.descriptions["en"]

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


class _FileReader:
    """Reads one country file node by node, collecting ``file:line: problem`` messages."""

    def __init__(self, path: Path, report: DirectoryReport) -> None:
        self.path = path
        self.report = report
        self.ok = True

    def problem(self, node: yaml.Node | None, text: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.report.problems.append(f"{self.path.name}:{line}: {text}")
        self.ok = False

    def mapping(self, node: yaml.Node, what: str) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping of keys to values")
            return None
        result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else ""
            if name in result:
                self.problem(key, f"duplicate key {name!r} in {what}")
            result[name] = (key, value)
        return result

    def text(self, node: yaml.Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
            self.problem(node, f"{what} must be non-empty text")
            return None
        return str(node.value).strip()

    def texts(self, node: yaml.Node, what: str) -> list[tuple[yaml.Node, str]]:
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            self.problem(node, f"{what} must be a non-empty list")
            return []
        found = [(item, self.text(item, f"each of {what}")) for item in node.value]
        return [(item, value) for item, value in found if value is not None]

    def read(self) -> None:
        try:
            root = yaml.compose(self.path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            self.report.problems.append(f"{self.path.name}:{yaml_problem(error)}")
            return
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            self.report.problems.append(f"{self.path.name}:1: cannot read: {error}")
            return
        if root is None:
            self.report.problems.append(f"{self.path.name}:1: the file is empty")
            return
        top = self.mapping(root, "the file")
        if top is None:
            return
        for name, (key, _) in top.items():
            if name not in _TOP_KEYS:
                self.problem(key, f"unknown key {name!r} (known: {', '.join(_TOP_KEYS)})")
        country = self._country(root, top)
        regions = self._regions(top)
        if "services" not in top:
            self.problem(root, "missing key 'services'")
            return
        services_node = top["services"][1]
        if not isinstance(services_node, yaml.SequenceNode) or not services_node.value:
            self.problem(services_node, "services must be a non-empty list")
            return
        seen: set[str] = set()
        for item in services_node.value:
            service = self._service(item, country or "", regions)
            if service is None:
                continue
            if service.id in seen:
                self.problem(item, f"duplicate service id {service.id!r}")
                continue
            seen.add(service.id)
            self.report.services.append(service)

    def _country(self, root: yaml.Node, top: dict[str, tuple[yaml.Node, yaml.Node]]) -> str | None:
        if "country" not in top:
            self.problem(root, "missing key 'country'")
            return None
        country = self.text(top["country"][1], "country")
        if country is not None and country != self.path.stem.upper():
            self.problem(top["country"][1], f"country {country!r} must match the file name")
        return country

    def _regions(self, top: dict[str, tuple[yaml.Node, yaml.Node]]) -> set[str]:
        if "regions" not in top:
            return set()
        regions = set()
        for node, region in self.texts(top["regions"][1], "regions"):
            if not _REGION.match(region):
                self.problem(node, f"region {region!r}: use lower-case letters, digits, - or _")
            regions.add(region)
        return regions

    def _service(self, node: yaml.Node, country: str, regions: set[str]) -> HelpService | None:
        fields = self.mapping(node, "a service")
        if fields is None:
            return None
        before = len(self.report.problems)
        for name, (key, _) in fields.items():
            if name not in _REQUIRED + _OPTIONAL:
                self.problem(key, f"unknown field {name!r}")
        for name in _REQUIRED:
            if name not in fields:
                self.problem(node, f"service is missing {name!r}")
        if len(self.report.problems) > before:
            return None
        values: dict[str, object] = {}
        for name in ("id", "name", "phone", "hours", "source"):
            values[name] = self.text(fields[name][1], name)
        service_id, phone, source = values["id"], values["phone"], values["source"]
        if isinstance(service_id, str) and not _ID.match(service_id):
            self.problem(fields["id"][1], f"id {service_id!r}: use lower-case letters, digits, _")
        if isinstance(phone, str) and not _PHONE.match(phone):
            self.problem(
                fields["phone"][1],
                f"phone {phone!r}: write it as dialled, digits only, e.g. '+48226280120' or '112'",
            )
        if isinstance(source, str) and not source.startswith("https://"):
            self.problem(fields["source"][1], f"source {source!r} must be an https:// URL")
        free = self._bool(fields["free"][1], "free")
        languages = []
        for language_node, language in self.texts(fields["languages"][1], "languages"):
            if not _LANGUAGE.match(language):
                self.problem(language_node, f"language {language!r}: use a code such as 'uk'")
            languages.append(language)
        kinds = []
        for kind_node, kind in self.texts(fields["kinds"][1], "kinds"):
            if kind not in KINDS:
                self.problem(kind_node, f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
            kinds.append(kind)
        descriptions = self._descriptions(fields["descriptions"][1])
        verified = self._date(fields["verified"][1])
        service_regions: tuple[str, ...] = ()
        if "regions" in fields:
            service_regions = tuple(v for _, v in self.texts(fields["regions"][1], "regions"))
            for region in service_regions:
                if region not in regions:
                    self.problem(fields["regions"][1], f"region {region!r} is not in 'regions'")
        if len(self.report.problems) > before:
            return None
        return HelpService(
            id=str(service_id),
            name=str(values["name"]),
            phone=str(phone),
            hours=str(values["hours"]),
            free=bool(free),
            languages=tuple(languages),
            kinds=tuple(kinds),
            descriptions=descriptions,
            source=str(source),
            verified=verified or date.min,
            country=country,
            regions=service_regions,
        )

    def _bool(self, node: yaml.Node, what: str) -> bool | None:
        value = str(node.value).lower() if isinstance(node, yaml.ScalarNode) else ""
        if value not in _BOOLS:
            self.problem(node, f"{what} must be true or false")
            return None
        return _BOOLS[value]

    def _date(self, node: yaml.Node) -> date | None:
        value = str(node.value) if isinstance(node, yaml.ScalarNode) else ""
        try:
            verified = date.fromisoformat(value)
        except ValueError:
            self.problem(node, f"verified {value!r} must be a date like 2026-01-31")
            return None
        if verified > date.today() + timedelta(days=1):  # a day of slack for time zones
            self.problem(node, f"verified {value!r} is in the future")
            return None
        return verified

    def _descriptions(self, node: yaml.Node) -> dict[str, str]:
        fields = self.mapping(node, "descriptions")
        if fields is None:
            return {}
        result: dict[str, str] = {}
        for language, (key, value) in fields.items():
            if not _LANGUAGE.match(language):
                self.problem(key, f"description language {language!r}: use a code such as 'uk'")
            text = self.text(value, f"description {language!r}")
            if text is not None:
                result[language] = " ".join(text.split())
        for language in DESCRIPTION_LANGUAGES:
            if language not in fields:
                self.problem(node, f"missing description language {language!r}")
        return result


def check_directory(directory_dir: Path | None = None) -> DirectoryReport:
    """Read every country file in a folder and report all problems, not just the first."""
    folder = Path(directory_dir or DEFAULT_DIRECTORY_DIR)
    report = DirectoryReport()
    files = sorted(folder.glob("*.yaml"))
    if not files:
        report.problems.append(f"{folder.name}:0: no *.yaml directory files in {folder}")
    for path in files:
        report.files += 1
        _FileReader(path, report).read()
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
