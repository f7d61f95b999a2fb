"""The Babel extractor for our text ids: reads the code's syntax tree, so no id is missed.

Babel's own Python extractor joins the two strings of `reply("a" if x else "b")` into one id and
sees nothing passed by keyword. This one takes every text id handed to a call that takes one
(ours below, and any function of the code with a parameter called `text_id`), every string
assigned to a variable called `text_id`, and `N_()` / `NP_()` marks (NP_: a plural entry).
"""

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ("bot", "flows", "handlers", "i18n", "models")

TEXT_ID = re.compile(r"^[a-z_]+(\.[A-Za-z0-9_]+)+$")
# Calls that take a text id in their arguments (as the first one, or after ctx/participant).
TEXT_CALLS = frozenset({"reply", "Button", "OutboundMessage", "N_", "msgid", "translate"})
PLURAL_CALLS = frozenset({"NP_"})


@cache
def text_calls(root: Path = ROOT) -> frozenset[str]:
    """Our calls, and every function in the code that has a parameter called `text_id`."""
    names = set(TEXT_CALLS)
    for directory in CODE_DIRS:
        for path in (root / directory).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
                    if any(argument.arg == "text_id" for argument in arguments):
                        names.add(node.name)
    return frozenset(names)


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
    calls = text_calls()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "text_id" for t in targets) and node.value:
                for line, text_id in _ids_in(node.value):
                    yield line, text_id, False
            continue
        if not isinstance(node, ast.Call):
            continue
        name = _name(node)
        if name in PLURAL_CALLS:
            for arg in node.args[:1]:
                for line, text_id in _ids_in(arg):
                    yield line, text_id, True
        elif name in calls:
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
