"""A WhatsApp message Twilio took (201) and later reported 63016 by status callback is not lost.

Its sealed words stay on the row until a final status (delivered, read, failed) or a day at most;
a 63016 puts it back to wait for her next message, as a 63016 said at once does.
Through the real twilio client against the fake Twilio server, with signed status callbacks.
"""

from datetime import timedelta

from sqlalchemy import text

from flows.context import outbox_row
from flows.events import OutboundMessage
from flows.safety.retention import purge_once
from handlers.base import WAITING_FOR_WINDOW
from handlers.whatsapp.webhooks import STATUS_PATH
from models import OutboxStatus
from tests.channel_support import running_edge
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.test_whatsapp_window import ADDRESS, DAY, HER, row, send_due, she_writes

WORDS = "see you tomorrow at the library"


async def relay_to_her(edge) -> int:
    """A supporter's words relayed to her (sealed in the outbox like every relayed text)."""
    async with edge.service.session_factory() as session, session.begin():
        person = await edge.service.router.find_participant(session, "whatsapp", ADDRESS)
        message = OutboundMessage("relay.text", {"alias": "Sup One", "text": WORDS})
        new = outbox_row(person, message, edge.service.clock.now())
        session.add(new)
        await session.flush()
        return new.id


async def raw_words(edge, row_id: int) -> str | None:
    """The params column as the database holds it (sealed), not as the model reads it."""
    async with edge.service.session_factory() as session:
        value = (
            await session.execute(text("SELECT params FROM outbox WHERE id = :id"), {"id": row_id})
        ).scalar_one()
    return None if value is None else str(value)


async def status(tw, edge, sid: str, state: str, code: int | None = None) -> None:
    form = tw.make_status(sid, state, to=HER, error_code=code)
    assert await tw.deliver_webhook(edge.url + STATUS_PATH, form) == 204


def sends_of_the_words(tw) -> int:
    return sum(WORDS in body for body in tw.bodies(HER))


async def test_a_63016_by_status_callback_waits_for_her_and_goes_when_she_writes(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        await she_writes(tw, edge, "/start")
        await edge.drain()
        tw.clear()
        row_id = await relay_to_her(edge)
        await send_due(edge)
        sent = await row(edge, row_id)
        assert sent.status == OutboxStatus.SENT and sends_of_the_words(tw) == 1
        # Kept for a late status, sealed: the database bytes do not hold her words.
        assert sent.params["text"] == WORDS
        sealed = await raw_words(edge, row_id)
        assert sealed is not None and WORDS not in sealed and "library" not in sealed

        await status(tw, edge, sent.channel_message_id, "sent")
        await status(tw, edge, sent.channel_message_id, "undelivered", 63016)
        waiting = await row(edge, row_id)
        assert waiting.status == OutboxStatus.PENDING and waiting.error == WAITING_FOR_WINDOW
        assert waiting.params["text"] == WORDS and waiting.channel_message_id is None
        # A repeated callback for that attempt changes nothing.
        await status(tw, edge, sent.channel_message_id, "failed", 63016)
        assert (await row(edge, row_id)).status == OutboxStatus.PENDING

        edge.service.clock.advance(2 * DAY)  # nothing goes while her window is closed
        await send_due(edge)
        assert sends_of_the_words(tw) == 1

        await she_writes(tw, edge, "are you still there?")
        await send_due(edge)
        again = await row(edge, row_id)
        assert again.status == OutboxStatus.SENT and sends_of_the_words(tw) == 2
        assert again.channel_message_id not in (None, sent.channel_message_id)

        await status(tw, edge, again.channel_message_id, "delivered")
        done = await row(edge, row_id)
        assert done.status == OutboxStatus.DELIVERED and done.params is None
        assert await raw_words(edge, row_id) in (None, "null")  # no sealed words left


async def test_a_final_status_wipes_the_kept_words_and_a_late_63016_then_cannot_resend(
    database_url,
):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        await she_writes(tw, edge, "/start")
        await edge.drain()
        tw.clear()
        first, second = await relay_to_her(edge), await relay_to_her(edge)
        await send_due(edge)
        one, two = await row(edge, first), await row(edge, second)

        await status(tw, edge, one.channel_message_id, "read")
        assert (await row(edge, first)).params is None
        await status(tw, edge, two.channel_message_id, "failed", 63032)  # another failure
        failed = await row(edge, second)
        assert failed.status == OutboxStatus.FAILED and failed.params is None
        # Out of order after her words went: nothing to send again, it stays failed.
        await status(tw, edge, one.channel_message_id, "undelivered", 63016)
        assert (await row(edge, first)).status == OutboxStatus.FAILED
        await she_writes(tw, edge, "hello")
        await send_due(edge)
        assert sends_of_the_words(tw) == 2


async def test_words_kept_for_a_status_that_never_comes_go_after_a_day(database_url):
    async with FakeTwilioAPI() as tw, running_edge(database_url, twilio=tw) as edge:
        await she_writes(tw, edge, "/start")
        await edge.drain()
        row_id = await relay_to_her(edge)
        await send_due(edge)
        assert (await row(edge, row_id)).params is not None
        async with edge.service.session_factory() as session, session.begin():
            await purge_once(session, edge.service.clock.now() + timedelta(hours=20), days=90)
        assert (await row(edge, row_id)).params is not None
        async with edge.service.session_factory() as session, session.begin():
            await purge_once(session, edge.service.clock.now() + timedelta(hours=25), days=90)
        kept = await row(edge, row_id)
        assert kept.status == OutboxStatus.SENT and kept.params is None
        assert await raw_words(edge, row_id) in (None, "null")  # no sealed words left
