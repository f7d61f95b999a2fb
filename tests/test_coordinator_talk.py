"""A supporter's wish to talk reaches a coordinator and they talk through the relay, by alias;
a coordinator joins a conversation flagged for danger as a named third, or takes it over."""

from sqlalchemy import select

from flows.supporters.wellbeing import ROUND_JOB
from i18n import translate
from models import (
    AuditEntry,
    CoordinatorTalk,
    Feedback,
    Match,
    MatchStatus,
    ScheduledJob,
    TalkStatus,
)
from tests.support import World, running_service
from tests.test_coordinator_tools import peerline
from tests.test_relay import connected
from tests.test_safety_guard import VIOLENT


async def actions(service) -> list[str]:
    async with service.session_factory() as session:
        rows = (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        return [row.action for row in rows]


async def test_i_d_like_to_talk_reaches_the_coordinator_on_duty_and_they_write_both_ways(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        rose = await world.supporter("c1", role="coordinator", alias="Rose")
        resting = await world.supporter("c2", role="coordinator", alias="Iris", on_duty=False)
        her, helper = await connected(world)
        await her.command("end")
        seen_by_her = len(her.texts)
        await helper.tap(helper.choices("feedback:checkin")[2])  # "I'd like to talk"
        assert "will contact you here soon" in helper.texts[-1]
        assert "Sup s1" in rose.texts[-1] and "would like to talk" in rose.texts[-1]
        assert not resting.texts  # somebody is on duty: only she is asked

        await rose.tap(rose.choices("talk:accept")[0])
        assert rose.texts[-1].startswith("You are now talking with Sup s1")
        assert helper.texts[-1].startswith("Coordinator Rose is here for you")
        await helper.text("That one stayed with me, call me at +48 601 234 567")
        assert rose.texts[-1].startswith("Sup s1: That one stayed with me")
        assert "601 234 567" not in rose.texts[-1]  # the same relay: contacts masked
        await rose.text("I am here. Tell me what stayed with you.")
        assert helper.texts[-1] == "Rose: I am here. Tell me what stayed with you."
        assert len(her.texts) == seen_by_her  # nothing of it reaches the woman she supported

        await helper.command("end")  # she is back where she was: the menu
        assert "You ended the talk with Rose. Thank you." in helper.texts[-2:]
        assert rose.texts[-1] == "Sup s1 ended the talk. Take care."
        await rose.text("Are you still there?")
        assert "Are you still there?" not in "".join(helper.texts[-2:])
        async with service.session_factory() as session:
            talk = (await session.execute(select(CoordinatorTalk))).scalar_one()
        assert (talk.status, talk.ended_by, talk.reason) == (TalkStatus.ENDED, "supporter",
                                                              "checkin_talk")  # fmt: skip
        done = await actions(service)
        assert [a for a in done if a.startswith("talk.")] == ["talk.ask", "talk.accept",
                                                               "talk.end"]  # fmt: skip


async def test_with_nobody_on_duty_every_coordinator_is_asked_the_first_takes_it(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        rose = await world.supporter("c1", role="coordinator", alias="Rose", on_duty=False)
        iris = await world.supporter("c2", role="coordinator", alias="Iris", on_duty=False)
        helper = await world.supporter("s1", alias="Sup s1")
        await helper.command("coordinator")
        assert helper.texts[-1] == "A coordinator will write to you here soon."
        await helper.command("coordinator")
        assert "already asked" in helper.texts[-1]
        first, second = rose.choices("talk:accept"), iris.choices("talk:accept")
        assert first == second and len(first) == 1
        await iris.tap(second[0])
        assert rose.texts[-1] == "Iris is talking with Sup s1 now. Thank you."
        await rose.tap(first[0])
        assert "Another coordinator is already with her" in rose.texts[-1]
        await helper.text("Thank you for answering")
        assert iris.texts[-1] == "Sup s1: Thank you for answering"
        assert "Thank you for answering" not in "".join(rose.texts)
        await iris.command("end")
        assert helper.texts[-1] == "Iris ended the talk. Take care."


async def test_a_wish_nobody_takes_reminds_every_coordinator_after_the_set_time(database_url):
    async with running_service(database_url) as service:
        service.settings.talk_reminder_minutes = 20.0
        world = World.around(service)
        rose = await world.supporter("c1", role="coordinator", alias="Rose")
        iris = await world.supporter("c2", role="coordinator", alias="Iris", on_duty=False)
        helper = await world.supporter("s1", alias="Sup s1")
        await helper.command("coordinator")
        assert not iris.texts
        await world.run_jobs(after_seconds=10 * 60)
        assert not iris.texts  # not yet
        await world.run_jobs(after_seconds=11 * 60)
        for coordinator in (rose, iris):
            assert "has been waiting 21 min" in coordinator.texts[-1]
            assert coordinator.choices("talk:accept")
        await iris.tap(iris.choices("talk:accept")[0])
        assert rose.texts[-1] == "Iris is talking with Sup s1 now. Thank you."
        await world.run_jobs(after_seconds=30 * 60)
        assert rose.texts[-1] == "Iris is talking with Sup s1 now. Thank you."  # once only


async def test_a_supporter_in_a_talk_still_hears_her_woman_and_writes_to_her_again_after(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        rose = await world.supporter("c1", role="coordinator", alias="Rose")
        her, helper = await connected(world)
        await helper.command("coordinator")
        await rose.tap(rose.choices("talk:accept")[0])
        await her.text("Are you there?")
        assert helper.texts[-1] == "Her h1: Are you there?"
        assert "Are you there?" not in "".join(rose.texts)
        await helper.text("She writes to me, I will answer her now")
        assert rose.texts[-1].startswith("Sup s1: She writes to me")
        assert not [t for t in her.texts if "answer her now" in t]
        await helper.command("switch")  # to her conversation, the talk still open
        await helper.tap(helper.choices("switch:")[0])
        await helper.text("Yes, one moment.")
        assert her.texts[-1] == "Sup s1: Yes, one moment."
        await helper.command("coordinator")  # and back into the talk
        assert helper.texts[-1] == "You are already talking with coordinator Rose: just write here."
        await helper.text("I am back")
        assert rose.texts[-1] == "Sup s1: I am back" and "I am back" not in her.texts[-1]
        await rose.command("end")
        assert helper.texts[-1] == "Rose ended the talk. Take care."
        await helper.text("Yes, I am here.")
        assert her.texts[-1] == "Sup s1: Yes, I am here."
        async with service.session_factory() as session:
            match = (await session.execute(select(Match))).scalar_one()
        assert match.status == MatchStatus.ACTIVE  # ending the talk ended nothing else


async def test_a_heavy_week_opens_a_talk_with_a_coordinator(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        rose = await world.supporter("c1", role="coordinator", alias="Rose")
        helper = await world.supporter("s1", alias="Sup s1")
        async with service.session_factory() as session, session.begin():
            session.add(ScheduledJob(kind=ROUND_JOB, due_at=service.clock.now(), payload={}))
        await world.run_jobs()
        await helper.tap(helper.choices("wellbeing:weekly")[1])  # heavy
        assert "weekly check-in" in rose.texts[-1] and "It was heavy" in rose.texts[-1]
        await rose.tap(rose.choices("talk:accept")[0])
        await rose.text("How was your week?")
        assert helper.texts[-1] == "Rose: How was your week?"


async def test_a_seeker_cannot_ask_for_a_coordinator_talk_or_accept_one(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1")
        helper = await world.supporter("s1", alias="Sup s1")
        await world.supporter("c1", role="coordinator", alias="Rose")
        await her.command("coordinator")
        assert "coordinator will write" not in her.texts[-1]
        await helper.command("coordinator")
        async with service.session_factory() as session:
            talk = (await session.execute(select(CoordinatorTalk))).scalar_one()
        await her.tap(f"talk:accept:{talk.id}")
        await helper.tap(f"talk:accept:{talk.id}")
        async with service.session_factory() as session:
            talk = await session.get(CoordinatorTalk, talk.id)
        assert talk.status == TalkStatus.WAITING and talk.coordinator_id is None


# --- Joining a flagged conversation, and taking it over ----------------------------------------


async def flagged(world: World):
    """A conversation in which danger was noticed, and its number as /live shows it."""
    her, helper = await connected(world)
    await her.text(VIOLENT)
    async with world.service.session_factory() as session:
        match = (await session.execute(select(Match))).scalar_one()
    return her, helper, match.request_id


async def test_a_coordinator_joins_a_flagged_conversation_and_all_three_read_each_other(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        rose = await world.supporter("c1", role="coordinator", alias="Rose")
        her, helper, ref = await flagged(world)
        await rose.command("join", str(ref))
        assert her.texts[-1].startswith("Coordinator Rose joined the conversation")
        assert helper.texts[-1].startswith("Coordinator Rose joined the conversation")
        assert rose.texts[-1].startswith(f"You joined #{ref} with Her h1 and Sup s1")

        await her.text("I am afraid to go home")
        assert helper.texts[-1] == rose.texts[-1] == "Her h1: I am afraid to go home"
        await helper.text("You are not alone, we are both here")
        assert her.texts[-1] == rose.texts[-1] == "Sup s1: You are not alone, we are both here"
        await rose.text("I am a coordinator. Is there a safe place you can go tonight?")
        expected = "Rose: I am a coordinator. Is there a safe place you can go tonight?"
        assert her.texts[-1] == helper.texts[-1] == expected

        await rose.command("leave")
        assert her.texts[-1] == helper.texts[-1] == "Coordinator Rose left the conversation."
        assert rose.texts[-1] == f"You left conversation #{ref}."
        await her.text("Thank you both")
        assert helper.texts[-1] == "Her h1: Thank you both"
        assert "Thank you both" not in rose.texts[-1]
        done = await actions(service)
        assert "conversation.join" in done and "conversation.leave" in done


async def test_only_a_flagged_conversation_can_be_joined_and_only_by_a_coordinator(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        rose = await world.supporter("c1", role="coordinator", alias="Rose")
        iris = await world.supporter("c2", role="coordinator", alias="Iris")
        her, helper = await connected(world)
        async with service.session_factory() as session:
            ref = (await session.execute(select(Match.request_id))).scalar_one()
        await rose.command("join", str(ref))
        assert "not flagged for danger" in rose.texts[-1]
        await rose.command("takeover", str(ref))
        assert "not flagged for danger" in rose.texts[-1]
        await rose.command("join", "")
        assert "/join 12" in rose.texts[-1]
        await rose.command("join", "999")
        assert "no conversation #999" in rose.texts[-1]
        await helper.command("join", str(ref))  # a supporter may not
        assert "joined" not in helper.texts[-1]
        await her.text(VIOLENT)
        await rose.command("join", f"#{ref}")
        await iris.command("join", str(ref))
        assert iris.texts[-1] == f"Coordinator Rose is already in conversation #{ref}."
        assert [a for a in await actions(service) if a.startswith("conversation.")] == [
            "conversation.join"
        ]


async def test_the_end_of_a_joined_conversation_tells_the_coordinator(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        rose = await world.supporter("c1", role="coordinator", alias="Rose")
        her, helper, ref = await flagged(world)
        await rose.command("join", str(ref))
        await her.command("end")
        assert rose.texts[-1] == f"Conversation #{ref} between Her h1 and Sup s1 has ended."
        await rose.text("Hello?")
        assert "Hello?" not in "".join(her.texts + helper.texts)


async def test_a_coordinator_takes_a_flagged_conversation_over_and_the_supporter_leaves(
    database_url, tmp_path
):
    async with running_service(database_url) as service:
        world = World.around(service)
        rose = await world.supporter("c1", role="coordinator", alias="Rose")
        her, helper, ref = await flagged(world)
        await rose.command("join", str(ref))
        await rose.command("takeover", str(ref))
        assert helper.texts[-2].startswith("Coordinator Rose is continuing your conversation")
        assert helper.texts[-1] == translate("en", "feedback.checkin_hard")
        assert her.texts[-1] == translate("en", "takeover.seeker", {"alias": "Rose"})
        assert rose.texts[-1].startswith(f"You continue #{ref} with Her h1.")

        await her.text("Can you help me find a shelter?")
        assert rose.texts[-1] == "Her h1: Can you help me find a shelter?"
        assert "shelter" not in helper.texts[-1]
        await rose.text("Yes. Let us look at it together.")
        assert her.texts[-1] == "Rose: Yes. Let us look at it together."
        assert "together" not in helper.texts[-1]
        await helper.text("I can still help")  # her words no longer reach the woman
        assert "I can still help" not in her.texts[-1]
        assert "You have no open conversations right now." in helper.texts[-2:]
        await helper.text("Hello?", reply_to=helper.delivery_id("Her h1: He hits"))
        assert "Hello?" not in her.texts[-1]

        await rose.command("end")
        async with service.session_factory() as session:
            match = (await session.execute(select(Match))).scalar_one()
        assert match.status == MatchStatus.ENDED and match.joined_by is None
        rose_id = (await rose.participant()).id
    # `peerline audit` shows what she did, never a word or an alias.
    code, out, err = await peerline(database_url, tmp_path, "audit", "--action", "conversation")
    assert code == 0, err
    assert [line.split()[3] for line in out.splitlines()] == [
        "conversation.take_over", "conversation.join"
    ]  # fmt: skip
    assert all(f"participant:{rose_id}" in line for line in out.splitlines())
    assert "Rose" not in out and "Her h1" not in out and "shelter" not in out


async def test_taken_over_while_she_was_writing_to_it_her_words_fall_to_nobody_else(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        rose = await world.supporter("c1", role="coordinator", alias="Rose")
        her, helper, ref = await flagged(world)
        other, _ = await connected(world, seeker="h2")
        async with service.session_factory() as session:
            first = (await session.execute(select(Match).where(Match.request_id == ref))
                     ).scalar_one()  # fmt: skip
        await helper.tap(f"switch:{first.id}")  # she writes to Her h1
        await rose.command("takeover", str(ref))
        await helper.text("Meant for Her h1")
        assert "has ended, so this was not sent" in helper.texts[-1]
        assert not [t for t in other.texts + her.texts if "Meant for" in t]
        await helper.text("Now for Her h2")  # told once; the one left is hers
        assert other.texts[-1] == "Sup s1: Now for Her h2"


async def test_the_supporter_taken_off_a_conversation_is_asked_how_she_is(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        rose = await world.supporter("c1", role="coordinator", alias="Rose")
        iris = await world.supporter("c2", role="coordinator", alias="Iris")
        her, helper, ref = await flagged(world)
        await rose.command("takeover", str(ref))
        assert helper.texts[-1] == translate("en", "feedback.checkin_hard")
        choices = helper.choices("feedback:checkin")
        assert [c.rsplit(":", 1)[1] for c in choices] == ["ok", "heavy", "talk"]
        her_choices = her.choices("feedback:checkin")
        await her.tap(choices[2])  # the woman cannot answer for her
        assert her_choices == [] and await feedback_rows(service) == []

        asked = len(iris.texts)
        await helper.tap(choices[2])  # "I'd like to talk to a coordinator"
        assert helper.texts[-1] == translate("en", "feedback.checkin_reply_talk")
        assert len(iris.texts) > asked  # a coordinator is asked to talk with her
        await helper.tap(choices[0])
        assert helper.texts[-1] == translate("en", "feedback.already")
        await iris.tap(choices[1])  # nor can anyone else
        assert await feedback_rows(service) == [("supporter", None, "talk")]

        await rose.command("end")  # Rose's own check-in for the conversation is hers to answer
        await rose.tap(rose.choices("feedback:checkin")[0])
        async with service.session_factory() as session:
            match_id = (await session.execute(select(Match.id))).scalar_one()
        assert set(await feedback_rows(service)) == {
            ("supporter", None, "talk"), ("supporter", match_id, "ok"),
        }  # fmt: skip


async def feedback_rows(service) -> list[tuple]:
    async with service.session_factory() as session:
        rows = await session.execute(select(Feedback.side, Feedback.match_id, Feedback.checkin)
                                     .where(Feedback.side == "supporter"))  # fmt: skip
        return [tuple(row) for row in rows.all()]
