"""End to end on Telegram: the real python-telegram-bot against the fake Bot API on loopback.

A coordinator, two supporters and a woman are scripted through invites, profiles, approval,
intake, an offer, a relayed exchange of text and a voice note, /end and feedback. Then every
request the bot made is read: nothing sent to one side carries the other side's chat id, name
or username, and no message is ever forwarded.
"""

import json
from typing import Any

from sqlalchemy import select

from flows.supporters.invites import create_invite
from models import Feedback, Match, MatchStatus
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI, make_callback_update, make_message_update

SEEKER = {"id": 8123456789, "first_name": "Leyla", "last_name": "Haddad", "username": "leyla_h"}
SUPPORTER_A = {"id": 6100000001, "first_name": "Dalia", "last_name": "Karimi",
               "username": "dalia_k"}  # fmt: skip
SUPPORTER_B = {"id": 6200000002, "first_name": "Oksana", "last_name": "Melnyk",
               "username": "oksana_m"}  # fmt: skip
COORDINATOR = {"id": 6300000003, "first_name": "Maria", "last_name": "Nowak",
               "username": "maria_n"}  # fmt: skip


def identity(user: dict[str, Any]) -> list[str]:
    return [str(user["id"]), user["first_name"], user["last_name"], user["username"]]


class Script:
    """Types and taps for one person, through the webhook, as Telegram would deliver them."""

    def __init__(self, api: FakeBotAPI, edge: Any, user: dict[str, Any]) -> None:
        self.api, self.edge, self.user = api, edge, user
        self.chat = user["id"]

    async def _deliver(self, update: dict[str, Any]) -> None:
        self.edge.service.clock.advance(3)  # human typing speed, for the flood guard
        assert await self.api.deliver_webhook(update) == 200
        await self.edge.drain()

    async def say(self, text: str, **kwargs: Any) -> None:
        await self._deliver(make_message_update(self.chat, text, user=self.user, **kwargs))

    async def voice(self, file_id: str, message_id: int) -> None:
        await self._deliver(make_message_update(self.chat, None, user=self.user, voice=file_id,
                                                message_id=message_id))  # fmt: skip

    async def press(self, prefix: str, suffix: str = "") -> str:
        """Press the latest button whose data starts with `prefix` (and ends with `suffix`)."""
        data = self.button(prefix, suffix)
        await self._deliver(make_callback_update(self.chat, data, 1, user=self.user))
        return data

    def button(self, prefix: str, suffix: str = "") -> str:
        for call in reversed(self.api.calls):
            if not call.ok or str(call.params.get("chat_id")) != str(self.chat):
                continue
            markup = call.params.get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    data = button.get("callback_data", "")
                    if data.startswith(prefix) and data.endswith(suffix):
                        return data
        raise AssertionError(f"no button {prefix!r} was sent to {self.user['first_name']}")

    def texts(self) -> list[str]:
        return self.api.sent_texts(self.chat)


async def invite(edge: Any, role: str) -> str:
    async with edge.service.session_factory() as session, session.begin():
        code, _ = await create_invite(session, role=role, hours=72, actor="cli",
                                      now=edge.service.clock.now())  # fmt: skip
    return code


async def onboard_supporter(edge: Any, person: Script, alias: str) -> None:
    await person.say(f"/start {await invite(edge, 'supporter')}")  # the invite deep link
    await person.say(alias)
    await person.press("onboard:done")  # languages: English is already ticked
    await person.press("onboard:topic:emotional")
    await person.press("onboard:done")
    await person.press("onboard:done")  # no excluded topics
    await person.press("onboard:capacity:2")
    await person.press("onboard:hours:any")  # any time: no time zone asked


async def test_a_whole_conversation_on_telegram_keeps_both_women_anonymous(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        coordinator = Script(api, edge, COORDINATOR)
        dalia, oksana = Script(api, edge, SUPPORTER_A), Script(api, edge, SUPPORTER_B)
        leyla = Script(api, edge, SEEKER)

        # A coordinator joins by her own invite; two supporters build their profiles.
        await coordinator.say(f"/start {await invite(edge, 'coordinator')}")
        await coordinator.say("Coordinator Rose")
        await coordinator.say("/available")
        await onboard_supporter(edge, dalia, "Willow Star")
        await onboard_supporter(edge, oksana, "Quiet River")
        assert not any("Can you take" in t for t in dalia.texts())  # not approved yet

        # The coordinator approves both from her alerts, and they go on duty.
        await coordinator.press("coord:approve:")  # the latest alert: Quiet River
        await coordinator.say("/approve Willow Star")
        await dalia.say("/available")
        await oksana.say("/available")

        # The woman: language, consent, safety, topic, her sentence.
        await leyla.say("/start")
        await leyla.press("lang:en")
        await leyla.press("intake:terms:yes")
        await leyla.press("intake:campaigns:no")
        await leyla.press("intake:safe:yes")
        await leyla.press("intake:topic:emotional")
        await leyla.say("I feel very alone since I moved here")
        assert "asking our supporters" in leyla.texts()[-1]

        # Both supporters are offered it; Dalia accepts first, Oksana is told.
        assert "Can you take" in dalia.texts()[-1] and "Can you take" in oksana.texts()[-1]
        assert "alone" not in dalia.texts()[-1]
        await dalia.press("offer:accept:")
        await oksana.press("offer:accept:")
        assert "already taken" in oksana.texts()[-1]
        intro = dalia.texts()[-1]
        assert "I feel very alone since I moved here" in intro
        assert "Willow Star" in leyla.texts()[-1]

        # A relayed exchange of text and a voice note.
        await leyla.say("Hello, thank you for answering.")
        assert dalia.texts()[-1].endswith(": Hello, thank you for answering.")
        await dalia.say("Hello, I am glad you wrote. How are you today?")
        assert leyla.texts()[-1] == "Willow Star: Hello, I am glad you wrote. How are you today?"
        await leyla.voice("voice-file-77", message_id=4242)
        [copy] = api.calls_to("copyMessage")
        assert copy.params["chat_id"] == SUPPORTER_A["id"]
        assert copy.params["from_chat_id"] == SEEKER["id"]
        assert copy.params["message_id"] == 4242

        # She ends it; both are told; she gives feedback, the supporter is asked how she is.
        await leyla.say("/end")
        assert any("You ended the conversation" in t for t in leyla.texts())
        assert any("has ended the conversation" in t for t in dalia.texts())
        await leyla.press("feedback:score:", ":5")
        await leyla.say("It helped to talk.")
        assert "Thank you. Take good care of yourself." in leyla.texts()
        await dalia.press("feedback:checkin:", ":ok")

        async with edge.service.session_factory() as session:
            match = (await session.execute(select(Match))).scalar_one()
            answers = (await session.execute(
                select(Feedback.side, Feedback.score, Feedback.checkin, Feedback.gave_words)
                .order_by(Feedback.side)
            )).all()  # fmt: skip
        assert match.status == MatchStatus.ENDED
        assert [tuple(a) for a in answers] == [("seeker", 5, None, True),
                                               ("supporter", None, "ok", False)]  # fmt: skip

        # Every request the bot made, inspected.
        assert api.calls_to("forwardMessage") == []
        others = {
            SEEKER["id"]: identity(SUPPORTER_A) + identity(SUPPORTER_B) + identity(COORDINATOR),
            SUPPORTER_A["id"]: identity(SEEKER),
            SUPPORTER_B["id"]: identity(SEEKER),
            COORDINATOR["id"]: identity(SEEKER),
        }
        checked = 0
        for call in api.calls:
            recipient = call.params.get("chat_id")
            if recipient not in others:
                continue
            # copyMessage names the source chat to Telegram; the recipient never sees it.
            shown = {k: v for k, v in call.params.items() if k != "from_chat_id"}
            body = json.dumps(shown, ensure_ascii=False)
            for secret in others[recipient]:
                assert secret not in body, f"{call.method} to {recipient} reveals {secret!r}"
            checked += 1
        assert checked > 30
