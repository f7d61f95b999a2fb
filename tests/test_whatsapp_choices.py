"""On WhatsApp every choice is typed as a number: the check-in (also as a template outside her
window) and, at the end of a conversation, both her rating and "talk to her again"."""

import json

from sqlalchemy import select

from flows.context import FlowContext
from flows.conversation.checkins import after_referral
from i18n import translate
from models import Feedback, FlowState, Match
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI
from tests.fakes.twilio_api import FakeTwilioAPI
from tests.test_checkins import MORNING, clock_at
from tests.test_cross_channel import COORDINATOR, SUPPORTER, WhatsAppWoman
from tests.test_e2e_telegram import Script, invite, onboard_supporter
from tests.test_whatsapp_window import HER


async def test_a_check_in_sent_as_a_template_is_answered_by_typing_its_number(database_url):
    async with (
        FakeTwilioAPI() as tw,
        running_edge(database_url, twilio=tw, twilio_template_sid="HXcheckin",
                     clock=clock_at(MORNING)) as edge,
    ):  # fmt: skip
        service, her = edge.service, WhatsAppWoman(tw, edge)
        await her.say("/start")  # she is offered her language: "1" would pick one
        async with service.session_factory() as session, session.begin():
            me = await service.router.find_participant(session, "whatsapp", HER.split(":")[1])
            ctx = FlowContext(session, me, await session.get(FlowState, me.id),
                              service.clock.now(), service.settings,
                              service.router.routes.flows)  # fmt: skip
            await after_referral(ctx, "home")
        tw.clear()
        service.clock.advance(2 * 86400)  # her 24-hour window has closed
        while await service.jobs.tick():
            pass
        await edge.drain()
        templates = [m for m in tw.messages if m.get("ContentSid") == "HXcheckin"]
        assert templates  # the two check-ins after the help numbers (2 h and 48 h)
        for template in templates:
            words = json.loads(template["ContentVariables"])["1"]
            assert "\n1. " in words and "\n3. " in words  # her choices, numbered, in it
        await her.say("1")
        assert her.texts()[-1] == translate("en", "care.glad")


async def test_at_the_end_her_rating_and_talking_again_are_both_typeable(database_url):
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
        await leyla.say("/start")
        for choice in ("lang:en", "intake:terms:yes", "intake:campaigns:no", "intake:safe:yes",
                       "intake:topic:emotional"):  # fmt: skip
            await leyla.choose(choice)
        await leyla.say("I feel very alone since I moved here")
        await dalia.press("offer:accept:")
        await leyla.say("Thank you, that helped.")
        await leyla.say("/end")

        rating, again = leyla.texts()[-2:]
        assert rating.startswith(translate("en", "feedback.ask_score"))
        assert "\n1. " in rating and "\n5. " in rating
        # "Again" is numbered on from the rating, so each number means one thing.
        assert "\n6. " in again and "\n7. " in again and "\n1. " not in again
        assert translate("en", "whatsapp.reply_range", {"first": 6, "last": 7}) in again
        await leyla.say("6")
        assert leyla.texts()[-1] == translate("en", "care.again_yes")
        await leyla.say("5")
        async with edge.service.session_factory() as session:
            match = (await session.execute(select(Match))).scalar_one()
            scores = (await session.execute(select(Feedback.score))).scalars().all()
        assert match.seeker_again is True and scores == [5]
