"""Her time: the zone from a WhatsApp number or from the time she types, and her hours."""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from bot.settings import SettingsError, load_settings
from flows.conversation.reach import next_reachable, zone_for_address, zone_from_her_time

CONFIG = SimpleNamespace(timezone="Europe/Warsaw", reach_hours="09:00-21:00")


def her(timezone=None, reach_hours=None):
    return SimpleNamespace(timezone=timezone, reach_hours=reach_hours)


def test_a_whatsapp_number_gives_her_country_zone_only_where_it_has_one():
    assert zone_for_address("whatsapp", "whatsapp:+380501234567") == "Europe/Kyiv"
    assert zone_for_address("whatsapp", "whatsapp:+48600123456") == "Europe/Warsaw"
    assert zone_for_address("whatsapp", "whatsapp:+963944123456") == "Asia/Damascus"
    assert zone_for_address("whatsapp", "whatsapp:+79161234567") is None  # Russia spans zones
    assert zone_for_address("telegram", "123456") is None


def test_the_time_she_types_finds_a_familiar_zone_with_that_clock():
    now = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)  # summer: Warsaw +2, Kyiv +3
    assert zone_from_her_time("12:00", now, CONFIG) == "Europe/Warsaw"
    assert zone_from_her_time("13.00", now, CONFIG) == "Europe/Kyiv"
    assert zone_from_her_time("13:30", now, CONFIG) == "Asia/Tehran"
    assert zone_from_her_time("14:30", now, CONFIG) == "Asia/Kabul"
    assert zone_from_her_time("hello", now, CONFIG) is None


def test_a_moment_outside_her_hours_moves_to_the_next_start_in_her_zone():
    night = datetime(2026, 3, 2, 22, 0, tzinfo=UTC)  # 23:00 Warsaw, 00:00 Kyiv
    assert next_reachable(her(), night, CONFIG) == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    assert next_reachable(her("Europe/Kyiv"), night, CONFIG) == datetime(
        2026, 3, 3, 7, 0, tzinfo=UTC
    )
    early = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 07:00 Warsaw, same day
    assert next_reachable(her(), early, CONFIG) == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    noon = datetime(2026, 3, 3, 11, 0, tzinfo=UTC)
    assert next_reachable(her(), noon, CONFIG) == noon
    assert next_reachable(her(reach_hours="never"), noon, CONFIG) is None
    # Hours across midnight (a night-shift worker): 20:00-02:00 her time.
    assert next_reachable(her(reach_hours="20:00-02:00"), night, CONFIG) == night


def test_the_deployment_hours_must_be_a_span():
    with pytest.raises(SettingsError, match="REACH_HOURS"):
        load_settings(_env_file=None, reach_hours="nine to five")
