"""Across channels: a woman on WhatsApp and a supporter on Telegram, through the real web edge.

Both sides go through the real server on loopback: Twilio's signed webhooks and the real twilio
client for her, the fake Bot API with the real python-telegram-bot for the supporter.
"""

from typing import Any

import httpx
from sqlalchemy import select

from flows.context import outbox_row
from flows.events import MediaRef, OutboundMessage
from handlers.telegram.hosting import MediaLinks
from handlers.whatsapp.webhooks import INBOUND_PATH
from models import FlowState, Match, MatchStatus
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI, make_message_update
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.test_e2e_telegram import Script, invite, onboard_supporter

HER = "whatsapp:+48600100200"
SUPPORTER = {"id": 6100000001, "first_name": "Dalia", "last_name": "Karimi", "username": "dalia_k"}
COORDINATOR = {"id": 6300000003, "first_name": "Maria", "last_name": "Nowak", "username": "maria_n"}


class WhatsAppWoman:
    """She writes on WhatsApp; buttons reach her as numbered lines and she types a number."""

    def __init__(self, tw: FakeTwilioAPI, edge: Any, number: str = HER) -> None:
        self.tw, self.edge, self.number = tw, edge, number

    async def say(self, text: str, media: tuple[tuple[str, str], ...] = ()) -> None:
        self.edge.service.clock.advance(3)  # human typing speed, for the flood guard
        form = self.tw.make_inbound(self.number, text, media=media)
        assert await self.tw.deliver_webhook(self.edge.url + INBOUND_PATH, form) == 200
        await self.edge.drain()

    async def choose(self, prefix: str, suffix: str = "") -> None:
        """Type the number shown beside the choice she was last offered that matches."""
        async with self.edge.service.session_factory() as session:
            me = await self.edge.participant("whatsapp", self.number.removeprefix("whatsapp:"))
            state = await session.get(FlowState, me.id)
        offered = [c["c"] for c in (state.data or {}).get("choices", [])]
        for number, choice in enumerate(offered, start=1):
            if choice.startswith(prefix) and choice.endswith(suffix):
                assert f"\n{number}. " in self.texts()[-1] or self.texts()[-1].startswith(
                    f"{number}. "
                ), "the number she types is the one she was shown"
                return await self.say(str(number))
        raise AssertionError(f"{prefix!r} was not offered to her: {offered}")

    def texts(self) -> list[str]:
        return self.tw.bodies(self.number)


async def test_a_whatsapp_woman_and_a_telegram_woman_each_get_answers_on_their_own_channel(
    database_url,
):
    async with (
        FakeBotAPI() as api,
        FakeTwilioAPI() as tw,
        running_edge(database_url, telegram=api, twilio=tw) as edge,
    ):
        woman = WhatsAppWoman(tw, edge)
        await woman.say("/start")
        assert await api.deliver_webhook(make_message_update(4242, "/start")) == 200
        await edge.drain()

        assert woman.texts() and all(m["To"] == HER for m in tw.messages)
        assert api.sent_texts(4242)
        assert all(c.params.get("chat_id") != HER for c in api.calls)
        await woman.choose("lang:pl")
        assert "Reply" not in woman.texts()[-1]  # Polish from here on
        assert any("Odpowiedz" in t for t in woman.texts()[-3:])


async def test_a_whatsapp_seeker_and_a_telegram_supporter_have_a_whole_conversation(database_url):
    async with (
        FakeBotAPI() as api,
        FakeTwilioAPI() as tw,
        running_edge(database_url, telegram=api, twilio=tw) as edge,
    ):
        coordinator = Script(api, edge, COORDINATOR)
        dalia = Script(api, edge, SUPPORTER)
        leyla = WhatsAppWoman(tw, edge)

        await coordinator.say(f"/start {await invite(edge, 'coordinator')}")
        await coordinator.say("Coordinator Rose")
        await onboard_supporter(edge, dalia, "Willow Star")
        await coordinator.say("/approve Willow Star")
        await dalia.say("/available")

        # She starts on WhatsApp, typing the numbers of her choices.
        await leyla.say("/start")
        await leyla.choose("lang:en")
        await leyla.choose("intake:terms:yes")
        await leyla.choose("intake:campaigns:no")
        await leyla.choose("intake:safe:yes")
        await leyla.choose("intake:topic:emotional")
        await leyla.say("I feel very alone since I moved here")
        assert "asking our supporters" in leyla.texts()[-1]

        # The supporter on Telegram is offered it, accepts, and sees her sentence.
        assert "Can you take" in dalia.texts()[-1]
        await dalia.press("offer:accept:")
        assert "I feel very alone since I moved here" in dalia.texts()[-1]
        assert any("Willow Star" in t for t in leyla.texts()[-2:])

        # Words cross both ways, each on her own channel.
        await leyla.say("Hello, thank you for answering.")
        assert dalia.texts()[-1].endswith(": Hello, thank you for answering.")
        await dalia.say("Hello, I am glad you wrote. How are you today?")
        assert leyla.texts()[-1] == "Willow Star: Hello, I am glad you wrote. How are you today?"

        # A voice note from WhatsApp reaches the supporter as a voice note, re-uploaded.
        url = tw.add_media(b"OggS-a-short-voice-note", "audio/ogg")
        before = len(api.calls)
        await leyla.say("", media=((url, "audio/ogg"),))
        newer = api.calls[before:]
        [upload] = [c for c in newer if c.method.lower() == "sendvoice" and c.ok]
        assert upload.params["voice"].data == b"OggS-a-short-voice-note"
        assert url not in str(upload.params)
        assert all(HER not in str(c.params) for c in api.calls)

        # She ends it on WhatsApp; the supporter is told on Telegram.
        await leyla.say("/end")
        assert any("has ended the conversation" in t for t in dalia.texts())
        async with edge.service.session_factory() as session:
            match = (await session.execute(select(Match))).scalar_one()
        assert match.status == MatchStatus.ENDED

        # Nothing sent to the supporter carries the woman's number, nor the other way round.
        for call in api.calls:
            assert "48600100200" not in str(call.params)
        for message in tw.messages:
            for secret in ("6100000001", "Dalia", "Karimi", "dalia_k"):
                assert secret not in message.get("Body", "")


async def queue_media_for(edge: Any, address: str, media: MediaRef) -> None:
    async with edge.service.session_factory() as session, session.begin():
        person = await edge.service.router.find_participant(session, "whatsapp", address)
        message = OutboundMessage("relay.media_caption", {"alias": "Willow Star", "caption": ""},
                                  media=media, kind="relay")  # fmt: skip
        session.add(outbox_row(person, message, edge.service.clock.now()))


async def test_a_telegram_voice_note_reaches_whatsapp_by_a_short_lived_signed_link(database_url):
    async with (
        FakeBotAPI() as api,
        FakeTwilioAPI() as tw,
        running_edge(database_url, telegram=api, twilio=tw) as edge,
    ):
        woman = WhatsAppWoman(tw, edge)
        await woman.say("/start")
        api.add_file("voice-77", b"OggS-telegram-voice", "audio/ogg")
        tw.clear()
        await queue_media_for(edge, "+48600100200", MediaRef("voice", "voice-77", "audio/ogg", 19))
        await queue_media_for(edge, "+48600100200", MediaRef("sticker", "sticker-1"))
        await edge.drain()

        voice, sticker = tw.messages
        [link] = voice["MediaUrl"]
        assert link.startswith(edge.url + "/media/telegram/") and "voice-77" not in link
        assert "MediaUrl" not in sticker and "cannot be shown here" in sticker["Body"]
        async with httpx.AsyncClient() as client:
            fetched = await client.get(link)  # as Twilio fetches it
            forged = await client.get(link[:-3] + "abc")
        assert fetched.status_code == 200 and fetched.content == b"OggS-telegram-voice"
        assert fetched.headers["content-type"].startswith("audio/ogg")
        assert forged.status_code == 404


def test_a_media_link_expires_after_an_hour():
    links = MediaLinks("secret", "https://bot.example.org", 1000)
    link = links.link(MediaRef("voice", "f1", "audio/ogg"), now=1000.0)
    token = link.rsplit("/", 1)[1]
    assert links.read(token, now=1000.0 + 3599) == ("f1", "audio/ogg")
    assert links.read(token, now=1000.0 + 3601) is None
    assert MediaLinks("other", "https://bot.example.org", 1000).read(token, now=1000.0) is None
