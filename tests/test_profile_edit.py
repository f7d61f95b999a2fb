"""A supporter edits her profile after approval: what needs a coordinator's OK waits for it
(she is matched on what she had until then), what does not applies at once; all audited."""

import pytest
from sqlalchemy import select

from bot.settings import SettingsError, load_settings
from i18n import translate
from models import AuditEntry, SupporterProfile
from tests.support import World, running_service

OFFER = "Can you take"


async def profile_of(service, person):
    async with service.session_factory() as session:
        return await session.get(SupporterProfile, (await person.participant()).id)


async def actions(service):
    async with service.session_factory() as session:
        return (
            (await session.execute(select(AuditEntry.action).order_by(AuditEntry.id)))
            .scalars()
            .all()
        )


async def test_a_new_language_waits_for_a_coordinator_and_matching_follows_the_approval(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        helper = await world.supporter("s1", alias="Sup s1", topics=["work"])
        await helper.command("profile")
        summary = helper.texts[-1]
        assert "Languages: English" in summary and "Topics: Work" in summary
        assert "up to 2" in summary
        assert helper.choices("profile:edit") == [
            f"profile:edit:{f}" for f in ("languages", "topics", "excluded", "capacity", "hours")
        ]
        await helper.tap("profile:edit:languages")
        assert helper.choices("profile:lang") == [f"profile:lang:{c}" for c in
                                                  ("en", "pl", "uk", "ru", "fa", "ar")]  # fmt: skip
        await helper.tap("profile:lang:pl")
        await helper.tap("profile:save")
        assert helper.texts[-1].startswith("Thank you. A coordinator will look at this change")
        assert "Waiting for a coordinator's OK: languages" in helper.texts[-2]
        alert = coordinator.texts[-1]
        assert "Sup s1 would like to change her profile (languages)" in alert
        assert "Now: English" in alert and "Would like: English, Polski" in alert

        # Until a coordinator agrees, she is matched on what she had.
        assert (await profile_of(service, helper)).languages == ["en"]
        polish = await world.seeker("h1", language="pl", alias="Her 1")
        await world.ask_for_help(polish)
        assert not any(OFFER in t for t in helper.texts)

        await coordinator.command("pending")  # the change waits there too, with its buttons
        assert coordinator.texts[-1] == alert
        [approve, keep] = coordinator.choices("profile:")
        assert approve.startswith("profile:approve:") and keep.startswith("profile:decline:")
        await helper.tap("profile:done")  # she is back where she was; the change still waits
        assert helper.texts[-1] == translate("en", "profile.closed")
        await coordinator.tap(approve)
        assert coordinator.texts[-1].startswith("Approved: Sup s1 gets requests with her new")
        assert helper.texts[-1].startswith("A coordinator approved your change (languages)")
        profile = await profile_of(service, helper)
        assert profile.languages == ["en", "pl"] and profile.pending_change is None
        await coordinator.tap(approve)  # an old button approves nothing twice
        assert coordinator.texts[-1] == translate("en", "coord.profile_change_gone")

        second = await world.seeker("h2", language="pl", alias="Her 2")
        await world.ask_for_help(second)
        assert any(OFFER in t for t in helper.texts)
        assert await actions(service) == [
            "supporter.profile_change_request", "supporter.profile_change_approve",
        ]  # fmt: skip


async def test_capacity_and_hours_apply_at_once_and_taking_on_less_never_waits(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        helper = await world.supporter("s1", alias="Sup s1", languages=["en", "uk"],
                                       topics=["work", "housing"])  # fmt: skip
        before = len(coordinator.texts)
        await helper.command("profile")
        await helper.tap("profile:edit:capacity")
        await helper.tap("profile:capacity:4")
        assert helper.texts[-1] == translate("en", "profile.saved")
        await helper.tap("profile:edit:hours")
        await helper.text("mon-fri 18-22")
        assert helper.texts[-1] == translate("en", "profile.saved")
        await helper.tap("profile:edit:hours")
        await helper.text("whenever I can")  # not readable: asked again with the example
        assert helper.texts[-2] == translate("en", "onboard.hours_invalid")
        await helper.tap("profile:back")
        await helper.tap("profile:edit:languages")
        await helper.tap("profile:lang:uk")  # fewer languages: less to take on
        await helper.tap("profile:save")
        await helper.tap("profile:edit:excluded")
        assert "profile:topic:work" not in helper.choices("profile:topic")  # one she takes
        await helper.tap("profile:topic:violence")
        await helper.tap("profile:save")
        profile = await profile_of(service, helper)
        assert profile.capacity == 4 and profile.weekly_hours[0] == "mon 18:00-22:00"
        assert profile.languages == ["en"] and profile.excluded_topics == ["violence"]
        assert profile.pending_change is None
        assert len(coordinator.texts) == before  # nothing for a coordinator to approve
        assert await actions(service) == ["supporter.profile_change"] * 4


async def test_a_coordinator_can_keep_it_as_it_was_and_the_programme_chooses_what_waits(
    database_url,
):
    async with running_service(database_url, profile_reapproval="capacity") as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        helper = await world.supporter("s1", alias="Sup s1")
        await helper.command("profile")
        await helper.tap("profile:edit:languages")
        await helper.tap("profile:lang:ar")
        await helper.tap("profile:save")  # languages do not wait here
        await helper.tap("profile:edit:capacity")
        await helper.tap("profile:capacity:5")
        assert "Waiting for a coordinator's OK: how many at once" in helper.texts[-2]
        await coordinator.tap(coordinator.choices("profile:decline")[0])
        assert (
            coordinator.texts[-1]
            == "Kept as it was: Sup s1's profile (how many at once). She is told."
        )
        assert helper.texts[-1].startswith("A coordinator kept your profile as it was")
        profile = await profile_of(service, helper)
        assert profile.languages == ["en", "ar"] and profile.capacity == 2
        assert profile.pending_change is None
        assert "supporter.profile_change_keep" in await actions(service)


async def test_profile_is_for_approved_supporters_and_buttons_do_not_approve_for_others(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1")
        await her.command("profile")
        assert her.texts[-1] == translate("en", "intake.unknown_command")
        waiting = await world.supporter("s2", alias="Sup s2", approved=False)
        await waiting.command("profile")
        assert waiting.texts[-1] == translate("en", "onboard.still_waiting")
        helper = await world.supporter("s1", alias="Sup s1")
        await helper.command("profile")
        await helper.tap("profile:edit:topics")
        await helper.tap("profile:topic:health")
        await helper.tap("profile:save")
        tag = f"{(await helper.participant()).id}:topics:0"
        await helper.tap(f"profile:approve:{tag}")  # her own change: not hers to approve
        assert (await profile_of(service, helper)).topics == []
        await helper.command("help")
        assert "/profile" in helper.texts[-2] or "/profile" in helper.texts[-1]


def test_the_programme_names_what_waits_in_a_setting_checked_at_start():
    def waits(value=None):
        extra = {} if value is None else {"profile_reapproval": value}
        return load_settings(_env_file=None, **extra).profile_reapproval

    assert waits() == "languages,topics"
    assert waits("Hours, capacity") == "capacity,hours" and waits("none") == ""
    with pytest.raises(SettingsError, match="PROFILE_REAPPROVAL"):
        waits("languages,alias")
