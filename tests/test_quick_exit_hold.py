"""Quick exit that holds: after /exit nothing new reaches her chat until she writes again.

On Telegram through the real Application and the fake Bot API: her supporter's next words, a
check-in and a campaign message are all held, the supporter is told neutrally, and when she
writes again the held words are offered and shown only when she asks. Also with deleteMessages
failing, and on WhatsApp, where nothing can be deleted but the same hold applies.
"""

from sqlalchemy import select

from flows.context import outbox_row
from flows.events import OutboundMessage
from flows.outreach.campaigns import create_campaign, enqueue_campaign
from i18n import translate
from models import OutboxMessage, OutboxStatus, Participant
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI
from tests.support import RecordingChannel, World, running_service
from tests.test_stale_buttons import ready_pair

CAMPAIGN = {
    lang: "Free legal advice on Thursdays." for lang in ("en", "pl", "uk", "ru", "fa", "ar")
}


async def queue_checkin_and_campaign(edge) -> None:
    """A check-in as a job queues it (one row), and a campaign as the CLI does (bulk insert)."""
    service = edge.service
    async with service.session_factory() as session, session.begin():
        [her] = (
            await session.execute(select(Participant).where(Participant.role == "seeker"))
        ).scalars().all()  # fmt: skip
        session.add(outbox_row(her, OutboundMessage("feedback.checkin_ask", kind="checkin"),
                               service.clock.now()))  # fmt: skip
        campaign = await create_campaign(session, "Thursdays", CAMPAIGN, service.clock.now())
        campaign_id = campaign.id
    async with service.session_factory() as session:
        assert await enqueue_campaign(session, campaign_id, service.clock.now()) == 1
    await edge.drain()


async def test_after_quick_exit_nothing_new_appears_until_she_writes_and_asks(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        dalia, leyla = await ready_pair(api, edge, campaigns=True)
        await dalia.press("offer:accept:")
        await leyla.say("Hello, thank you.")
        await leyla.say("/exit")
        assert api.calls_to("deleteMessages")
        innocuous = translate("en", "exit.done")
        assert leyla.texts()[-1] == innocuous
        told = dalia.texts()[-1]
        assert "had to step away" in told and "Leyla" not in told

        await dalia.say("Are you ok?")
        await queue_checkin_and_campaign(edge)
        assert leyla.texts()[-1] == innocuous  # nothing new on her screen
        async with edge.service.session_factory() as session:
            held = (await session.execute(
                select(OutboxMessage.kind).where(OutboxMessage.status == OutboxStatus.HELD)
            )).scalars().all()  # fmt: skip
        assert sorted(held) == ["broadcast", "checkin", "relay"]

        await leyla.say("hi")
        assert dalia.texts()[-1].endswith(": hi")  # her words go on as usual
        assert leyla.texts()[-1] == "Messages waiting for you: 3. Show them now?"
        assert not any("Are you ok?" in t for t in leyla.texts())  # offered, never pushed

        await leyla.press("exit:later")
        assert not any("Are you ok?" in t for t in leyla.texts())
        await leyla.press("exit:show")
        shown = leyla.texts()[-3:]
        assert shown[0] == "Willow Star: Are you ok?"
        assert any("Free legal advice" in t for t in shown)

        await dalia.say("Good to hear from you.")  # after she is back, words flow again
        assert leyla.texts()[-1] == "Willow Star: Good to hear from you."


async def test_when_delete_messages_fails_each_is_deleted_alone_and_she_is_told(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        dalia, leyla = await ready_pair(api, edge)
        api.add_result_for("deleteMessages", ok=False, error_code=400,
                           description="Bad Request: message can't be deleted")  # fmt: skip
        refused = "Bad Request: message can't be deleted for everyone"
        api.add_result_for("deleteMessage", ok=False, error_code=400, description=refused)
        await leyla.say("/exit")
        singles = [c for c in api.calls_to("deleteMessage")
                   if int(c.params["chat_id"]) == leyla.chat]  # fmt: skip
        assert len(singles) > 3
        last = leyla.texts()[-1]
        assert last.startswith(translate("en", "exit.done"))
        assert "could not be removed" in last
        async with edge.service.session_factory() as session:
            [row] = (await session.execute(
                select(OutboxMessage).where(OutboxMessage.kind == "delete")
            )).scalars().all()  # fmt: skip
        assert row.status == OutboxStatus.SENT and row.attempts == 1  # no four-minute retries


async def test_on_whatsapp_the_same_hold_applies(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        service.add_channel(RecordingChannel("whatsapp", service.clock))
        whatsapp = service.sender.channels["whatsapp"]
        supporter = await world.supporter("6001")
        her = await world.seeker("+48500100200", channel="whatsapp")
        await world.ask_for_help(her)
        await supporter.tap(supporter.choices("offer:accept:")[0])
        await her.command("exit")
        [howto] = [d.message.text for d in whatsapp.deliveries][-1:]
        assert "Delete chat" in howto
        assert "had to step away" in supporter.texts[-1]
        before = len(whatsapp.deliveries)
        await supporter.text("Are you ok?")
        assert len(whatsapp.deliveries) == before

        await her.text("hello again")
        assert "had to step away" not in supporter.texts[-1]
        offer = whatsapp.deliveries[-1].message
        assert offer.text == "Messages waiting for you: 1. Show them now?"
        await her.text("1")  # the first choice, typed
        assert whatsapp.deliveries[-1].message.text.endswith("Are you ok?")
