"""Does a supporter propose to meet her in person or to talk outside Peerline?

Supporters are trained to keep every conversation on the bot: anonymity protects both women, and
a woman living with violence may be watched. Such a proposal is not blocked (it may be innocent);
a coordinator is told so she can check in. The phrases are compared in the screen's normalised
spelling, so case, diacritics and Cyrillic or Latin letters do not matter.
"""

from __future__ import annotations

import re

from flows.safety.normalisation import normalize

# Plain phrases as people type them; each is compared in the normalised spelling, at word edges.
_MEET = (
    "meet up", "meet in person", "meet me", "meet you", "meet for", "meet somewhere",
    "meet after", "come to my place", "come to my flat", "come to my house", "come over",
    "i can come to you", "coffee together", "have a coffee", "go for a walk together",
    "spotkajmy się", "spotkać się", "możemy się spotkać", "przyjdę do ciebie", "wpadnij do mnie",
    "давай встретимся", "давайте встретимся", "можем встретиться", "встретимся", "приходи ко мне",
    "давай зустрінемося", "можемо зустрітися", "зустрінемося", "приходь до мене",
    "vstretimsya", "davay vstretimsya", "zustrinemosya",
    "همو ببینیم", "حضوری ببینیم", "بیا ببینمت", "قرار بذاریم", "بیا خونه من",
    "نلتقي", "نشوف بعض", "تعالي لعندي", "خلينا نتلاقى", "منشرب قهوة سوا",
    "nshuf ba3ed", "nelta2i",
)  # fmt: skip
_OFF_BOT = (
    "whatsapp", "telegram", "instagram", "insta", "facebook", "signal", "viber", "snapchat",
    "tiktok", "my number", "your number", "my phone number", "your phone number", "my email",
    "call me", "text me", "message me directly", "add me",
    "mój numer", "twój numer", "podaj numer", "daj mi numer", "napisz do mnie na",
    "мой номер", "твой номер", "дай номер", "дай свой номер", "напиши мне в", "позвони мне",
    "мій номер", "твій номер", "дай свій номер", "напиши мені в", "подзвони мені",
    "вотсап", "ватсап", "телеграм", "вайбер", "инстаграм", "інстаграм",
    "شمارتو", "شماره‌تو", "شماره منو", "واتساپ", "تلگرام", "اینستا", "زنگ بزن",
    "رقمك", "رقمي", "واتس", "واتساب", "انستا", "تلغرام", "اتصلي فيني",
)  # fmt: skip


def _compile(phrases: tuple[str, ...]) -> re.Pattern[str]:
    spelled = sorted({" ".join(normalize(p).split()) for p in phrases}, key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, spelled)) + r")(?!\w)")


_MEET_RE = _compile(_MEET)
_OFF_BOT_RE = _compile(_OFF_BOT)


def boundary_kind(text: str) -> str | None:
    """``"meet"`` or ``"off_bot"`` when the words propose it, else None; never keeps the text."""
    spelled = " ".join(normalize(text).split())
    if _MEET_RE.search(spelled):
        return "meet"
    if _OFF_BOT_RE.search(spelled):
        return "off_bot"
    return None
