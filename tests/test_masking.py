"""Contact details in relayed words are hidden, in every script the women write in."""

import pytest

from flows.conversation.masking import MASK, mask_contacts

HIDDEN = [
    ("call me +48 600 123 456 tonight", "phone"),
    ("my number: 600-123-456", "phone"),
    ("0048 600 123 456", "phone"),
    ("(+380) 67 123 45 67", "phone"),
    ("мой номер 8 (999) 123-45-67, пиши", "phone"),
    ("мій номер +380 67 123 4567", "phone"),
    ("شماره من ۰۹۱۲ ۳۴۵ ۶۷۸۹ است", "phone"),
    ("رقمي ٠٥٠ ١٢٣ ٤٥٦٧ اتصلي", "phone"),
    ("numer\u200e+48\u200e600123456", "phone"),
    ("write to anna.k@gmail.com please", "email"),
    ("пиши на почта@пример.рф", "email"),
    ("ایمیل من maryam_1990@yahoo.com است", "email"),
    ("I am @anna_k99 on telegram", "username"),
    ("найди меня @olena_kyiv", "username"),
    ("wa.me/48600123456", "link"),
    ("join https://t.me/joinchat/AbCdEf", "link"),
    ("my page instagram.com/some.one", "link"),
    ("facebook.com/profile.php?id=1", "link"),
    ("tg://resolve?domain=someone", "link"),
    ("add me on https://www.tiktok.com/@x", "link"),
]

KEPT = [
    "meeting on 12.05.2024 at 18:00",
    "I paid 1 000 000 zł for nothing",
    "the rent is 2500 and my flat is number 12",
    "see https://www.gov.pl/web/udsc for your card",
    "ДР 1990-05-12, мне 34 года",
    "ساعت ۱۸:۳۰ وقت دکتر دارم",
    "لدي موعد في ١٢/٠٥/٢٠٢٤",
    "@ 5pm maybe",
    "I love you so much <3",
]


@pytest.mark.parametrize(("text", "kind"), HIDDEN)
def test_contact_details_are_hidden(text, kind):
    masked = mask_contacts(text)
    assert masked.changed and kind in masked.kinds
    assert MASK in masked.text
    digits = sum(c.isdigit() for c in masked.text)
    assert digits <= 2  # nothing like a number is left


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_words_dates_and_amounts_are_left_alone(text):
    masked = mask_contacts(text)
    assert masked.text == text and not masked.changed


def test_the_words_around_a_mask_stay_as_she_wrote_them():
    masked = mask_contacts("Call me: +48 600 123 456. Or anna@example.com!")
    assert masked.text == f"Call me: {MASK}. Or {MASK}!"
    assert set(masked.kinds) == {"phone", "email"}
