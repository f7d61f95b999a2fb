"""WhatsApp's 24-hour window: free text inside it; outside, a template or a wait for her."""

import json

from sqlalchemy import select

from flows.context import outbox_row
from flows.events import OutboundMessage
from handlers.whatsapp.webhooks import INBOUND_PATH
from handlers.whatsapp.window import window_open
from models import OutboxMessage, OutboxStatus, Participant, ParticipantStatus
from tests.channel_support import running_edge
from tests.fakes.twilio_api import FakeTwilioAPI

HER = "whatsapp:+48600100200"
ADDRESS = "+48600100200"
DAY = 24 * 3600


async def she_writes(tw, edge, text: str) -> None:
    assert await tw.deliver_webhook(edge.url + INBOUND_PATH, tw.make_inbound(HER, text)) == 200
    await edge.service.inbound.idle()  # committed at once, processed from the journal


async def queue_for_her(edge, kind: str = "reply", text_id: str = "error.generic") -> int:
    async with edge.service.session_factory() as session, session.begin():
        person = await edge.service.router.find_participant(session, "whatsapp", ADDRESS)
        row = outbox_row(person, OutboundMessage(text_id, kind=kind), edge.service.clock.now())
        session.add(row)
        await session.flush()
        return row.id


async def row(edge, row_id: int) -> OutboxMessage:
    async with edge.service.session_factory() as session:
        return await session.get(OutboxMessage, row_id)


async def send_due(edge) -> None:
    """One round of the sender (the window makes rows wait, so no draining to the end)."""
    while await edge.service.sender.run_once():
        pass


def test_the_window_is_open_for_a_day_after_she_last_wrote():
    from datetime import UTC, datetime, timedelta

    wrote = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert window_open(wrote, wrote + timedelta(hours=23))
    assert not window_open(wrote, wrote + timedelta(hours=24))
    assert not window_open(None, wrote)


async def test_inside_the_window_free_text_is_sent(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        await she_writes(tw, edge, "/start")
        await edge.drain()
        tw.clear()
        edge.service.clock.advance(20 * 3600)
        row_id = await queue_for_her(edge)
        await send_due(edge)
        assert (await row(edge, row_id)).status == OutboxStatus.SENT
        assert tw.messages[0]["Body"].startswith("Sorry")


async def test_outside_the_window_a_reply_waits_and_goes_once_she_writes_again(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        await she_writes(tw, edge, "/start")
        await edge.drain()
        tw.clear()
        edge.service.clock.advance(DAY + 60)
        row_id = await queue_for_her(edge)
        await send_due(edge)
        edge.service.clock.advance(3 * DAY)  # days pass; it is never attempted as free text
        await send_due(edge)

        assert tw.attempts == []
        waiting = await row(edge, row_id)
        assert waiting.status == OutboxStatus.PENDING and waiting.params is not None

        await she_writes(tw, edge, "hello again")
        await send_due(edge)
        assert (await row(edge, row_id)).status == OutboxStatus.SENT
        assert any(b.startswith("Sorry") for b in tw.bodies(HER))


async def test_outside_the_window_a_checkin_goes_as_the_approved_template(database_url):
    async with (
        FakeTwilioAPI() as tw,
        running_edge(
            database_url,
            twilio=tw,
            twilio_template_sid="HXdefault",
            twilio_template_sids={"pl": "HXpl"},
        ) as edge,
    ):
        await she_writes(tw, edge, "/start")
        await edge.drain()
        tw.clear()
        edge.service.clock.advance(2 * DAY)
        checkin = await queue_for_her(edge, kind="checkin")
        reply = await queue_for_her(edge, kind="reply")
        await send_due(edge)

        assert (await row(edge, checkin)).status == OutboxStatus.SENT
        assert (await row(edge, reply)).status == OutboxStatus.PENDING
        [sent] = tw.messages
        assert sent["ContentSid"] == "HXdefault" and "Body" not in sent
        assert json.loads(sent["ContentVariables"])["1"].startswith("Sorry")


async def test_outside_the_window_without_a_template_a_checkin_waits_too(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        await she_writes(tw, edge, "/start")
        await edge.drain()
        tw.clear()
        edge.service.clock.advance(2 * DAY)
        checkin = await queue_for_her(edge, kind="checkin")
        await send_due(edge)
        assert tw.attempts == []
        assert (await row(edge, checkin)).status == OutboxStatus.PENDING


async def test_twilio_saying_63016_makes_the_message_wait_for_her(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        await she_writes(tw, edge, "/start")
        await edge.drain()
        tw.clear()
        tw.add_error(status=400, code=63016)
        row_id = await queue_for_her(edge)
        await send_due(edge)
        assert len(tw.attempts) == 1 and tw.messages == []
        assert (await row(edge, row_id)).status == OutboxStatus.PENDING

        await she_writes(tw, edge, "are you there?")
        await send_due(edge)
        assert (await row(edge, row_id)).status == OutboxStatus.SENT


async def test_twilio_saying_63014_marks_her_stopped_and_drops_what_waits(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        await she_writes(tw, edge, "/start")
        await edge.drain()
        tw.clear()
        tw.add_error(status=400, code=63014)
        first = await queue_for_her(edge)
        second = await queue_for_her(edge)
        await send_due(edge)
        assert (await row(edge, first)).status == OutboxStatus.FAILED
        assert (await row(edge, second)).status == OutboxStatus.DROPPED
        async with edge.service.session_factory() as session:
            person = (await session.execute(select(Participant))).scalar_one()
        assert person.status == ParticipantStatus.STOPPED


async def test_a_rate_limit_from_twilio_is_retried_and_then_delivered(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        await she_writes(tw, edge, "/start")
        await edge.drain()
        tw.clear()
        tw.add_error(status=429)
        tw.add_error(status=500)
        row_id = await queue_for_her(edge)
        await edge.drain()
        assert len(tw.attempts) == 3
        assert (await row(edge, row_id)).status == OutboxStatus.SENT


async def test_sends_from_our_whatsapp_number_keep_to_the_configured_rate(database_url):
    async with (
        FakeTwilioAPI() as tw,
        running_edge(database_url, twilio=tw, whatsapp_rate_per_second=5) as edge,
    ):
        now = edge.service.clock.now()
        async with edge.service.session_factory() as session, session.begin():
            vault = edge.service.vault
            people = [
                Participant(channel="whatsapp", alias=f"Iris {i}", language="en",
                            address_hash=vault.lookup_hash("whatsapp", f"+4860000{i:04}"),
                            address_cipher=vault.encrypt("whatsapp", f"+4860000{i:04}"),
                            last_inbound_at=now)
                for i in range(20)
            ]  # fmt: skip
            session.add_all(people)
            await session.flush()
            for person in people:
                session.add(outbox_row(person, OutboundMessage("error.generic"), now))
        await edge.drain()

        assert len(tw.messages) == 20
        async with edge.service.session_factory() as session:
            times = sorted(
                t.timestamp()
                for t in (await session.execute(select(OutboxMessage.sent_at))).scalars()
            )
        for i, start in enumerate(times):
            assert sum(1 for t in times[i:] if t < start + 1.0 - 1e-9) <= 5
