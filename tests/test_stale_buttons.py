"""Buttons that match the moment, on Telegram through the real Application and the fake Bot API.

An old "Cancel my request" pressed after a supporter accepted must not cut her off: her next
words still reach the supporter. A pressed keyboard is replaced by her choice; a multi-choice
question edits its own message instead of sending a new one per tap.
"""

from tests.channel_support import running_edge
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram_people import Person
from tests.test_e2e_telegram import COORDINATOR, SEEKER, SUPPORTER_A, invite


async def onboard(edge, person: Person, alias: str) -> None:
    await person.say(f"/start {await invite(edge, 'supporter')}")
    await person.say(alias)
    await person.press("onboard:done")
    await person.press("onboard:topic:emotional")
    await person.press("onboard:done")
    await person.press("onboard:done")
    await person.press("onboard:capacity:2")
    await person.press("onboard:hours:any")  # any time: no time zone asked


async def ready_pair(api, edge, *, campaigns: bool = False) -> tuple[Person, Person]:
    coordinator = Person(api, edge, COORDINATOR)
    dalia, leyla = Person(api, edge, SUPPORTER_A), Person(api, edge, SEEKER)
    await coordinator.say(f"/start {await invite(edge, 'coordinator')}")
    await coordinator.say("Coordinator Rose")
    await onboard(edge, dalia, "Willow Star")
    await coordinator.say("/approve Willow Star")
    await dalia.say("/available")
    await leyla.say("/start")
    await leyla.press("lang:en")
    await leyla.press("intake:terms:yes")
    await leyla.press("intake:campaigns:yes" if campaigns else "intake:campaigns:no")
    await leyla.press("intake:safe:yes")
    await leyla.press("intake:topic:emotional")
    await leyla.say("I feel very alone since I moved here")
    return dalia, leyla


async def test_an_old_cancel_button_never_cuts_her_off_a_live_conversation(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        dalia, leyla = await ready_pair(api, edge)
        waiting = leyla.keyboard_message("relay:cancel:")  # under "asking our supporters"
        await dalia.press("offer:accept:")
        assert "Willow Star" in leyla.texts()[-1]

        await leyla.press_on(*waiting)  # the old button, pressed now
        told = leyla.texts()[-1]
        assert "already talking with Willow Star" in told
        assert "no open conversation" not in " ".join(leyla.texts())
        assert not any("choose one of the options" in t for t in leyla.texts())
        assert leyla.markups_of(waiting[0])[-1] is None  # the old keyboard is gone, unticked

        await leyla.say("Are you still there?")
        assert dalia.texts()[-1].endswith(": Are you still there?")
        await dalia.say("Yes, I am here.")
        assert leyla.texts()[-1] == "Willow Star: Yes, I am here."


async def test_words_typed_from_the_menu_during_a_conversation_still_reach_her_supporter(
    database_url,
):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        dalia, leyla = await ready_pair(api, edge)
        await dalia.press("offer:accept:")
        await leyla.say("/menu")
        await leyla.say("Sorry, I pressed something")
        assert dalia.texts()[-1].endswith(": Sorry, I pressed something")


async def test_a_pressed_keyboard_is_replaced_by_her_choice(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        leyla = Person(api, edge, SEEKER)
        await leyla.say("/start")
        language = leyla.keyboard_message("lang:en")
        await leyla.press_on(*language)
        [markup] = leyla.markups_of(language[0])
        assert markup == {"inline_keyboard": [[{"text": "✓ English", "callback_data": "noop"}]]}
        calls = len(api.calls)
        await leyla.press_on(language[0], markup, "noop")  # the tick itself does nothing
        assert [c.method for c in api.calls[calls:]] == ["answerCallbackQuery"]

        terms = leyla.keyboard_message("intake:terms:yes")
        await leyla.press_on(*terms)
        await leyla.press_on(*terms)  # pressed twice quickly: the second is an old button
        assert leyla.markups_of(terms[0])[0]["inline_keyboard"][0][0]["text"].startswith("✓")


async def test_the_supporter_profile_takes_one_message_per_question(database_url):
    async with FakeBotAPI() as api, running_edge(database_url, telegram=api) as edge:
        dalia = Person(api, edge, SUPPORTER_A)
        await dalia.say(f"/start {await invite(edge, 'supporter')}")
        await dalia.say("Willow Star")
        sent_before = len(api.calls_to("sendMessage"))
        languages = dalia.keyboard_message("onboard:lang:pl")
        await dalia.press("onboard:lang:pl")
        await dalia.press("onboard:lang:uk")
        await dalia.press("onboard:lang:uk")  # unticked again
        assert len(api.calls_to("sendMessage")) == sent_before  # ticks edit the question
        edits = [
            c for c in api.calls_to("editMessageText") if c.params["message_id"] == languages[0]
        ]
        assert len(edits) == 3
        labels = [b["text"] for row in edits[-1].params["reply_markup"]["inline_keyboard"]
                  for b in row]  # fmt: skip
        assert "✓ Polski" in labels and "✓ English" in labels and "Українська" in labels
        await dalia.press("onboard:done")
        await dalia.press("onboard:topic:emotional")
        await dalia.press("onboard:topic:housing")
        await dalia.press("onboard:done")
        excluded = dalia.keyboard_message("onboard:topic:")
        offered = [b["callback_data"] for row in excluded[1]["inline_keyboard"] for b in row]
        assert "onboard:topic:emotional" not in offered  # a topic she takes is not offered
        await dalia.press("onboard:done")
        await dalia.press("onboard:capacity:2")
        await dalia.press("onboard:hours:any")
        questions = api.calls_to("sendMessage")[sent_before:]
        assert not any("time zone" in c.params["text"] for c in questions)  # "any time"
        assert "coordinator" in dalia.texts()[-1]
        assert len(questions) <= 7  # one per question, and the last word
