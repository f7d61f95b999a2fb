"""Real Telegram update bodies (tests/fixtures/telegram) become the right event, or none."""

import json
from pathlib import Path

import pytest

from flows.events import EventKind
from handlers.telegram.parse import parse_update

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"


def parsed(name: str, bot_username: str | None = "peerline_test_bot"):
    return parse_update(json.loads((FIXTURES / name).read_text()), bot_username)


def test_plain_text_keeps_the_update_id_for_idempotency_and_the_chat_message_id():
    result = parsed("01-text-plain.json")
    event = result.event
    assert event.kind == EventKind.TEXT and event.text == "Hello World"
    assert event.message_id.startswith("u") and event.message_id[1:].isdigit()
    assert event.chat_message_id is not None and event.address.lstrip("-").isdigit()


@pytest.mark.parametrize(
    ("name", "command", "args"),
    [
        ("02-start.json", "start", ""),
        ("03-start-with-deeplink-payload.json", "start", "start"),
        ("04-start-with-bot-command-entity.json", "start", ""),
        ("05-command-with-args-no-entities.json", "register", "HR John Doe"),
    ],
)
def test_commands_with_or_without_entities_and_deep_links(name, command, args):
    event = parsed(name).event
    assert (event.kind, event.command, event.args) == (EventKind.COMMAND, command, args)


def test_a_command_inside_a_sentence_is_just_text():
    assert parsed("06-command-entity-not-at-start.json").event.kind == EventKind.TEXT


def test_a_command_addressed_to_our_bot_by_name_is_a_command():
    update = {
        "update_id": 9,
        "message": {
            "message_id": 3, "chat": {"id": 5, "type": "private"}, "from": {"id": 5},
            "text": "/Help@Peerline_Test_Bot now",
        },
    }  # fmt: skip
    event = parse_update(update, "peerline_test_bot").event
    assert (event.command, event.args) == ("help", "now")


def test_an_edited_message_is_an_edit_of_her_earlier_message():
    event = parsed("08-edited-message-text-with-reply.json").event
    assert event.kind == EventKind.EDIT
    assert event.edited_message_id == event.chat_message_id and event.text


def test_a_moving_live_location_is_ignored():
    assert parsed("09-edited-message-live-location.json").ignored


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("10-photo-with-caption.json", "photo"),
        ("11-photo-album-media-group.json", "photo"),
        ("12-voice.json", "voice"),
        ("13-video.json", "video"),
        ("14-video-note.json", "video_note"),
        ("15-animation-with-document.json", "animation"),
        ("16-sticker.json", "sticker"),
        ("17-document.json", "document"),
        ("18-document-missing-mime-and-name.json", "document"),
        ("44-sticker-unresolvable-file.json", "sticker"),
    ],
)
def test_media_is_one_media_event_by_file_id(name, kind):
    event = parsed(name).event
    assert event.kind == EventKind.MEDIA and event.media.kind == kind and event.media.ref


def test_a_photo_keeps_its_largest_size_and_its_caption():
    event = parsed("10-photo-with-caption.json").event
    raw = json.loads((FIXTURES / "10-photo-with-caption.json").read_text())["message"]
    assert event.media.ref == raw["photo"][-1]["file_id"]
    assert event.text == raw["caption"]


@pytest.mark.parametrize(
    "name",
    ["19-location.json", "20-venue.json", "21-contact.json", "22-web-app-data-json.json",
     "23-web-app-data-not-json.json", "24-dice.json"],
)  # fmt: skip
def test_things_that_cannot_be_passed_on_are_unsupported_events(name):
    assert parsed(name).event.kind == EventKind.UNSUPPORTED


def test_a_forwarded_text_is_text_marked_as_forwarded():
    event = parsed("25-forwarded-forward-origin.json").event
    assert event.kind == EventKind.TEXT and event.extra.get("forwarded") is True


@pytest.mark.parametrize(
    "name",
    ["27-callback-query-minimal.json", "28-callback-query-full.json",
     "29-callback-query-message-null.json", "30-callback-query-inaccessible-message.json"],
)  # fmt: skip
def test_every_button_press_is_a_choice_and_is_answered(name):
    result = parsed(name)
    assert result.callback_query_id
    assert result.event.kind == EventKind.CHOICE and result.event.choice


def test_a_button_press_without_its_message_is_answered_in_her_private_chat():
    result = parsed("29-callback-query-message-null.json")
    assert result.event.address == "222222222" and result.event.choice == "thedata"


def test_blocking_the_bot_is_a_blocked_event():
    assert parsed("31-my-chat-member-blocked.json").event.kind == EventKind.BLOCKED


def test_groups_are_declined_only_when_they_speak_to_the_bot():
    assert parsed("32-group-text.json").ignored
    added = parsed("33-group-bot-added-new-chat-members.json", bot_username=None)
    assert added.refuse_group is not None and added.event is None
    assert parsed("34-group-anonymous-admin-sender-chat.json").ignored
    assert parsed("35-forum-topic-message.json").ignored
    assert parsed("26-reply-in-group.json").event is None


@pytest.mark.parametrize(
    "name",
    ["36-channel-post-with-extra-fields.json", "37-edited-channel-post.json",
     "38-message-reaction.json", "39-chat-member-explicit-nulls.json",
     "40-empty-update-id-only.json", "41-unknown-update-type.json",
     "43-channel-post-in-private-chat.json"],
)  # fmt: skip
def test_updates_not_meant_for_a_conversation_are_ignored(name):
    assert parsed(name).ignored


def test_an_update_with_several_kinds_at_once_is_read_as_its_message():
    event = parsed("42-multiple-update-kinds.json").event
    assert event is not None and event.kind == EventKind.MEDIA


def test_every_fixture_parses_without_raising():
    for path in sorted(FIXTURES.glob("*.json")):
        parse_update(json.loads(path.read_text()))
