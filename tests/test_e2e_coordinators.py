"""End to end on Telegram, coordinators: a supporter's wish to talk answered, a flagged
conversation joined by a named third, then taken over — the real python-telegram-bot
Application against the fake Bot API, and every request it made read afterwards."""

import json
import re

from sqlalchemy import select

from models import AuditEntry, CoordinatorTalk, Match, MatchStatus, TalkStatus
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram_people import Person
from tests.test_e2e_telegram import (
    COORDINATOR,
    SEEKER,
    SUPPORTER_A,
    SUPPORTER_B,
    identity,
    invite,
    onboard_supporter,
)
from tests.test_safety_guard import VIOLENT


async def test_coordinators_answer_join_and_take_over_on_telegram(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        rose = Person(api, edge, COORDINATOR)
        iris = Person(api, edge, SUPPORTER_B)  # a second coordinator, off duty
        dalia, leyla = Person(api, edge, SUPPORTER_A), Person(api, edge, SEEKER)
        await rose.say(f"/start {await invite(edge, 'coordinator')}")
        await rose.say("Rose")
        await rose.say("/available")
        await iris.say(f"/start {await invite(edge, 'coordinator')}")
        await iris.say("Iris")
        await onboard_supporter(edge, dalia, "Willow Star")
        await rose.say("/approve Willow Star")
        await dalia.say("/available")

        # The supporter asks to talk; the coordinator on duty gets it and answers.
        await dalia.say("/coordinator")
        assert dalia.texts()[-1] == "A coordinator will write to you here soon."
        assert "Willow Star" in rose.texts()[-1] and "would like to talk" in rose.texts()[-1]
        assert not [t for t in iris.texts() if "would like to talk" in t]  # Rose is on duty
        await rose.press("talk:accept:")
        assert dalia.texts()[-1].startswith("Coordinator Rose is here for you")
        await dalia.say("Last night's conversation is still with me.")
        assert rose.texts()[-1] == "Willow Star: Last night's conversation is still with me."
        await rose.say("Thank you for telling me. Shall we talk it through?")
        assert dalia.texts()[-1] == "Rose: Thank you for telling me. Shall we talk it through?"
        await dalia.say("/end")
        assert "You ended the talk with Rose. Thank you." in dalia.texts()
        assert rose.texts()[-1] == "Willow Star ended the talk. Take care."

        # A woman's conversation, flagged for danger.
        await leyla.say("/start")
        await leyla.press("lang:en")
        await leyla.press("intake:terms:yes")
        await leyla.press("intake:campaigns:no")
        await leyla.press("intake:safe:yes")
        await leyla.press("intake:topic:emotional")
        await leyla.say("I would like to talk to someone")
        await dalia.press("offer:accept:")
        await leyla.say(VIOLENT)
        await rose.say("/live")
        flagged = next(t for t in reversed(rose.texts()) if t.startswith("⚠ #"))
        ref, seeker_alias = re.match(r"⚠ #(\d+): (.+?) with Willow Star", flagged).groups()

        # Rose joins: both women are told, and all three read each other, by alias.
        await rose.say(f"/join {ref}")
        joined = "Coordinator Rose joined the conversation."
        assert leyla.texts()[-1].startswith(joined) and dalia.texts()[-1].startswith(joined)
        await leyla.say("He is coming home soon.")
        heard = f"{seeker_alias}: He is coming home soon."
        assert dalia.texts()[-1] == heard and rose.texts()[-1] == heard
        await dalia.say("We are here with you.")
        assert leyla.texts()[-1] == rose.texts()[-1] == "Willow Star: We are here with you."
        await rose.say("Is there somewhere safe you can go tonight?")
        said = "Rose: Is there somewhere safe you can go tonight?"
        assert leyla.texts()[-1] == dalia.texts()[-1] == said

        # Rose takes it over: Dalia is told and leaves; Rose continues with her.
        await rose.say(f"/takeover {ref}")
        assert dalia.texts()[-2].startswith("Coordinator Rose is continuing your conversation")
        assert dalia.texts()[-1].startswith("That conversation ended suddenly")  # how is she?
        assert leyla.texts()[-1].startswith("Coordinator Rose is continuing this conversation")
        await leyla.say("My sister lives nearby.")
        assert rose.texts()[-1] == f"{seeker_alias}: My sister lives nearby."
        assert not [t for t in dalia.texts() if "sister" in t]
        await rose.say("Good. Can you go to her now?")
        assert leyla.texts()[-1] == "Rose: Good. Can you go to her now?"
        await dalia.say("I can still help her")
        assert not [t for t in leyla.texts() + rose.texts() if "still help" in t]

        async with edge.service.session_factory() as session:
            match = (await session.execute(select(Match))).scalar_one()
            talk = (await session.execute(select(CoordinatorTalk))).scalar_one()
            done = (await session.execute(select(AuditEntry.action))).scalars().all()
        assert match.status == MatchStatus.ACTIVE and talk.status == TalkStatus.ENDED
        for action in ("talk.accept", "talk.end", "conversation.join", "conversation.take_over"):
            assert action in done, action

        # Nobody's chat id, name or username reaches anyone else; nothing is forwarded.
        assert api.calls_to("forwardMessage") == []
        others = {
            SEEKER["id"]: identity(SUPPORTER_A) + identity(SUPPORTER_B) + identity(COORDINATOR),
            SUPPORTER_A["id"]: identity(SEEKER) + identity(COORDINATOR),
            COORDINATOR["id"]: identity(SEEKER) + identity(SUPPORTER_A),
        }
        for call in api.calls:
            recipient = call.params.get("chat_id")
            if recipient in others:
                shown = {k: v for k, v in call.params.items() if k != "from_chat_id"}
                body = json.dumps(shown, ensure_ascii=False)
                for secret in others[recipient]:
                    assert secret not in body, f"{call.method} to {recipient} reveals {secret!r}"
