"""/profile on Telegram, through the real Application and the fake Bot API: a supporter in the
middle of a conversation opens her profile, ticks a new language in place, a coordinator approves
it from the alert, and her conversation goes on as if nothing had happened."""

from sqlalchemy import select

from models import Participant, SupporterProfile
from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram_people import Person
from tests.test_e2e_telegram import COORDINATOR
from tests.test_stale_buttons import ready_pair


async def test_a_supporter_edits_her_profile_mid_conversation_and_a_coordinator_approves(
    database_url,
):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        dalia, leyla = await ready_pair(api, edge)
        coordinator = Person(api, edge, COORDINATOR)
        await dalia.press("offer:accept:")
        assert "Willow Star" in leyla.texts()[-1]

        await dalia.say("/profile")
        summary = dalia.texts()[-1]
        assert summary.startswith("Your profile") and "Languages: English" in summary
        assert "Topics: Feelings, loneliness" in summary and "Rather not take: none" in summary
        message_id, markup, _ = dalia.keyboard_message("profile:edit:languages")
        await dalia.press_on(message_id, markup, "profile:edit:languages")
        await dalia.press("profile:lang:pl")  # ticked on the same message, edited in place
        edited = [m for m in dalia.markups_of(message_id) if m]
        assert any(
            b["text"] == "✓ Polski" for m in edited for row in m["inline_keyboard"] for b in row
        )
        await leyla.say("Are you still there?")  # her words reach Dalia while she edits
        assert dalia.texts()[-1].endswith(": Are you still there?")
        await dalia.press("profile:save")
        assert "A coordinator will look at this change" in dalia.texts()[-1]
        alert = coordinator.texts()[-1]
        assert "Willow Star would like to change her profile" in alert
        assert "Would like: English, Polski" in alert

        await coordinator.press("profile:approve:")
        assert coordinator.texts()[-1].startswith("Approved: Willow Star")
        assert dalia.texts()[-1].startswith("A coordinator approved your change")
        await dalia.press("profile:done")
        assert "/profile opens it again" in dalia.texts()[-1]
        async with edge.service.session_factory() as session:
            languages = (await session.execute(
                select(SupporterProfile.languages)
                .join(Participant, Participant.id == SupporterProfile.participant_id)
                .where(Participant.alias == "Willow Star")
            )).scalar_one()  # fmt: skip
        assert languages == ["en", "pl"]

        # Back in her conversation: words go both ways as before.
        await dalia.say("Yes, I am here.")
        assert leyla.texts()[-1] == "Willow Star: Yes, I am here."
        await leyla.say("Thank you")
        assert dalia.texts()[-1].endswith(": Thank you")
