"""Intake through the real router on SQLite and PostgreSQL: language, consent, safety, request."""

import re
import string
from pathlib import Path

from babel.messages.pofile import read_po
from sqlalchemy import select

from flows.conversation.questions import TOPICS
from flows.events import EventKind, MediaRef
from i18n import CATALOG_DIR, LANGUAGE_NAMES, LANGUAGES
from models import FlowState, HelpRequest, OutboxMessage, RequestStatus
from tests.support import ChatUser, running_service


def choices(messages) -> list[str]:
    return [b.choice for m in messages for b in m.buttons]


async def consent(user: ChatUser, language: str = "en", campaigns: bool = False) -> list:
    """From her first message to the safety question."""
    await user.text("hello")
    await user.tap(f"lang:{language}")
    await user.tap("intake:terms:yes")
    return await user.tap(f"intake:campaigns:{'yes' if campaigns else 'no'}")


async def state_of(service, user: ChatUser) -> FlowState:
    me = await user.participant()
    async with service.session_factory() as session:
        return await session.get(FlowState, me.id)


async def test_first_message_offers_every_language_named_in_itself(database_url):
    async with running_service(database_url) as service:
        [ask] = await ChatUser(service, "501").text("hi")
        labels = [b.label for b in ask.buttons]
        assert labels == [LANGUAGE_NAMES[c] for c in ("en", "pl", "uk", "ru", "fa", "ar")]
        assert "Which language" in ask.text


async def test_her_apps_language_is_marked_in_its_place_and_used_for_the_question(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "502", language_hint="uk-UA")
        [ask] = await user.text("привіт")
        # The list never moves under her finger: a typed "3" is always Ukrainian.
        assert [b.choice for b in ask.buttons] == [f"lang:{c}" for c in LANGUAGES]
        assert ask.buttons[2].label == "✓ Українська"
        assert [b.choice for b in ask.buttons].count("lang:uk") == 1
        assert "Якою мовою" in ask.text
        welcome, terms = await user.tap("lang:uk")
        assert "анонімною" in welcome.text and terms.buttons[0].choice == "intake:terms:yes"


async def test_a_language_typed_by_name_is_understood(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "503", channel="console")
        await user.text("hi")
        welcome, _ = await user.text("Polski")
        assert (await user.participant()).language == "pl"
        assert "Pozostajesz anonimowa" in welcome.text


async def test_the_welcome_says_anonymous_peers_retention_and_the_emergency_number(database_url):
    async with running_service(database_url, retention_days=30) as service:
        user = ChatUser(service, "504")
        await user.text("hi")
        welcome, terms = await user.tap("lang:en")
        for words in ("anonymous", "trained peer supporters", "not doctors", "30 days", "112"):
            assert words in welcome.text
        assert choices([terms]) == ["intake:terms:yes", "intake:terms:no"]


async def test_declining_the_terms_is_answered_kindly_with_help_numbers_and_nothing_opens(
    database_url,
):
    async with running_service(database_url) as service:
        user = ChatUser(service, "505")
        await user.text("hi")
        await user.tap("lang:en")
        declined, again = await user.tap("intake:terms:no")
        assert "completely fine" in declined.text and "112" in declined.text
        assert "800 120 002" in declined.text
        assert choices([again]) == ["intake:terms:yes", "intake:terms:no"]
        sorry, asked_again = await user.text("please just connect me")
        assert "did not understand" in sorry.text
        assert choices([asked_again]) == ["intake:terms:yes", "intake:terms:no"]
        assert not (await user.participant()).consent_terms
        # A button from a later step cannot skip the consent.
        await user.tap("intake:safe:yes")
        assert (await state_of(service, user)).step == "consent_terms"


async def test_campaign_consent_is_separate_optional_and_stored(database_url):
    async with running_service(database_url) as service:
        yes, no = ChatUser(service, "506"), ChatUser(service, "507")
        [safety] = await consent(yes, campaigns=True)
        await consent(no, campaigns=False)
        assert "safe right now" in safety.text
        assert (await yes.participant()).consent_campaigns is True
        assert (await no.participant()).consent_campaigns is False
        assert (await no.participant()).consent_terms is True


async def test_not_safe_hands_over_to_the_referral_and_back_to_the_topic(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "508")
        await consent(user)
        referral = await user.tap("intake:safe:no")
        assert (await state_of(service, user)).flow == "referral"
        assert any(c.startswith("referral:") for c in choices(referral))
        back = await user.tap("referral:back")
        state = await state_of(service, user)
        assert (state.flow, state.step) == ("intake", "topic")
        assert state.data.get("urgent") is True  # her request will go first
        assert "intake:topic:housing" in choices(back)


async def test_not_sure_is_treated_like_not_safe(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "509")
        await consent(user)
        await user.tap("intake:safe:unsure")
        assert (await state_of(service, user)).flow == "referral"


async def test_topic_and_sentence_open_a_request_through_matching(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "510")
        await consent(user)
        topic = await user.tap("intake:safe:yes")
        assert len([c for c in choices(topic) if c.startswith("intake:topic:")]) == 8
        [note] = await user.tap("intake:topic:housing")
        assert "only the supporter who answers" in note.text.lower()
        await user.text("I need a room for me and my daughter")
        async with service.session_factory() as session:
            [request] = (await session.execute(select(HelpRequest))).scalars().all()
            state = await session.get(FlowState, request.seeker_id)
        assert (request.topic, request.language, request.urgent) == ("housing", "en", False)
        assert request.note == "I need a room for me and my daughter"
        assert request.status == RequestStatus.WAITING
        assert (state.flow, state.step) == ("relay", "waiting")


async def test_skipping_the_sentence_opens_a_request_without_words(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "511")
        await consent(user)
        await user.tap("intake:safe:yes")
        await user.tap("intake:topic:violence")
        await user.tap("intake:note:skip")
        async with service.session_factory() as session:
            [request] = (await session.execute(select(HelpRequest))).scalars().all()
        assert request.note is None and request.topic == "violence"


async def test_the_violence_topic_also_offers_the_help_paths(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "512")
        await consent(user)
        await user.tap("intake:safe:yes")
        offer, note = await user.tap("intake:topic:violence")
        assert choices([offer]) == ["menu:help_now"]
        assert choices([note]) == ["intake:note:skip"]


async def test_a_long_sentence_is_refused_kindly_and_asked_again(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "513")
        await consent(user)
        await user.tap("intake:safe:yes")
        await user.tap("intake:topic:work")
        too_long, again = await user.text("word " * 100)
        assert "300" in too_long.text and choices([again]) == ["intake:note:skip"]
        async with service.session_factory() as session:
            assert (await session.execute(select(HelpRequest))).first() is None


async def test_start_during_an_open_request_asks_before_throwing_it_away(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "514")
        await consent(user)
        await user.tap("intake:safe:yes")
        await user.tap("intake:topic:emotional")
        await user.tap("intake:note:skip")

        [ask] = await user.command("start")
        async with service.session_factory() as session:
            [request] = (await session.execute(select(HelpRequest))).scalars().all()
        tag = f"r{request.id}"
        assert choices([ask]) == [f"intake:restart:yes:{tag}", f"intake:restart:no:{tag}"]
        state = await state_of(service, user)
        assert (state.flow, state.step) == ("relay", "waiting")  # nothing changed yet

        await user.tap(f"intake:restart:no:{tag}")
        async with service.session_factory() as session:
            [request] = (await session.execute(select(HelpRequest))).scalars().all()
        assert request.status == RequestStatus.WAITING
        await user.tap("intake:restart:yes:m99")  # a "yes" about another conversation
        async with service.session_factory() as session:
            [request] = (await session.execute(select(HelpRequest))).scalars().all()
        assert request.status == RequestStatus.WAITING

        await user.command("start")
        done = await user.tap(f"intake:restart:yes:{tag}")
        async with service.session_factory() as session:
            [request] = (await session.execute(select(HelpRequest))).scalars().all()
        assert request.status == RequestStatus.CANCELLED and request.note is None
        assert "menu:talk" in choices(done)


async def test_start_without_anything_open_simply_starts_over(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "515")
        await user.text("hi")
        [ask] = await user.command("start")
        assert ask.buttons[0].choice.startswith("lang:")


async def test_language_command_works_from_any_step_and_returns_there(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "516")
        await consent(user)
        [ask] = await user.command("language")
        assert [b.choice for b in ask.buttons][:1] == ["lang:en"]  # her current one, first
        changed, safety = await user.tap("lang:ar")
        assert (await user.participant()).language == "ar"
        assert "بالعربية" in changed.text
        assert choices([safety])[0] == "intake:safe:yes"


async def test_language_change_in_a_conversation_keeps_the_conversation(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "517")
        await consent(user)
        await user.tap("intake:safe:yes")
        await user.tap("intake:topic:work")
        await user.tap("intake:note:skip")
        await user.command("language")
        await user.tap("lang:pl")
        state = await state_of(service, user)
        assert (state.flow, state.step) == ("relay", "waiting")
        assert (await user.participant()).language == "pl"


async def test_menu_and_help_work_from_any_step(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "518")
        await consent(user)
        menu = await user.command("menu")
        assert choices(menu) == [
            "menu:talk",
            "menu:help_now",
            "menu:about",
            "menu:language",
            "exit:now",
        ]
        help_ = await user.command("help")
        assert "/language" in help_[0].text and "112" in help_[0].text
        about = await user.tap("menu:about")
        assert "not doctors" in about[0].text


async def test_talk_to_someone_from_the_menu_asks_whether_she_is_safe(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "519")
        await consent(user)
        await user.command("menu")
        [safety] = await user.tap("menu:talk")
        assert choices([safety]) == ["intake:safe:yes", "intake:safe:no", "intake:safe:unsure"]


async def test_media_and_unsupported_messages_during_intake_get_a_kind_answer(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "520")
        await consent(user)
        for kind, fields in (
            (EventKind.MEDIA, {"media": MediaRef("voice", "file-1")}),
            (EventKind.UNSUPPORTED, {}),
            (EventKind.EDIT, {"text": "edited", "edited_message_id": "4"}),
        ):
            kind_words, prompt = await user.send(kind, **fields)
            assert "pass on your messages" in kind_words.text
            assert choices([prompt])[0] == "intake:safe:yes"


async def test_an_unknown_command_is_answered_with_the_way_to_the_menu(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "521")
        await consent(user)
        answer = await user.command("fly")
        assert "/menu" in answer[0].text


async def test_coordinator_commands_are_unknown_to_a_help_seeker(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "522")
        await consent(user)
        for command in ("invite", "pending", "approve"):
            [answer] = await user.command(command, "Rose")
            assert "do not know that command" in answer.text
        async with service.session_factory() as session:
            rows = (await session.execute(select(OutboxMessage.text_id))).scalars().all()
        assert not any(r.startswith("coord.") for r in rows)


async def test_a_typed_number_picks_the_choice_on_the_console(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "523", channel="console")
        await user.text("hi")
        await user.text("2")  # Polski
        assert (await user.participant()).language == "pl"
        await user.text("1")  # I agree
        assert (await user.participant()).consent_terms


async def test_talking_to_a_supporter_from_the_help_paths_opens_an_urgent_request(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "524")
        await consent(user)
        await user.command("menu")
        await user.tap("menu:help_now")
        assert (await state_of(service, user)).flow == "referral"
        [topic] = (await user.tap("referral:supporter"))[-1:]
        assert "intake:topic:emotional" in choices([topic])  # no second safety question
        await user.tap("intake:topic:emotional")
        await user.tap("intake:note:skip")
        async with service.session_factory() as session:
            [request] = (await session.execute(select(HelpRequest))).scalars().all()
        assert request.urgent is True


async def test_help_now_from_the_menu_comes_back_to_the_menu(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "525")
        await consent(user)
        await user.command("menu")
        await user.tap("menu:help_now")
        back = await user.tap("referral:back")
        state = await state_of(service, user)
        assert (state.flow, state.step) == ("intake", "menu")
        assert "menu:talk" in choices(back)


async def test_a_wrong_invite_code_is_refused_kindly_and_intake_goes_on(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "526")
        refused, languages = await user.command("start", "NOTAREALCODE")
        assert "does not work" in refused.text
        assert languages.buttons[0].choice.startswith("lang:")
        assert (await user.participant()).role == "seeker"


async def test_words_that_only_start_like_an_invite_stay_her_words(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "527", channel="console")
        await consent(user)
        await user.tap("intake:safe:yes")
        await user.tap("intake:topic:other")
        await user.text("join the group for mothers")
        async with service.session_factory() as session:
            [request] = (await session.execute(select(HelpRequest))).scalars().all()
        assert request.note == "join the group for mothers"


async def test_start_after_a_finished_conversation_is_a_clean_start_at_the_menu(database_url):
    async with running_service(database_url) as service:
        user = ChatUser(service, "528")
        await consent(user)
        async with service.session_factory() as session, session.begin():
            state = await session.get(FlowState, (await user.participant()).id)
            state.flow, state.step, state.data = "feedback", "score", {"match_id": 1}
        back, menu = await user.command("start")
        assert "Welcome back" in back.text and "menu:talk" in choices([menu])
        state = await state_of(service, user)
        assert (state.flow, state.step) == ("intake", "menu")


def test_every_text_of_intake_onboarding_and_coordination_exists_in_all_six_languages():
    root = Path(__file__).resolve().parent.parent / "flows"
    source = "".join(path.read_text() for path in sorted(root.rglob("*.py")))
    ids = set(re.findall(r'"((?:intake|onboard|coord|menu)\.[a-z_]+)"', source))
    ids |= {f"topic.{t}" for t in TOPICS} | {"onboard.ask_topics", "onboard.ask_excluded"}
    ids |= {"coord.role_supporter", "coord.role_coordinator"}
    fields = string.Formatter()

    def placeholders(text: str) -> set[str]:
        return {name for _, name, _, _ in fields.parse(text) if name}

    catalogs = {}
    for language in LANGUAGES:
        with open(CATALOG_DIR / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
            catalogs[language] = read_po(handle, locale=language)

    def general(text: str | tuple[str, ...]) -> str:  # a plural entry by its form for many
        return text[-1] if isinstance(text, tuple) else text

    for text_id in sorted(ids):
        english = general(catalogs["en"][text_id].string)
        for language, catalog in catalogs.items():
            message = catalog.get(text_id)
            assert message is not None and message.string, f"{language}: {text_id} is missing"
            assert placeholders(general(message.string)) == placeholders(english), (
                language, text_id,
            )  # fmt: skip
