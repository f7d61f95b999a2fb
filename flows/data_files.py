"""Reading the data files coordinators edit (help directory, danger lexicons) through pydantic.

A file is read as plain YAML (every value kept as the text written), checked by a `DataModel`,
and every problem is told as ``file:line: problem`` so a coordinator knows which line to change.
"""

from __future__ import annotations

from pathlib import Path
from types import UnionType
from typing import Annotated, Any, ClassVar, TypeVar, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, ValidationInfo
from pydantic.functional_validators import PlainValidator
from pydantic_core import PydanticCustomError

Loc = tuple[str | int, ...]
Model = TypeVar("Model", bound="DataModel")

# Non-empty text, as in every name, id and phrase of a data file.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class DataModel(BaseModel):
    """A mapping in a data file; the class words say how its own problems are told."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    noun: ClassVar[str] = "the file"
    missing_text: ClassVar[str] = "missing key {name!r}"
    unknown_text: ClassVar[str] = "unknown key {name!r} (known: {known})"
    value_nouns: ClassVar[dict[str, str]] = {}  # what one value of a mapping field is called


def problem(text: str) -> PydanticCustomError:
    """A validation error told in our own words (raise it from a validator)."""
    return PydanticCustomError("data_file", text)


def text_value(value: object, what: str) -> str:
    """The stripped text of a scalar, or the problem that it is not text."""
    if not isinstance(value, str) or not value.strip():
        raise problem(f"{what} must be non-empty text")
    return value.strip()


def whole_number(low: int, high: int) -> Any:
    """A field type: a whole number written in the file, from low to high."""

    def check(value: object, info: ValidationInfo) -> int:
        text = text_value(value, str(info.field_name))
        if not text.isdigit() or not low <= int(text) <= high:
            raise problem(f"{info.field_name} must be a whole number from {low} to {high}")
        return int(text)

    return Annotated[int, PlainValidator(check)]


_BOOLS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def _flag(value: object, info: ValidationInfo) -> bool:
    text = value.lower() if isinstance(value, str) else ""
    if text not in _BOOLS:
        raise problem(f"{info.field_name} must be true or false")
    return _BOOLS[text]


Flag = Annotated[bool, PlainValidator(_flag)]


def yaml_problem(error: yaml.MarkedYAMLError) -> str:
    """``line: problem`` for a YAML syntax error, with where the broken construct began."""
    mark = error.problem_mark or error.context_mark
    line = mark.line + 1 if mark is not None else 1
    text = f"{line}: not valid YAML: {error.problem}"
    if error.context_mark is not None and error.context_mark.line + 1 != line:
        text += f" ({error.context} on line {error.context_mark.line + 1})"
    return text


def check_file(
    path: Path, model: type[Model], context: object = None
) -> tuple[Model | None, list[str]]:
    """Read one data file and validate it: the model, or None and every problem, line by line."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        return None, [f"{path.name}:{yaml_problem(error)}"]
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        return None, [f"{path.name}:1: cannot read: {error}"]
    if root is None:
        return None, [f"{path.name}:1: the file is empty"]
    reader = _Reader(model)
    data = reader.plain(root, ())
    found = [(False, line, text) for line, text in reader.problems]
    try:
        value = model.model_validate(data, context=context)
    except ValidationError as error:
        value = None
        for e in error.errors():
            line = reader.line(e["loc"], e["type"])
            found.append((e["type"] != "extra_forbidden", line, _told(model, e)))
    # Misspelt and doubled keys first (a missing field is often one of them), then line by line.
    found.sort(key=lambda item: item[:2])
    problems = [f"{path.name}:{line}: {text}" for _, line, text in found]
    return (value if not found else None), problems


class _Reader:
    """Turns a YAML node tree into plain values, remembering the line of every key and value."""

    def __init__(self, model: type[DataModel]) -> None:
        self.model = model
        self.lines: dict[Loc, tuple[int, int]] = {}
        self.problems: list[tuple[int, str]] = []

    def plain(self, node: yaml.Node, loc: Loc) -> object:
        line = node.start_mark.line + 1
        self.lines.setdefault(loc, (line, line))
        if isinstance(node, yaml.SequenceNode):
            return [self.plain(item, (*loc, i)) for i, item in enumerate(node.value)]
        if not isinstance(node, yaml.MappingNode):
            return node.value
        what = _noun(self.model, loc)
        result: dict[str, object] = {}
        for key, value in node.value:
            key_line = key.start_mark.line + 1
            if not isinstance(key, yaml.ScalarNode):
                self.problems.append((key_line, f"{what} has a key that is not plain text"))
                continue
            if key.value in result:
                self.problems.append((key_line, f"duplicate key {key.value!r} in {what}"))
            self.lines[(*loc, key.value)] = (key_line, value.start_mark.line + 1)
            result[key.value] = self.plain(value, (*loc, key.value))
        return result

    def line(self, loc: Loc, kind: str) -> int:
        """The line a problem belongs on: its key, its value, or the nearest mapping around it."""
        on_key = kind == "extra_forbidden" or (bool(loc) and loc[-1] == "[key]")
        loc = loc[:-1] if loc and loc[-1] == "[key]" else loc
        if loc in self.lines:
            return self.lines[loc][0 if on_key else 1]
        while loc and loc not in self.lines:
            loc = loc[:-1]
        return self.lines.get(loc, (1, 1))[1]


def _told(model: type[DataModel], error: Any) -> str:
    """One pydantic error in the words of the data file."""
    loc, kind = tuple(error["loc"]), error["type"]
    name = loc[-1] if loc else ""
    owner = _model_at(model, loc[:-1])
    if kind == "missing" and owner is not None:
        return owner.missing_text.format(name=name)
    if kind == "extra_forbidden" and owner is not None:
        return owner.unknown_text.format(name=name, known=", ".join(sorted(owner.model_fields)))
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"{_noun(model, loc)} must be a mapping of keys to values"
    if kind in ("string_type", "string_too_short"):
        return f"{_subject(model, owner, loc)} must be non-empty text"
    if kind == "list_type":
        field = owner.model_fields.get(str(name)) if owner is not None else None
        at_least_one = field is not None and any(
            getattr(rule, "min_length", 0) for rule in field.metadata
        )
        return f"{name} must be a {'non-empty ' if at_least_one else ''}list"
    if kind == "too_short":
        return f"{name} must be a non-empty list"
    return str(error["msg"])


def _subject(model: type[DataModel], owner: type[DataModel] | None, loc: Loc) -> str:
    """What a text value is called: its field, an item of a list, or a value of a mapping."""
    name = loc[-1] if loc else "the value"
    if isinstance(name, int):
        return f"each item of {next((p for p in reversed(loc) if isinstance(p, str)), 'a list')}"
    if owner is not None and name in owner.model_fields or len(loc) < 2:
        return str(name)
    parent = _model_at(model, loc[:-2])
    mapping = str(loc[-2])
    return f"{parent.value_nouns.get(mapping, mapping) if parent else mapping} {name!r}"


def _noun(model: type[DataModel], loc: Loc) -> str:
    owner = _model_at(model, loc)
    if owner is not None:
        return owner.noun
    return str(next((p for p in reversed(loc) if isinstance(p, str)), "the file"))


def _model_at(model: type[DataModel], loc: Loc) -> type[DataModel] | None:
    """The model that validates the value at loc, found by walking the field types."""
    current: Any = model
    for part in loc:
        current = _bare(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            if not isinstance(part, str) or part not in current.model_fields:
                return None
            current = current.model_fields[part].annotation
        elif get_origin(current) in (list, tuple, dict) and get_args(current):
            current = get_args(current)[-1]
        else:
            return None
    current = _bare(current)
    return current if isinstance(current, type) and issubclass(current, DataModel) else None


def _bare(annotation: Any) -> Any:
    """The type without Annotated metadata or an optional None."""
    while True:
        if get_origin(annotation) is Annotated:
            annotation = get_args(annotation)[0]
        elif get_origin(annotation) in (Union, UnionType):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        else:
            return annotation
