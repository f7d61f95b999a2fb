"""Twilio's forms (tests/fixtures/twilio) become one event, a status, or a clear refusal."""

from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from flows.events import EventKind
from handlers.base import RenderedButton, RenderedMessage
from handlers.whatsapp.parse import NotAMessage, parse_inbound, parse_status
from handlers.whatsapp.render import compose, split_body

FIXTURES = Path(__file__).parent / "fixtures" / "twilio"


def form(name: str) -> dict[str, str]:
    return dict(parse_qsl((FIXTURES / name).read_text(), keep_blank_values=True))


def test_a_text_keeps_her_number_without_the_prefix_and_the_sid_for_idempotency():
    event = parse_inbound(form("06-wa-text.form"))
    assert event.kind == EventKind.TEXT and event.text == "Msg"
    assert event.address == "+14135550111"
    assert event.message_id == "SMe287d7109a5a925f182f0e07fe5b223b"


def test_a_number_without_the_whatsapp_prefix_is_the_same_woman():
    assert parse_inbound(form("14-wa-channel-prefixless-from.form")).address == "+14135550111"


def test_a_tapped_reply_button_is_read_as_its_words():
    assert parse_inbound(form("10-wa-button-reply.form")).text == "Confirm"


def test_a_quick_reply_payload_is_the_choice_itself():
    fields = {**form("06-wa-text.form"), "ButtonPayload": "offer:accept:12", "ButtonText": "Yes"}
    event = parse_inbound(fields)
    assert (event.kind, event.choice) == (EventKind.CHOICE, "offer:accept:12")


def test_media_is_one_media_event_with_the_twilio_url_and_its_kind():
    event = parse_inbound(form("08-wa-image-media.form"))
    assert event.kind == EventKind.MEDIA and event.media.kind == "photo"
    assert event.media.ref.startswith("https://api.twilio.com/")
    voice = {**form("06-wa-text.form"), "NumMedia": "1", "MediaUrl0": "https://api.twilio.com/x",
             "MediaContentType0": "audio/ogg"}  # fmt: skip
    assert parse_inbound(voice).media.kind == "voice"


def test_a_location_cannot_be_passed_on():
    assert parse_inbound(form("09-wa-location.form")).kind == EventKind.UNSUPPORTED


@pytest.mark.parametrize("word", ["STOP", "stop", " Unsubscribe "])
def test_stop_is_an_opt_out(word):
    assert parse_inbound({**form("06-wa-text.form"), "Body": word}).kind == EventKind.BLOCKED


def test_stop_inside_a_sentence_is_just_words():
    event = parse_inbound({**form("06-wa-text.form"), "Body": "please stop him"})
    assert event.kind == EventKind.TEXT


def test_a_number_typed_in_persian_or_arabic_digits_is_that_number():
    assert parse_inbound({**form("06-wa-text.form"), "Body": "۲"}).text == "2"
    assert parse_inbound({**form("06-wa-text.form"), "Body": "٣"}).text == "3"


def test_a_slash_command_is_a_command():
    event = parse_inbound({**form("06-wa-text.form"), "Body": "/exit now"})
    assert (event.kind, event.command, event.args) == (EventKind.COMMAND, "exit", "now")


@pytest.mark.parametrize("name", ["23-empty-body.form", "24-not-a-twilio-body.form"])
def test_a_form_without_sid_or_sender_is_not_a_message(name):
    with pytest.raises(NotAMessage):
        parse_inbound(form(name))


def test_status_callbacks_are_read_with_their_error_codes():
    stop = parse_status(form("20-status-failed-21610-stop.form"))
    assert stop.failed and stop.error_code == 21610 and stop.recipient == "+12025550122"
    assert parse_status(form("19-status-read.form")).status == "read"
    assert parse_status(form("22-status-unknown-value.form")).status == "huh"
    assert parse_status(form("23-empty-body.form")) is None


def test_choices_are_numbered_lines_with_a_translated_hint():
    message = RenderedMessage(
        "Wybierz.",
        buttons=(RenderedButton("Tak", "yes"), RenderedButton("Nie", "no"),
                 RenderedButton("Policja", "call", url="tel:112")),
        language="pl",
    )  # fmt: skip
    assert compose(message) == (
        "Wybierz.\n\n1. Tak\n2. Nie\n3. Policja: 112\n\nOdpowiedz numerem od 1 do 3."
    )


def test_a_long_text_is_split_within_twilios_limit():
    parts = split_body("word " * 1000)
    assert len(parts) == 4 and all(len(p) <= 1600 for p in parts)
