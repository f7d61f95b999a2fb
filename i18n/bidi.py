"""Invisible direction marks added at render time, so names, words and numbers keep their order.

Telegram and WhatsApp lay a line out from its first strong letter. A Latin alias at the start of a
Persian line, or a Persian one in a Polish line, flips the whole line, and a spaced number such as
800 120 002 reads backwards inside right-to-left text. Every text passes through here on its way
out, so no catalog entry has to carry a mark of its own.
"""

import re
import unicodedata

LRM, RLM = "\u200e", "\u200f"
LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
# Marks we add, or that may come back to us inside a copied text; ZWNJ (U+200C) is a letter's
# business in Persian and is never touched.
MARKS = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_MARKS = re.compile(f"[{MARKS}]")
# Digit groups joined by spaces or dashes, as phone numbers and hours are written ("800 120 002",
# "+48 22 628 01 20", "8:30–16:30"): held left-to-right as one piece, the marks outside the digits.
_NUMBER = r"\d+(?:[:.]\d+)*"
_SPACED_NUMBER = re.compile(
    rf"(?<![\d\u2066])\+?{_NUMBER}(?:(?: ?[\u2013-] ?|[ \u00a0\u202f]){_NUMBER})+(?![\d])"
)
# A command inside a right-to-left sentence ("/menu", "/news off") would show its slash last.
_COMMAND = re.compile(
    r"(?<![A-Za-z0-9_/:.\u2066])/[a-z][a-z_]*(?: (?:on|off|coordinator|\d+))?(?![A-Za-z0-9_])"
)
_ARABIC_LETTER = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")


def strip_marks(text: str) -> str:
    """The text without our direction marks: what she copied back is what we sent."""
    return _MARKS.sub("", text)


def isolate(value: str) -> str:
    """A value inside a line, held apart so its direction cannot spill into the sentence."""
    lines = value.split("\n")
    if len(lines) == 1:
        return f"{FSI}{value}{PDI}" if value else value
    # Isolates end at a line break: the first and last lines share a line with the sentence,
    # the lines between stand on their own.
    first, *middle, last = lines
    head = f"{FSI}{first}{PDI}" if first else first
    tail = f"{FSI}{last}{PDI}" if last else last
    return "\n".join([head, *middle, tail])


def hold_numbers(text: str) -> str:
    """Spaced numbers kept left-to-right in any line, still tappable (the marks sit outside)."""
    return _SPACED_NUMBER.sub(lambda m: f"{LRI}{m.group(0)}{PDI}", text)


def hold_commands(text: str) -> str:
    """Commands kept left-to-right inside right-to-left lines, slash first."""
    return _COMMAND.sub(lambda m: f"{LRI}{m.group(0)}{PDI}", text)


def has_arabic_script(text: str) -> bool:
    return bool(_ARABIC_LETTER.search(text))


def has_right_to_left(text: str) -> bool:
    """Whether any letter in the text is written right-to-left (Arabic, Persian, Hebrew…)."""
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def _is_command_line(line: str) -> bool:
    """A line that is only a command (/news off) reads left-to-right even in Persian."""
    return strip_marks(line).lstrip().startswith("/")


def shape_lines(text: str, right_to_left: bool) -> str:
    """Open each line in the language's direction.

    Right-to-left languages get RLM before every line but a bare command; left-to-right ones
    get LRM only where a line begins with an inserted value, which would otherwise decide.
    """
    lines = []
    for line in text.split("\n"):
        if not line.strip() or line.startswith((RLM, LRM)):
            lines.append(line)
        elif right_to_left:
            lines.append(line if _is_command_line(line) else RLM + line)
        else:
            lines.append(LRM + line if line.startswith((FSI, LRI, RLI)) else line)
    return "\n".join(lines)
