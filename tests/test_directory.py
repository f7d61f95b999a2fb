"""The help directory: the shipped Polish file, and validation that names file and line."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from flows.safety.directory import (
    DEFAULT_DIRECTORY_DIR,
    DESCRIPTION_LANGUAGES,
    KINDS,
    DirectoryError,
    check_directory,
    load_directory,
)

REFERRAL_KINDS = ("emergency", "domestic_violence", "sexual_violence", "trafficking",
                  "emotional_crisis")  # fmt: skip
# The only numbers Peerline may offer in Poland, as agreed with the coordinators.
POLISH_NUMBERS = {
    "112", "800120002", "116123", "+48226280120", "+48605687750", "+48222309900", "800012948",
    "116111",
}  # fmt: skip
RTL = re.compile(r"[\u0600-\u06FF]")


def test_shipped_directory_loads() -> None:
    directory = load_directory()
    assert directory.countries() == ["PL"]
    assert len(directory) == len(POLISH_NUMBERS)
    assert {s.phone for s in directory.services("PL")} == POLISH_NUMBERS


@pytest.mark.parametrize("kind", REFERRAL_KINDS)
def test_every_kind_the_referral_flow_needs_has_a_service(kind: str) -> None:
    assert load_directory().services("PL", kinds=[kind])


def test_emergency_comes_first_when_asked_for() -> None:
    directory = load_directory()
    assert directory.services("PL")[0].phone == "112"
    assert directory.services("pl", kinds=["trafficking", "emergency"])[0].phone == "112"
    trafficking = directory.services("PL", kinds=["trafficking"])
    assert {s.phone for s in trafficking} == {"+48226280120", "+48605687750"}


def test_the_polish_facts_that_matter() -> None:
    directory = load_directory()
    emergency = directory.service("emergency_112")
    assert emergency.free and emergency.hours == "24/7" and "SIM" in emergency.description("en")
    blue_line = directory.service("niebieska_linia")
    assert (blue_line.phone, blue_line.free, blue_line.hours) == ("800120002", True, "24/7")
    crisis = directory.service("crisis_line_116123")
    assert crisis.kinds == ("emotional_crisis",) and crisis.free and crisis.hours == "24/7"
    assert directory.service("kcik_trafficking").hours == "24/7"
    assert directory.service("victims_of_crime_line").hours == "24/7"
    assert directory.service("children_116111").kinds == ("children",)
    assert directory.service("unhcr_poland").tel_uri == "tel:800012948"


def test_no_801_number_anywhere() -> None:
    for path in DEFAULT_DIRECTORY_DIR.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        digits = re.sub(r"(?<=\d)[\s-]+(?=\d)", "", text)  # "801 12 00 02" -> "801120002"
        assert not re.search(r"(?<!\d)(?:\+?48)?0?801\d{6}(?!\d)", digits), path.name
    for service in load_directory().services("PL"):
        assert not re.sub(r"^\+48", "", service.phone).startswith("801"), service.id


def test_every_service_speaks_to_her_in_six_languages() -> None:
    for service in load_directory().services("PL"):
        assert set(DESCRIPTION_LANGUAGES) <= set(service.descriptions), service.id
        assert all(len(service.description(lang)) > 40 for lang in DESCRIPTION_LANGUAGES)
        assert RTL.search(service.description("fa")) and RTL.search(service.description("ar"))
        assert service.source.startswith("https://")
        assert service.verified <= date.today() + timedelta(days=1)
        assert set(service.kinds) <= set(KINDS)


def test_an_unknown_kind_in_a_query_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown kind"):
        load_directory().services("PL", kinds=["foo"])


def test_an_unknown_country_has_no_services() -> None:
    assert load_directory().services("DE") == []


# --- Validation -----------------------------------------------------------------------------------

GOOD = """\
country: PL
regions: [mazowieckie]
services:
  - id: line_one
    name: Line one
    phone: "+48221234567"
    hours: 24/7
    free: false
    languages: [pl]
    kinds: [domestic_violence]
    descriptions:
      en: English text
      pl: Polski tekst
      uk: Український текст
      ru: Русский текст
      fa: متن فارسی
      ar: نص عربي
    source: https://example.org/line-one
    verified: 2025-01-31
"""


def write_directory(tmp_path: Path, text: str, name: str = "pl.yaml") -> Path:
    folder = tmp_path / "directory"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_a_good_file_loads(tmp_path: Path) -> None:
    directory = load_directory(write_directory(tmp_path, GOOD))
    assert [s.id for s in directory.services()] == ["line_one"]


@pytest.mark.parametrize(
    ("old", "new", "line", "problem"),
    [("kinds: [domestic_violence]", "kinds: [domestic_violence, foo]", 10, "unknown kind 'foo'"),
     ("    hours: 24/7\n", "", 4, "service is missing 'hours'"),
     ("verified: 2025-01-31", "verified: 31.01.2025", 19, "must be a date"),
     ("      ar: نص عربي\n", "", 12, "missing description language 'ar'"),
     ('phone: "+48221234567"', 'phone: "+48 22 123 45 67"', 6, "write it as dialled"),
     ("free: false", "free: maybe", 8, "free must be true or false"),
     ("source: https://", "source: http://", 18, "must be an https:// URL"),
     ("country: PL", "country: DE", 1, "must match the file name"),
     ("    name: Line one", "    name: Line one\n    colour: blue", 6, "unknown field 'colour'"),
     ("    free: false", "    free: false\n    regions: [slaskie]", 9, "region 'slaskie'"),
     ("    kinds:", "    kinds: [oops\n    x:", 11, "not valid YAML")],
)  # fmt: skip
def test_a_bad_file_names_file_line_and_problem(
    tmp_path: Path, old: str, new: str, line: int, problem: str
) -> None:
    assert old in GOOD
    folder = write_directory(tmp_path, GOOD.replace(old, new))
    with pytest.raises(DirectoryError) as caught:
        load_directory(folder)
    message = str(caught.value)
    assert message.startswith(f"pl.yaml:{line}: "), message
    assert problem in message


def test_a_date_in_the_future_is_rejected(tmp_path: Path) -> None:
    next_week = (date.today() + timedelta(days=7)).isoformat()
    folder = write_directory(tmp_path, GOOD.replace("2025-01-31", next_week))
    with pytest.raises(DirectoryError, match=r"^pl\.yaml:19: verified .* is in the future"):
        load_directory(folder)


def test_all_problems_are_collected(tmp_path: Path) -> None:
    bad = GOOD.replace("[domestic_violence]", "[foo]").replace("free: false", "free: maybe")
    report = check_directory(write_directory(tmp_path, bad))
    assert [p.split(":")[1] for p in report.problems] == ["8", "10"]


def test_regional_services_show_only_for_their_region(tmp_path: Path) -> None:
    regional = GOOD.replace("    free: false", "    free: false\n    regions: [mazowieckie]")
    directory = load_directory(write_directory(tmp_path, regional))
    assert directory.services("PL") == []
    assert [s.id for s in directory.services("PL", region="mazowieckie")] == ["line_one"]
    assert directory.services("PL", region="slaskie") == []


def test_hours_are_24_7_or_written_in_every_language(tmp_path: Path) -> None:
    english = GOOD.replace("hours: 24/7", "hours: Mon–Fri 9–17")
    with pytest.raises(DirectoryError, match=r"pl.yaml:7: hours 'Mon–Fri 9–17': write 24/7"):
        load_directory(write_directory(tmp_path, english))
    texts = {
        "en": "Mon–Fri 9–17",
        "pl": "pon.–pt. 9–17",
        "uk": "пн–пт 9–17",
        "ru": "пн–пт 9–17",
        "fa": "دوشنبه تا جمعه 9–17",
        "ar": "من الاثنين إلى الجمعة 9–17",
    }
    block = "hours:\n" + "".join(f"      {k}: {v}\n" for k, v in texts.items())
    missing = GOOD.replace(
        "hours: 24/7\n", block.replace("      ar: من الاثنين إلى الجمعة 9–17\n", "")
    )
    with pytest.raises(DirectoryError, match="hours: missing language 'ar'"):
        load_directory(write_directory(tmp_path, missing))
    service = load_directory(write_directory(tmp_path, GOOD.replace("hours: 24/7\n", block)))
    line = service.services()[0]
    assert line.opening_hours("fa") == texts["fa"] and line.opening_hours("pl") == texts["pl"]
    assert load_directory().service("emergency_112").opening_hours("fa") is None  # 24/7


def test_an_entry_checked_long_ago_is_stale() -> None:
    service = load_directory().service("crisis_line_116123")
    assert not service.stale(service.verified + timedelta(days=180))
    assert service.stale(service.verified + timedelta(days=181))
