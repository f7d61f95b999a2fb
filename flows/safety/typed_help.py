"""Help she types ("help", "SOS", "pomocy", "помогите", "کمک", "ساعدوني") opens the referral.

A woman in danger types; she does not look for a button. A message that is only a plea for help
(in any of the six languages, with or without "please", "now", "me") opens the referral outside
a conversation; inside one (or while she waits for a supporter) her words go on to her supporter
as usual and she alone gets the help button.
"""

import re

from flows.context import FlowContext
from flows.conversation.lookups import is_seeker, open_conversation
from flows.events import Button, EventKind, InboundEvent, OutboundMessage
from flows.safety.normalisation import normalize

# What the plea itself is, in each language's common spellings (compared after normalisation).
PLEAS = (
    # English
    "help", "sos", "help me", "i need help", "need help", "i need your help", "someone help",
    "somebody help", "someone help me", "somebody help me", "urgent help", "i need help urgently",
    "can you help me", "can someone help me", "please i need help", "help help",
    # Polish
    "pomocy", "pomoc", "pomóż", "pomóż mi", "pomóżcie", "pomóżcie mi", "potrzebuję pomocy",
    "potrzebuje pomocy", "potrzebuję pomocy teraz", "proszę o pomoc", "ratunku",
    "pomoże mi ktoś", "niech ktoś mi pomoże",
    # Ukrainian
    "допоможіть", "допоможи", "допоможіть мені", "допоможи мені", "допомога",
    "потрібна допомога", "мені потрібна допомога", "рятуйте", "врятуйте",
    "допоможіть будь ласка", "мені треба допомога", "dopomozhit", "dopomozhit meni",
    # Russian
    "помогите", "помоги", "помогите мне", "помоги мне", "помощь", "нужна помощь",
    "мне нужна помощь", "спасите", "мне нужна ваша помощь", "pomogite", "pomogite mne",
    "nuzhna pomosh",
    # Persian / Dari
    "کمک", "کمکم کنید", "کمک کنید", "کمکم کن", "کمک کن", "به کمک نیاز دارم", "کمک لازم دارم",
    "کمک میخواهم", "کمک می‌خواهم", "کمک می خوام", "کمک میخوام", "کمک فوری", "کسی کمکم کنه",
    "komak", "komakam konid",
    # Arabic (and Arabizi)
    "ساعدوني", "ساعدني", "مساعدة", "النجدة", "نجدة", "أحتاج مساعدة", "احتاج مساعدة",
    "أحتاج إلى مساعدة", "أحتاج المساعدة", "انقذوني", "أنقذوني", "الحقوني", "ساعدوني بسرعة",
    "محتاجة مساعدة", "بدي مساعدة", "sa3dooni", "sa3idni",
)  # fmt: skip
# Words around a plea that do not change it: please, now, quickly, me.
FILLERS = (
    "please", "pls", "plz", "now", "right now", "quickly", "fast", "asap", "me", "i", "need",
    "proszę", "prosze", "teraz", "szybko", "natychmiast", "mi", "pilnie",
    "будь ласка", "зараз", "швидко", "терміново", "мені",
    "пожалуйста", "сейчас", "срочно", "быстро", "мне",
    "لطفا", "لطفاً", "الان", "فوری", "زود", "سریع",
    "من فضلك", "من فضلكم", "الآن", "بسرعة", "رجاء", "أرجوكم", "ارجوكم", "أرجوك",
)  # fmt: skip
MAX_WORDS = 8
_WORDS = re.compile(r"[^\W_]+")


def _key(text: str) -> str:
    return " ".join(_WORDS.findall(normalize(text)))


_PLEAS = frozenset(_key(p) for p in PLEAS)
_FILLERS = sorted({tuple(_key(f).split()) for f in FILLERS}, key=len, reverse=True)


def is_plea(text: str) -> bool:
    """The whole message is a request for help (not a sentence that mentions help)."""
    words = _key(text).split()
    if not words or len(words) > MAX_WORDS:
        return False
    changed = True
    while " ".join(words) not in _PLEAS:
        if not changed:
            return False
        changed = False
        for filler in _FILLERS:
            n = len(filler)
            if len(words) > n and tuple(words[:n]) == filler:
                words, changed = words[n:], True
            elif len(words) > n and tuple(words[-n:]) == filler:
                words, changed = words[:-n], True
    return True


async def typed_help(ctx: FlowContext, event: InboundEvent) -> bool:
    """A guard: a typed plea opens the referral, or in a conversation adds the help button."""
    if event.kind != EventKind.TEXT or not is_seeker(ctx.participant) or not is_plea(event.text):
        return False
    if "referral" not in ctx.flows:
        return False
    request, match = await open_conversation(ctx)
    if match is not None or (request is not None and ctx.state.flow == "relay"):
        # Her words are for her supporter and go on; the way to help comes to her alone.
        ctx.afterwards.append(OutboundMessage(
            "help.typed_in_conversation", buttons=(Button("menu.help_now", "menu:help_now"),)
        ))  # fmt: skip
        return False
    sos = InboundEvent(event.channel, "", EventKind.COMMAND, command="sos", text="/sos")
    await ctx.flows["referral"].handle(ctx, sos)
    return True
