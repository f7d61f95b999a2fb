"""Supporter onboarding through the real router: invites, profile, approval, the duty switch."""

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from flows.supporters.approval import Approval, approve_supporter
from flows.supporters.invites import create_invite, hash_code
from flows.weekly_hours import HoursError, is_within_hours, parse_weekly_hours
from models import AuditEntry, FlowState, Invite, Participant, SupporterProfile
from tests.support import ChatUser, running_service


async def new_invite(service, role: str = "supporter", hours: float = 72.0) -> str:
    async with service.session_factory() as session, session.begin():
        code, _ = await create_invite(session, role=role, hours=hours, actor="cli",
                                      now=service.clock.now())  # fmt: skip
    return code


def choices(messages) -> list[str]:
    return [b.choice for m in messages for b in m.buttons]


async def build_profile(user: ChatUser, alias: str = "Rose") -> list:
    """From the invite to the end of her profile (English, all defaults)."""
    await user.text(alias)
    await user.tap("onboard:lang:pl")
    await user.tap("onboard:done")
    await user.tap("onboard:topic:housing")
    await user.tap("onboard:topic:work")
    await user.tap("onboard:done")
    await user.tap("onboard:topic:violence")
    await user.tap("onboard:done")
    await user.tap("onboard:capacity:3")
    await user.text("mon-fri 18-22; sat 10-14")
    return await user.tap("onboard:tz:keep")


async def profile_of(service, user: ChatUser) -> SupporterProfile:
    me = await user.participant()
    async with service.session_factory() as session:
        return await session.get(SupporterProfile, me.id)


async def test_the_deep_link_leads_through_the_profile_to_waiting_for_approval(database_url):
    async with running_service(database_url, telegram_bot_username="peerline_bot") as service:
        code = await new_invite(service)
        user = ChatUser(service, "700")
        welcome = await user.command("start", code)
        assert "supporting other women" in welcome[0].text and "name" in welcome[1].text.lower()
        [ask_languages] = (await user.text("Rose"))[1:]
        assert ask_languages.buttons[0].label == "✓ English"  # her language, ticked already
        done = await build_profile(user)
        assert "A coordinator will look at it" in done[0].text

        me = await user.participant()
        profile = await profile_of(service, user)
        assert (me.role, me.alias) == ("supporter", "Rose")
        assert profile.languages == ["en", "pl"]
        assert profile.topics == ["housing", "work"]
        assert profile.excluded_topics == ["violence"]
        assert profile.capacity == 3
        assert profile.weekly_hours[0] == "mon 18:00-22:00"
        assert profile.weekly_hours[-1] == "sat 10:00-14:00"
        assert profile.timezone == "Europe/Warsaw"
        assert (profile.approved, profile.on_duty) == (False, False)


async def test_a_topic_she_protects_herself_from_is_never_one_she_takes(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "701")
        await user.command("start", await new_invite(service))
        await user.text("Star")
        await user.tap("onboard:done")
        await user.tap("onboard:topic:violence")
        [question] = await user.tap("onboard:done")
        # "Rather not take" does not offer what she has just chosen to help with.
        assert "onboard:topic:violence" not in choices([question])
        assert "onboard:topic:housing" in choices([question])
        await user.tap("onboard:topic:violence")  # a forged or stale press changes nothing
        await user.tap("onboard:done")
        profile = await profile_of(service, user)
        assert profile.excluded_topics == [] and profile.topics == ["violence"]


async def test_an_invite_works_only_once(database_url):
    async with running_service(database_url) as service:
        code = await new_invite(service)
        first, second = ChatUser(service, "702"), ChatUser(service, "703")
        await first.command("start", code)
        refused, _ = await second.command("start", code)
        assert "does not work" in refused.text
        assert (await first.participant()).role == "supporter"
        assert (await second.participant()).role == "seeker"


async def test_an_expired_invite_is_refused_kindly(database_url):
    async with running_service(database_url) as service:
        code = await new_invite(service, hours=2)
        service.clock.advance(2 * 3600 + 1)
        user = ChatUser(service, "704")
        refused, _ = await user.command("start", code)
        assert "expired" in refused.text and (await user.participant()).role == "seeker"


async def test_a_typed_join_code_works_on_text_only_channels(database_url):
    async with running_service(database_url) as service:
        code = await new_invite(service)
        user = ChatUser(service, "+48500100200", channel="console")
        await user.text("hi")
        spaced = f"{code[:4].lower()}-{code[4:8]} {code[8:]}"
        await user.text(f"join {spaced}")
        assert (await user.participant()).role == "supporter"


async def test_invite_codes_are_never_stored_in_clear(database_url):
    async with running_service(database_url, telegram_bot_username="peerline_bot") as service:
        code = await new_invite(service)
        coordinator = await a_coordinator(service, "705")
        [shown] = await coordinator.command("invite")
        chat_code = shown.text.split("join ")[-1].strip()
        await ChatUser(service, "706").command("start", code)
        async with service.session_factory() as session:
            stored = []
            for table in ("invites", "audit_log", "flow_states", "participants"):
                rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
                stored.extend(str(value) for row in rows for value in row)
            hashes = set((await session.execute(select(Invite.code_hash))).scalars())
        for clear in (code, chat_code):
            assert not any(clear in value for value in stored)
            assert hash_code(clear) in hashes


async def test_two_people_using_the_same_code_at_once_exactly_one_wins(postgres_url):
    async with running_service(postgres_url) as service:
        code = await new_invite(service)
        users = [ChatUser(service, str(800 + i)) for i in range(8)]
        for user in users:  # each exists already, so only the invite is contended
            await user.text("hi")
        await asyncio.gather(*(user.command("start", code) for user in users))
        roles = [(await user.participant()).role for user in users]
        assert roles.count("supporter") == 1 and roles.count("seeker") == 7
        async with service.session_factory() as session:
            query = select(AuditEntry).where(AuditEntry.action == "invite.use")
            uses = (await session.execute(query)).scalars().all()
        assert len(uses) == 1


@pytest.mark.parametrize("alias", ["+48 500 100 200", "rose@mail.com", "@rose_k", "t.me/rose", "R"])
async def test_an_alias_that_could_identify_her_or_is_unusable_is_refused_kindly(
    database_url, alias
):
    async with running_service(database_url) as service:
        user = ChatUser(service, "707")
        await user.command("start", await new_invite(service))
        refused, asked_again = await user.text(alias)
        assert "Please" in refused.text or "please" in refused.text
        assert "Which name" in asked_again.text
        assert (await user.participant()).alias != alias


async def test_an_alias_already_in_use_is_refused(database_url):
    async with running_service(database_url) as service:
        first, second = ChatUser(service, "708"), ChatUser(service, "709")
        await first.command("start", await new_invite(service))
        await first.text("Rose")
        await second.command("start", await new_invite(service))
        [taken, _] = await second.text("rose")
        assert "already uses this name" in taken.text


async def test_unreadable_hours_are_explained_and_asked_again(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "710")
        await user.command("start", await new_invite(service))
        await user.text("Rose")
        for choice in ("onboard:done", "onboard:topic:work", "onboard:done", "onboard:done",
                       "onboard:capacity:2"):  # fmt: skip
            await user.tap(choice)
        sorry, again = await user.text("evenings mostly")
        assert "mon-fri 18-22" in sorry.text and "onboard:hours:any" in choices([again])
        await user.tap("onboard:hours:evenings")
        await user.text("Mars/Olympus")
        assert (await profile_of(service, user)).weekly_hours != []
        async with service.session_factory() as session:
            state = await session.get(FlowState, (await user.participant()).id)
        assert state.step == "timezone"
        await user.text("Europe/Kyiv")
        assert (await profile_of(service, user)).timezone == "Europe/Kyiv"


async def test_going_on_duty_needs_a_coordinators_approval(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "711")
        await user.command("start", await new_invite(service))
        await build_profile(user)
        [refused] = await user.command("available")
        assert "approval" in refused.text
        assert (await profile_of(service, user)).on_duty is False

        async with service.session_factory() as session, session.begin():
            me = await session.get(Participant, (await user.participant()).id)
            outcome = await approve_supporter(session, me, actor="cli", now=service.clock.now())
        assert outcome == Approval.APPROVED
        told = (await user.inbox())[-1]
        assert "approved" in told.text

        on = await user.command("available")
        assert "You are available" in on[0].text
        assert (await profile_of(service, user)).on_duty is True
        await user.command("away")
        assert (await profile_of(service, user)).on_duty is False
        async with service.session_factory() as session:
            audit = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
            actions = [(a.action, a.details) for a in audit]
        assert [a for a, _ in actions if a.startswith(("duty", "supporter.approve"))] == [
            "supporter.approve", "duty.on", "duty.off"]  # fmt: skip
        assert all("Rose" not in str(details) for _, details in actions)


async def test_duty_commands_are_unknown_to_a_help_seeker(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "712")
        await user.text("hi")
        [answer] = await user.command("available")
        assert "do not know that command" in answer.text


async def test_a_coordinator_invite_makes_an_approved_coordinator(database_url):
    async with running_service(database_url) as service:
        coordinator = await a_coordinator(service, "713")
        me = await coordinator.participant()
        assert me.role == "coordinator" and (await profile_of(service, coordinator)).approved
        [menu] = (await coordinator.command("menu"))[-1:]
        assert "coord:pending" in choices([menu])


async def test_the_coordinators_are_alerted_when_a_profile_is_ready(database_url):
    async with running_service(database_url) as service:
        coordinator = await a_coordinator(service, "714")
        user = ChatUser(service, "715")
        await user.command("start", await new_invite(service))
        await build_profile(user, alias="Sunny")
        [alert] = (await coordinator.inbox())[-1:]
        assert "Sunny" in alert.text
        assert choices([alert]) == [f"coord:approve:{(await user.participant()).id}"]


async def a_coordinator(service, address: str, alias: str = "Coordinator Ada") -> ChatUser:
    user = ChatUser(service, address)
    await user.command("start", await new_invite(service, role="coordinator"))
    await user.text(alias)
    return user


# --- Weekly hours (pure) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("mon-fri 18-22; sat 10-14", ["mon 18:00-22:00", "tue 18:00-22:00", "wed 18:00-22:00",
                                      "thu 18:00-22:00", "fri 18:00-22:00", "sat 10:00-14:00"]),
        ("Sat, Sun 9:30-12", ["sat 09:30-12:00", "sun 09:30-12:00"]),
        ("fri 22-2", ["fri 22:00-24:00", "sat 00:00-02:00"]),
        ("sun-mon 20-21", ["mon 20:00-21:00", "sun 20:00-21:00"]),
        ("пн-ср 10-12", ["mon 10:00-12:00", "tue 10:00-12:00", "wed 10:00-12:00"]),
        ("pon 8-9", ["mon 08:00-09:00"]),
        ("any time", []),
        ("daily 7-8", [f"{d} 07:00-08:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat",
                                                    "sun")]),
    ],
)  # fmt: skip
def test_weekly_hours_are_read_from_what_she_types(typed, stored):
    assert parse_weekly_hours(typed) == stored


@pytest.mark.parametrize("typed", ["evenings", "mon 25-26", "mon 10-10", "xyz 10-12", "", "mon"])
def test_unreadable_weekly_hours_are_refused(typed):
    with pytest.raises(HoursError):
        parse_weekly_hours(typed)


def test_weekly_hours_are_checked_in_her_time_zone():
    hours = parse_weekly_hours("mon 18-22")
    monday_19_warsaw = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # 19:00 in Warsaw
    assert is_within_hours(hours, "Europe/Warsaw", monday_19_warsaw)
    assert is_within_hours(hours, "Asia/Tehran", monday_19_warsaw)  # 21:30 there
    assert not is_within_hours(hours, "Asia/Tokyo", monday_19_warsaw)  # 03:00 on Tuesday there
    assert is_within_hours([], "Europe/Warsaw", monday_19_warsaw)  # no hours means any time


async def test_the_supporters_menu_switches_her_duty(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "717")
        await user.command("start", await new_invite(service))
        await build_profile(user)
        async with service.session_factory() as session, session.begin():
            me = await session.get(Participant, (await user.participant()).id)
            await approve_supporter(session, me, actor="cli", now=service.clock.now())
        menu = await user.command("menu")
        assert choices(menu)[:2] == ["menu:available", "menu:away"]
        assert "menu:talk" not in choices(menu)
        await user.tap("menu:available")
        assert (await profile_of(service, user)).on_duty is True
        await user.tap("menu:away")
        assert (await profile_of(service, user)).on_duty is False


async def test_a_new_supporter_is_welcomed_in_her_apps_language(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "718", language_hint="ru")
        welcome = await user.command("start", await new_invite(service))
        assert (await user.participant()).language == "ru"
        assert "Добро пожаловать" in welcome[0].text


async def test_a_persian_alias_with_its_joining_mark_is_accepted(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "719")
        await user.command("start", await new_invite(service))
        await user.text("گل‌نار")
        assert (await user.participant()).alias == "گل‌نار"


async def test_a_help_seeker_in_her_own_conversation_keeps_her_role_and_the_code(database_url):
    async with running_service(database_url) as service:
        code = await new_invite(service)
        user = ChatUser(service, "720")
        await user.text("hi")
        for choice in ("lang:en", "intake:terms:yes", "intake:campaigns:no", "intake:safe:yes",
                       "intake:topic:work", "intake:note:skip"):  # fmt: skip
            await user.tap(choice)
        [later] = await user.command("start", code)
        assert "finish it first" in later.text
        assert (await user.participant()).role == "seeker"
        other = ChatUser(service, "721")
        await other.command("start", code)  # the code was not used up
        assert (await other.participant()).role == "supporter"


async def test_a_time_zone_is_understood_whatever_its_case(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "722")
        await user.command("start", await new_invite(service))
        await user.text("Zara")
        for choice in ("onboard:done", "onboard:topic:work", "onboard:done", "onboard:done",
                       "onboard:capacity:1", "onboard:hours:evenings"):  # fmt: skip
            await user.tap(choice)
        await user.text("europe/kyiv")
        profile = await profile_of(service, user)
        assert profile.timezone == "Europe/Kyiv" and profile.capacity == 1
        assert profile.weekly_hours[0] == "mon 18:00-22:00"


async def test_only_an_approved_supporter_on_duty_is_offered_the_waiting_requests(database_url):
    async with running_service(database_url) as service:
        supporter = ChatUser(service, "723")
        await supporter.command("start", await new_invite(service))
        await user_profile_any_time(supporter)
        seeker = ChatUser(service, "724")
        await seeker.text("hi")
        for choice in ("lang:en", "intake:terms:yes", "intake:campaigns:no", "intake:safe:yes",
                       "intake:topic:housing", "intake:note:skip"):  # fmt: skip
            await seeker.tap(choice)
        await supporter.command("available")  # refused: not approved
        assert not [m for m in await supporter.inbox() if m.kind == "offer"]

        async with service.session_factory() as session, session.begin():
            me = await session.get(Participant, (await supporter.participant()).id)
            await approve_supporter(session, me, actor="cli", now=service.clock.now())
        on_duty = await supporter.command("available")
        offers = [m for m in on_duty if m.kind == "offer"]
        assert len(offers) == 1 and offers[0].buttons[0].choice.startswith("offer:accept:")


async def user_profile_any_time(user: ChatUser) -> None:
    await user.text("Amal")
    for choice in ("onboard:done", "onboard:topic:housing", "onboard:done", "onboard:done",
                   "onboard:capacity:2", "onboard:hours:any"):  # fmt: skip
        await user.tap(choice)


async def test_start_in_the_middle_of_her_profile_goes_back_to_the_question(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "725")
        await user.command("start", await new_invite(service))
        await user.text("Hana")
        back, question = await user.command("start")
        assert "Welcome back" in back.text and "onboard:done" in choices([question])
        async with service.session_factory() as session:
            state = await session.get(FlowState, (await user.participant()).id)
        assert (state.flow, state.step) == ("onboarding", "languages")
