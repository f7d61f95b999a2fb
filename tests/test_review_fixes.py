"""Defects found in review: each test shows what could have happened to a woman, then holds."""

from sqlalchemy import func, select

from flows.events import EventKind, InboundEvent
from models import Match, MatchStatus, OutboxMessage, ScheduledJob
from tests.support import RecordingChannel, World, running_service
from tests.test_safety_guard import connect


async def test_a_reply_to_her_earlier_supporter_never_threads_into_the_new_supporters_chat(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        first = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1", alias="Her One")
        await connect(world, her, first)
        await first.text("words from the first supporter")
        old_copy = her.delivery_id("words from the first supporter")
        await her.command("end")
        second = await world.supporter("s2", alias="Sup Two")
        await world.ask_for_help(her)
        await second.tap(second.choices("offer:accept")[-1])

        await her.text("I keep thinking about that", reply_to=old_copy)

        relayed = second.received[-1].message
        alias, _, words = relayed.text.partition(": ")
        assert words == "I keep thinking about that"
        assert alias != "Her One"  # a fresh alias in every conversation
        # The id named a message in the first supporter's chat: in the second one's chat it
        # would quote whatever message has that number, perhaps another woman's.
        assert relayed.reply_to is None


async def test_her_words_still_waiting_for_the_supporter_go_when_she_is_forgotten(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1", alias="Her One")
        await connect(world, her, supporter)
        before = len(supporter.texts)

        # She writes and erases herself before the outbox gets to her message.
        for number, fields in enumerate((
            {"kind": EventKind.TEXT, "text": "my zebra-striped secret"},
            {"kind": EventKind.COMMAND, "command": "forget", "text": "/forget"},
            {"kind": EventKind.CHOICE, "choice": "forget:yes"},
        )):  # fmt: skip
            service.clock.advance(2)
            await service.router.handle(InboundEvent("telegram", "h1", message_id=f"rf{number}",
                                                     chat_message_id=str(900 + number),
                                                     **fields))  # fmt: skip
        async with service.session_factory() as session:
            params = (await session.execute(select(OutboxMessage.params))).scalars().all()
        assert not any("zebra-striped" in str(p) for p in params)
        await world.deliver()
        assert not any("zebra-striped" in t for t in supporter.texts[before:])


async def test_a_paused_conversation_is_not_checked_for_quiet_every_minute(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        supporter = await world.supporter("s1")
        her = await world.seeker("h1")
        await connect(world, her, supporter)
        async with service.session_factory() as session, session.begin():
            match = (await session.execute(select(Match))).scalar_one()
            match.status = MatchStatus.PAUSED  # a report is waiting for a coordinator

        await world.run_jobs(after_seconds=24 * 3600 + 1)
        for _ in range(12):  # two hours of the scheduler ticking
            await world.run_jobs(after_seconds=600)

        async with service.session_factory() as session:
            checks = (
                await session.execute(select(func.count()).where(ScheduledJob.kind == "idle_check"))
            ).scalar_one()
        assert checks <= 3


async def test_a_typed_number_in_a_whatsapp_conversation_is_relayed_not_taken_as_end(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        service.add_channel(RecordingChannel("whatsapp", service.clock))
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("48600100200", channel="whatsapp", alias="Her One")
        await connect(world, her, supporter)

        await her.text("2")

        async with service.session_factory() as session:
            status = (await session.execute(select(Match.status))).scalar_one()
        assert status == MatchStatus.ACTIVE
        assert supporter.texts[-1] == "Her One: 2"


class ClosedWindow(RecordingChannel):
    """WhatsApp for a woman who never writes again: every free-text send is refused."""

    async def send(self, address, message):  # type: ignore[no-untyped-def]
        from handlers.base import OutsideWindow

        raise OutsideWindow("the 24-hour window is closed")


async def test_words_waiting_for_a_window_that_never_reopens_do_not_wait_forever(database_url):
    from datetime import timedelta

    from flows.context import outbox_row
    from flows.events import OutboundMessage
    from models import OutboxStatus
    from tests.test_outbox import add_participants

    async with running_service(database_url) as service:
        service.add_channel(ClosedWindow("whatsapp", service.clock))
        [her] = await add_participants(service, 1, channel="whatsapp")
        async with service.session_factory() as session, session.begin():
            row = outbox_row(her, OutboundMessage("relay.text", {"alias": "Sup One",
                                                                 "text": "see you tomorrow"}),
                             service.clock.now())  # fmt: skip
            session.add(row)
        await service.sender.run_once()
        for _ in range(3):  # weeks go by; she never writes again
            service.clock.advance(timedelta(days=7).total_seconds())
            await service.sender.run_once()

        async with service.session_factory() as session:
            left = (await session.execute(select(OutboxMessage))).scalar_one()
        assert left.status == OutboxStatus.DROPPED
        assert left.params is None


async def test_a_supporter_never_has_two_open_conversations_under_the_same_alias(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        supporter = await world.supporter("s1", alias="Sup One", capacity=2)
        first = await world.seeker("h1", alias="Iris 23")
        second = await world.seeker("h2", alias="Iris 23")  # aliases are drawn at random
        await connect(world, first, supporter)
        await connect(world, second, supporter)
        await first.text("from the first")
        await second.text("from the second")

        prefixes = {t.split(":")[0] for t in supporter.texts if t.endswith(("first", "second"))}
        assert len(prefixes) == 2, prefixes
        await supporter.command("switch")
        labels = [b.label for b in supporter.received[-1].message.buttons]
        assert len(set(labels)) == 2, labels


async def test_a_conversation_paused_while_asked_about_quiet_is_still_closed_when_quiet_later(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        supporter = await world.supporter("s1")
        her = await world.seeker("h1")
        await connect(world, her, supporter)
        await world.run_jobs(after_seconds=24 * 3600 + 1)  # asked whether to go on
        assert "keep this conversation open" in her.texts[-1]

        async def set_status(status: MatchStatus) -> None:
            async with service.session_factory() as session, session.begin():
                (await session.execute(select(Match))).scalar_one().status = status

        await set_status(MatchStatus.PAUSED)  # a report, then a coordinator resumes it
        await world.run_jobs(after_seconds=24 * 3600 + 1)
        await set_status(MatchStatus.ACTIVE)
        for _ in range(4):
            await world.run_jobs(after_seconds=24 * 3600 + 1)

        async with service.session_factory() as session:
            assert (await session.execute(select(Match.status))).scalar_one() == MatchStatus.ENDED


async def test_when_the_woman_she_writes_to_ends_her_next_words_do_not_fall_to_the_other(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        supporter = await world.supporter("s1", alias="Sup One", capacity=2)
        first = await world.seeker("h1", alias="Her One")
        second = await world.seeker("h2", alias="Her Two")
        await connect(world, first, supporter)
        await connect(world, second, supporter)
        await supporter.command("switch")
        await supporter.tap(supporter.choices("switch:")[0])
        await supporter.text("tell me more about your landlord")
        assert first.texts[-1] == "Sup One: tell me more about your landlord"
        await first.command("end")
        before = len(second.received)

        await supporter.text("did he give the deposit back?")

        assert len(second.received) == before
        assert "Her One" in supporter.texts[-1] and "not sent" in supporter.texts[-1]


async def test_when_the_woman_she_writes_to_is_erased_her_next_words_wait_for_her_choice(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        supporter = await world.supporter("s1", alias="Sup One", capacity=2)
        first = await world.seeker("h1", alias="Her One")
        second = await world.seeker("h2", alias="Her Two")
        await connect(world, first, supporter)
        await connect(world, second, supporter)
        await supporter.command("switch")
        await supporter.tap(supporter.choices("switch:")[0])
        await first.command("forget")
        await first.tap("forget:yes")
        before = len(second.received)

        await supporter.text("are you safe tonight?")

        assert len(second.received) == before
        assert "Whom is this message for?" in supporter.texts[-1]
        await supporter.tap(supporter.choices("switch:")[0])
        assert second.texts[-1] == "Sup One: are you safe tonight?"  # sent once she chose


async def test_one_row_that_cannot_be_prepared_does_not_hold_back_everyone_elses(database_url):
    from flows.context import outbox_row
    from flows.events import OutboundMessage
    from models import OutboxStatus
    from tests.test_outbox import add_participants

    async with running_service(database_url) as service:
        channel = RecordingChannel("telegram", service.clock)
        service.add_channel(channel)
        broken, fine = await add_participants(service, 2)
        async with service.session_factory() as session, session.begin():
            poison = outbox_row(broken, OutboundMessage("error.generic"), service.clock.now())
            poison.media = {"not": "a media reference"}  # e.g. written by an older release
            session.add(poison)
            await session.flush()
            session.add(outbox_row(fine, OutboundMessage("error.generic"), service.clock.now()))

        await service.sender.run_once()
        assert channel.texts_to("1001"), "her message waited behind the broken one"
        for _ in range(12):  # the broken row is retried a few times, then given up
            service.clock.advance(60)
            await service.sender.run_once()
        async with service.session_factory() as session:
            row = await session.get(OutboxMessage, poison.id)
        assert row.status == OutboxStatus.FAILED and row.params is None


async def test_a_caption_with_a_hidden_link_is_never_copied_with_the_link(database_url):
    from handlers.telegram.parse import parse_update

    async with running_service(database_url) as service:
        world = World.around(service)
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("4242", alias="Her One")
        await connect(world, her, supporter)
        # "write me here" with the words linked to her WhatsApp number (Ctrl+K in Telegram).
        update = {"update_id": 77, "message": {
            "message_id": 555, "date": 1, "chat": {"id": 4242, "type": "private"},
            "from": {"id": 4242, "is_bot": False, "first_name": "A"},
            "photo": [{"file_id": "photo-1", "file_unique_id": "u", "width": 1, "height": 1}],
            "caption": "write me here",
            "caption_entities": [{"type": "text_link", "offset": 0, "length": 13,
                                  "url": "https://wa.me/48600123456"}],
        }}  # fmt: skip
        event = parse_update(update).event
        assert event is not None
        await service.router.handle(event)
        await world.deliver()

        sent = supporter.received[-1].message
        assert "_copy_message_id" not in sent.extra  # a copy would carry the link along
        assert sent.media is not None and sent.media.ref == "photo-1"
        assert sent.text == "Her One: write me here"
