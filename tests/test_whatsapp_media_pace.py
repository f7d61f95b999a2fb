"""WhatsApp media goes at Twilio's media pace only while its turn comes soon; behind a queue of
media it goes as its link in the words, at the text pace, so nobody waits behind the files."""

from flows.context import outbox_row
from flows.events import MediaRef, OutboundMessage
from models import Participant
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI

WOMEN = 6


async def test_media_behind_a_queue_of_media_goes_as_a_link(database_url):
    async with (
        FakeBotAPI() as api,
        FakeTwilioAPI() as tw,
        running_edge(database_url, telegram=api, twilio=tw) as edge,
    ):
        service = edge.service
        sender = service.channels["whatsapp"].sender
        sender.media_per_second = 0.01  # one file per 100 s: every other one is behind it
        api.add_file("voice-77", b"OggS-telegram-voice", "audio/ogg")
        now = service.clock.now()
        numbers = [f"+4860070{i:04d}" for i in range(WOMEN)]
        async with service.session_factory() as session, session.begin():
            women = [Participant(channel="whatsapp", alias=f"W{i}", language="en",
                                 address_hash=service.vault.lookup_hash("whatsapp", number),
                                 address_cipher=service.vault.encrypt("whatsapp", number),
                                 last_inbound_at=now)
                     for i, number in enumerate(numbers)]  # fmt: skip
            session.add_all(women)
            await session.flush()
            voice = MediaRef("voice", "voice-77", "audio/ogg", 19)
            for woman in women:
                message = OutboundMessage("relay.media_caption",
                                          {"alias": "Willow Star", "caption": ""},
                                          media=voice, kind="relay")  # fmt: skip
                session.add(outbox_row(woman, message, now))
        await edge.drain()

        assert sorted(m["To"] for m in tw.messages) == sorted(f"whatsapp:{n}" for n in numbers)
        as_media = [m for m in tw.messages if m.get("MediaUrl")]
        as_link = [m for m in tw.messages if not m.get("MediaUrl")]
        assert len(as_media) == 1 and len(as_link) == WOMEN - 1
        [link] = as_media[0]["MediaUrl"]
        assert link.startswith(edge.url + "/media/telegram/")
        for message in as_link:
            assert edge.url + "/media/telegram/" in message["Body"]
            assert "Willow Star" in message["Body"]
