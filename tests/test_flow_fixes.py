"""Conversation-flow fixes from first use: no question asked twice, the urgent mark kept at the
menu, and one reply where two near-identical ones came in a row."""

from sqlalchemy import select, update

from i18n import translate
from models import HelpRequest, SupporterProfile
from tests.support import ChatUser, World, running_service
from tests.test_intake import consent, state_of


async def test_not_safe_is_not_followed_by_are_you_in_danger_again(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "801")
        await consent(user)
        replies = await user.tap("intake:safe:no")
        texts = [r.text for r in replies]
        assert translate("en", "referral.ask_danger") not in texts
        assert any(c.startswith("referral:kind:") for r in replies for c in
                   [b.choice for b in r.buttons])  # fmt: skip
        assert (await state_of(service, user)).data.get("immediate") is True


async def test_after_the_help_paths_she_is_not_asked_her_topic_again(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "802")
        await consent(user)
        await user.tap("intake:safe:unsure")
        await user.tap("referral:danger:yes")
        await user.tap("referral:kind:home")
        [note] = (await user.tap("referral:supporter"))[-1:]
        assert note.text == translate("en", "intake.ask_note")
        await user.tap("intake:note:skip")
        async with service.session_factory() as session:
            [request] = (await session.execute(select(HelpRequest))).scalars().all()
        assert request.topic == "violence" and request.urgent is True


async def test_the_urgent_mark_is_kept_when_she_goes_to_the_menu(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "803")
        await consent(user)
        await user.tap("intake:safe:no")
        await user.tap("referral:back")
        await user.command("menu")
        await user.tap("menu:talk")
        await user.tap("intake:topic:housing")
        await user.tap("intake:note:skip")
        async with service.session_factory() as session:
            [request] = (await session.execute(select(HelpRequest))).scalars().all()
        assert request.urgent is True


async def test_talk_during_a_conversation_says_where_she_stands_once(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        helper = await world.supporter("s1", alias="Rose")
        her = await world.seeker("h1")
        await world.ask_for_help(her)
        await helper.tap(helper.choices("offer:accept")[0])
        before = len(her.texts)
        await her.tap("menu:talk")
        assert her.texts[before:] == [translate("en", "relay.still_connected", {"alias": "Rose"})]


async def test_no_match_reasons_are_true(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        await world.supporter("s1", alias="Rose", excluded_topics=["violence"])
        farsi = await world.seeker("h1", language="fa")
        await world.ask_for_help(farsi)
        assert farsi.texts[-1].startswith(translate("fa", "match.waiting_language")[:20])
        violence = await world.seeker("h2")
        await world.ask_for_help(violence, topic="violence")
        assert violence.texts[-1] == translate("en", "match.waiting_topic")
        async with service.session_factory() as session, session.begin():
            await session.execute(update(SupporterProfile).values(on_duty=False))
        alone = await world.seeker("h3")
        await world.ask_for_help(alone)
        assert alone.texts[-1] == translate("en", "match.waiting_night")
