"""Feedback after a conversation: her score and optional words, the supporter's check-in."""

from sqlalchemy import select

from models import Feedback, OutboxMessage
from tests.support import World, running_service
from tests.test_relay import connected


async def test_score_and_words_are_thanked_and_only_the_score_is_stored(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        her, helper = await connected(world)
        await her.command("end")

        await her.tap(her.choices("feedback:score")[3])  # 4
        assert "a few words" in her.texts[-1]
        await her.text("She listened. Call me on +48 600 123 456")

        assert "Thank you. Take good care of yourself." in her.texts
        alert = coordinator.texts[-1]
        assert "score 4" in alert and "She listened." in alert and "600" not in alert
        async with service.session_factory() as session:
            stored = (await session.execute(select(Feedback))).scalar_one()
            params = (await session.execute(select(OutboxMessage.params))).scalars().all()
        assert (stored.side, stored.score, stored.gave_words) == ("seeker", 4, True)
        assert not any(p and "listened" in str(p) for p in params)  # delivered, then wiped


async def test_she_may_skip_the_words_and_cannot_score_twice(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her, helper = await connected(world)
        await helper.command("end")
        score = her.choices("feedback:score")[4]

        await her.tap(score)
        await her.tap(her.choices("feedback:skip")[0])
        await her.tap(score)

        assert "we already have your answer" in her.texts[-1]
        async with service.session_factory() as session:
            stored = (await session.execute(select(Feedback))).scalar_one()
        assert (stored.score, stored.gave_words) == (5, False)


async def test_only_the_seeker_of_the_conversation_can_score_it(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her, helper = await connected(world)
        await her.command("end")
        await helper.tap(her.choices("feedback:score")[0])
        async with service.session_factory() as session:
            assert (await session.execute(select(Feedback))).scalars().all() == []


async def test_supporter_check_in_that_was_heavy_and_asking_to_talk(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord")
        her, helper = await connected(world)
        await her.command("end")
        answers = helper.choices("feedback:checkin")
        assert [a.rsplit(":", 1)[1] for a in answers] == ["ok", "heavy", "talk"]

        await helper.tap(answers[2])

        assert "will contact you here soon" in helper.texts[-1]
        assert "would like to talk" in coordinator.texts[-1]
        # Whom to contact is named (her alias); the woman she supported is not.
        assert "Her" not in coordinator.texts[-1] and "Sup s1" in coordinator.texts[-1]
        async with service.session_factory() as session:
            stored = (await session.execute(select(Feedback))).scalar_one()
        assert (stored.side, stored.checkin, stored.score) == ("supporter", "talk", None)
