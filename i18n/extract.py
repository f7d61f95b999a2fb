"""The Babel extractor for our text ids: reads the code's syntax tree, so no id is missed.

Babel's own Python extractor joins the two strings of `reply("a" if x else "b")` into one id and
sees nothing passed by keyword; this one takes every text id given to the calls below, anywhere
in their arguments, and `NP_` ids as plural entries. Used by `babel.cfg`.
"""

import ast
import re
from collections.abc import Iterator
from typing import IO, Any

TEXT_ID = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$")
# Calls that take a text id in their arguments (as the first one, or after ctx/participant).
TEXT_CALLS = frozenset(
    {"reply", "Button", "OutboundMessage", "N_", "msgid", "alert_coordinators", "translate",
     "queue_notice", "notice", "send_notice"}
)  # fmt: skip
PLURAL_CALLS = frozenset({"NP_"})


def _name(call: ast.Call) -> str | None:
    return getattr(call.func, "attr", None) or getattr(call.func, "id", None)


def _ids_in(node: ast.AST) -> Iterator[tuple[int, str]]:
    """Text-id strings in an argument, through conditionals and `or`, not into other calls."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        if TEXT_ID.match(node.value):
            yield node.lineno, node.value
    elif isinstance(node, ast.IfExp):
        yield from _ids_in(node.body)
        yield from _ids_in(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _ids_in(value)
    elif isinstance(node, ast.Tuple | ast.List):
        for element in node.elts:
            yield from _ids_in(element)


def text_ids(source: str) -> Iterator[tuple[int, str, bool]]:
    """(line, text id, plural) for every text id handed to one of our calls in `source`."""
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node)
        if name in PLURAL_CALLS:
            for arg in node.args[:1]:
                for line, text_id in _ids_in(arg):
                    yield line, text_id, True
        elif name in TEXT_CALLS:
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                for line, text_id in _ids_in(arg):
                    yield line, text_id, False


def extract_text_ids(
    fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict[str, Any]
) -> Iterator[tuple[int, str | None, Any, list[str]]]:
    """Babel extraction method: ``[i18n.extract:extract_text_ids: **.py]`` in babel.cfg."""
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    for line, text_id, plural in text_ids(source):
        if plural:
            yield line, "ngettext", (text_id, text_id), []
        else:
            yield line, None, text_id, []
