"""The guards every message passes: danger screening, bans and floods, through the real router."""

from sqlalchemy import select

from flows import metrics
from flows.events import EventKind
from models import GuardMark, HelpRequest, OutboxMessage, Participant, ParticipantStatus
from tests.support import ChatUser, Person, World, running_service

VIOLENT = "He hits me every night and I am scared"


async def connect(world: World, seeker: Person, supporter: Person) -> int:
    """Open her request and let the supporter accept it; returns the request id."""
    request_id = await world.ask_for_help(seeker, topic="emotional")
    accept = [c for c in supporter.choices("offer:") if ":accept:" in c]
    assert accept, "the supporter was offered the request"
    await supporter.tap(accept[0])
    return request_id


async def test_a_violent_message_in_intake_gets_the_help_paths_once(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord One")
        her = await world.seeker("h1")

        await her.text(VIOLENT)
        help_paths = [t for t in her.texts if "112" in t and "800 120 002" in t]
        assert len(help_paths) == 1
        alerts = coordinator.texts
        assert len(alerts) == 1 and "Danger signal (violence, score 1.00)" in alerts[0]
        assert "hits" not in alerts[0] and "Seeker h1" not in alerts[0]

        await her.text("He hit me again, I am so scared of him")
        assert len([t for t in her.texts if "800 120 002" in t]) == 1  # not repeated
        assert len(coordinator.texts) == 1


async def test_a_danger_signal_in_a_conversation_notes_the_supporter_and_the_words_still_go(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord One")
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1")
        request_id = await connect(world, her, supporter)
        before_supporter = len(supporter.texts)

        await her.text(VIOLENT)

        after = supporter.texts[before_supporter:]
        assert any(VIOLENT in t for t in after), "her message is still relayed"
        notes = [t for t in after if t.startswith("A note only for you")]
        assert len(notes) == 1 and VIOLENT not in notes[0]
        assert after.index(notes[0]) > [i for i, t in enumerate(after) if VIOLENT in t][0]
        assert any("112" in t and "800 120 002" in t for t in her.texts)
        assert any("Danger signal" in t and f"R{request_id}" in t for t in coordinator.texts)
        async with service.session_factory() as session:
            request = await session.get(HelpRequest, request_id)
        assert request.urgent and request.danger_signal_at is not None

        await her.text("he hit me again yesterday")
        assert len([t for t in supporter.texts if t.startswith("A note only for you")]) == 1
        assert len([t for t in her.texts if "800 120 002" in t]) == 1


async def test_only_the_label_and_cue_ids_are_logged_never_her_words(database_url, caplog):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1")
        with caplog.at_level("INFO"):
            await her.text("I want to kill myself tonight")
        assert "label=self_harm" in caplog.text
        assert "kill myself" not in caplog.text
        assert any("116 123" in t for t in her.texts)


async def test_talk_about_violence_in_general_or_idioms_raise_nothing(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1")
        await her.text("this queue is killing me")
        assert not any("112" in t for t in her.texts)


async def test_a_banned_participants_messages_reach_no_one_and_she_hears_one_neutral_line(
    database_url,
):
    async with running_service(database_url) as service:
        world = World.around(service)
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1")
        await connect(world, her, supporter)
        me = await her.participant()
        async with service.session_factory() as session, session.begin():
            (await session.get(Participant, me.id)).status = ParticipantStatus.BLOCKED
        supporter_before = len(supporter.texts)

        await her.text("are you there? call me")
        await her.text("hello??")
        await her.text(VIOLENT)

        assert supporter.texts[supporter_before:] == []
        assert her.texts[-1] == "This service is not available to you at the moment."
        assert her.texts.count("This service is not available to you at the moment.") == 1

        service.clock.advance(25 * 3600)  # a day later she is told once more, not on every word
        await her.text("hello")
        await her.text("hello again")
        assert her.texts.count("This service is not available to you at the moment.") == 2


async def test_a_flood_is_slowed_with_one_notice_and_nothing_is_silently_lost(database_url):
    async with running_service(database_url, flood_max_messages=3,
                               flood_window_seconds=10) as service:  # fmt: skip
        her = ChatUser(service, "f1", pace=0.5)
        replies = []
        for _ in range(6):
            replies.append([m.text for m in await her.text("hello")])
        notices = [r for batch in replies for r in batch if "very fast" in r]
        assert len(notices) == 1
        assert replies[3] == notices  # the fourth message is the first one held back
        assert replies[4] == [] and replies[5] == []

        service.clock.advance(11)
        after = [m.text for m in await her.text("hello")]
        assert after and not any("very fast" in t for t in after)  # handled normally again


async def test_coordinators_are_never_slowed(database_url):
    async with running_service(database_url, flood_max_messages=2,
                               flood_window_seconds=10) as service:  # fmt: skip
        world = World.around(service)
        coordinator = await world.supporter("c1", role="coordinator", alias="Coord One")
        for _ in range(5):
            await coordinator.send(EventKind.COMMAND, command="reports", text="/reports")
        assert not any("very fast" in t for t in coordinator.texts)
        assert coordinator.texts.count("There are no open reports.") == 5
        async with service.session_factory() as session:
            marks = (await session.execute(select(GuardMark))).scalars().all()
            rows = (await session.execute(select(OutboxMessage))).scalars().all()
        assert marks == [] and len(rows) == 5


async def test_a_photo_caption_is_screened_too(database_url):
    async with running_service(database_url) as service:
        world = World.around(service)
        her = await world.seeker("h1", language="ru")
        await her.media("photo", "f-9", caption="он меня бьёт каждый день")
        assert any("112" in t and "800 120 002" in t for t in her.texts)


async def test_on_whatsapp_the_help_paths_name_commands_instead_of_numbered_choices(database_url):
    async with running_service(database_url) as service:
        her = ChatUser(service, "+48500100200", channel="whatsapp")
        await her.command("start")
        replies = [m for m in await her.text(VIOLENT)]
        help_paths = [m for m in replies if "800 120 002" in m.text]
        assert len(help_paths) == 1 and help_paths[0].buttons == ()
        assert any("/exit" in m.text and "/sos" in m.text for m in replies)


async def test_when_no_layer_can_screen_it_is_counted_and_her_message_still_goes_on(
    database_url, tmp_path
):
    (tmp_path / "xx.yaml").write_text("language: xx\nentries: []\n", encoding="utf-8")
    sample = {"layer": "all"}
    before = metrics.registry.get_sample_value("peerline_screening_errors_total", sample) or 0.0
    async with running_service(database_url) as service:  # lexicons only, as in flow tests
        service.screen.lexicon_dir = tmp_path  # a lexicon a coordinator broke
        world = World.around(service)
        supporter = await world.supporter("s1", alias="Sup One")
        her = await world.seeker("h1")
        await connect(world, her, supporter)
        await her.text(VIOLENT)
        assert any(VIOLENT in t for t in supporter.texts), "her message is still relayed"
        after = metrics.registry.get_sample_value("peerline_screening_errors_total", sample)
        assert after == before + 1
