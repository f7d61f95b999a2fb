"""The lexicon file format: one YAML file per language, checked by pydantic before it is compiled.

Coordinators extend these files, so every problem names the file and line (``xx.yaml:9: ...``);
the schema is explained in each file's header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, ValidationInfo, field_validator
from pydantic.functional_validators import PlainValidator

from flows.data_files import DataModel, Text, check_file, problem, text_value, whole_number
from flows.safety.matcher import LABELS, LexiconSpec
from flows.safety.phrases import Atom, PhrasePattern, parse_phrase

DEFAULT_FUZZY_MIN = 5
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class LexiconError(ValueError):
    """A lexicon file cannot be used; the message reads ``file:line: problem``."""


@dataclass
class _Reading:
    """What one file has told so far: its phrases are compiled with its own gap and typo length."""

    language: str
    gap: int = 1
    fuzzy_min: int = DEFAULT_FUZZY_MIN
    ids: set[str] = field(default_factory=set)


def _phrase(value: object, info: ValidationInfo) -> PhrasePattern:
    text = text_value(value, f"each item of {info.field_name}")
    reading: _Reading = info.context
    try:
        return parse_phrase(text, reading.gap, reading.fuzzy_min)
    except ValueError as error:
        raise problem(f"bad phrase {text!r}: {error}") from None


def _single_word(value: object, info: ValidationInfo) -> tuple[Atom, ...]:
    pattern = _phrase(value, info)
    if len(pattern.slots) != 1:
        raise problem(f"{info.field_name} are single words; {pattern.text!r} is not")
    # Exact only: a typo-tolerant "wasnt" would turn every "want" into a negation.
    return tuple(Atom(a.kind, a.text, False) for a in pattern.slots[0].atoms)


Phrase = Annotated[PhrasePattern, PlainValidator(_phrase)]
SingleWord = Annotated[tuple[Atom, ...], PlainValidator(_single_word)]


class _Entry(DataModel):
    """One danger signal: an id unique in its file, a label, and the phrases that express it."""

    noun = "an entry"
    missing_text = "entry is missing {name!r}"
    unknown_text = "unknown entry key {name!r} (known: {known})"

    id: Text
    label: Text
    phrases: list[Phrase]
    note: Any = None

    @field_validator("id")
    @classmethod
    def _unique_id(cls, value: str, info: ValidationInfo) -> str:
        if not _ID.match(value):
            raise problem(f"id {value!r}: use lower-case letters, digits, _")
        reading: _Reading = info.context
        if value in reading.ids:
            raise problem(f"duplicate id {value!r}")
        reading.ids.add(value)
        return value

    @field_validator("phrases")
    @classmethod
    def _some_phrases(cls, value: list[PhrasePattern]) -> list[PhrasePattern]:
        if not value:
            raise problem("phrases must not be empty")
        return value

    @field_validator("label")
    @classmethod
    def _known_label(cls, value: str) -> str:
        if value not in LABELS:
            raise problem(f"unknown label {value!r} (use {', '.join(LABELS)})")
        return value


class LexiconFile(DataModel):
    """One language's lexicon; fields are checked in this order, so gap and typo length go first."""

    language: Text
    gap: whole_number(0, 3) = 1
    fuzzy_min_length: whole_number(3, 20) = DEFAULT_FUZZY_MIN
    negation_window: whole_number(0, 5) = 2
    negations: list[SingleWord] = []
    breaks: list[SingleWord] = []
    negation_exceptions: list[Phrase] = []
    idioms: list[Phrase] = []
    general_talk: list[Phrase] = []
    entries: Annotated[list[_Entry], Field(min_length=1)]
    notes: Any = None

    @field_validator("language")
    @classmethod
    def _named_after_file(cls, value: str, info: ValidationInfo) -> str:
        if value != info.context.language:
            raise problem(f"language {value!r} must match the file name")
        return value

    @field_validator("gap")
    @classmethod
    def _remember_gap(cls, value: int, info: ValidationInfo) -> int:
        info.context.gap = value
        return value

    @field_validator("fuzzy_min_length")
    @classmethod
    def _remember_fuzzy_min(cls, value: int, info: ValidationInfo) -> int:
        info.context.fuzzy_min = value
        return value

    def spec(self) -> LexiconSpec:
        """The file's pieces as the matching engine compiles them."""
        return LexiconSpec(
            language=self.language,
            entries=[(e.id, e.label, e.phrases) for e in self.entries],
            negations=[atom for word in self.negations for atom in word],
            breaks=[atom for word in self.breaks for atom in word],
            window=self.negation_window,
            exceptions=self.negation_exceptions,
            exclusions=self.idioms + self.general_talk,
            fuzzy_min=self.fuzzy_min_length,
        )


def read_lexicon_file(path: Path) -> LexiconSpec:
    """Parse and check one lexicon file; raise LexiconError with its first problem."""
    lexicon, problems = check_file(path, LexiconFile, _Reading(language=path.stem))
    if lexicon is None:
        raise LexiconError(problems[0])
    return lexicon.spec()
