"""The question bank: loaded from one versioned JSON file and validated.

Plain Python (no Django) so the scoring engine and scripts can use it. Every error
names the file, the entry and the field (see ``datafiles``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from advisor.engine.conditions import Condition, ConditionError, parse_condition
from advisor.engine.datafiles import DATA_DIR, DataFileError, read_data_file, require
from advisor.engine.sides import SIDES

DEFAULT_BANK_PATH = DATA_DIR / "questions.json"
KINDS = ("single", "multi", "yes_no")


@dataclass(frozen=True)
class Option:
    value: Any
    label: str
    explanation: str
    leans: str | None = None  # the side this choice is typical of, shown as a hint


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    intro: str


@dataclass(frozen=True)
class Question:
    id: str
    section: str
    kind: str
    text: str
    help: str
    options: tuple[Option, ...]
    default: Any
    shown_when: Condition | None = None
    exclusive: str | None = None  # a multi-choice value that excludes the others
    # An optional question may be left out of an answers file: its default (neutral,
    # moving no score) is used. Questions added after the contract are optional.
    optional: bool = False

    @property
    def values(self) -> tuple[Any, ...]:
        return tuple(option.value for option in self.options)

    def option(self, value: Any) -> Option | None:
        for option in self.options:
            if option.value == value and type(option.value) is type(value):
                return option
        return None

    def is_shown(self, answers: Mapping[str, Any]) -> bool:
        return self.shown_when is None or self.shown_when.evaluate(answers)

    def label_for(self, value: Any) -> str:
        """Words for an answer, e.g. 'Exactly once: ...' or 'JMS, AMQP 1.0' for a list."""
        if isinstance(value, list | tuple):
            return ", ".join(self.label_for(item) for item in value)
        option = self.option(value)
        return option.label if option else str(value)


@dataclass(frozen=True)
class QuestionBank:
    version: str
    sections: tuple[Section, ...]
    questions: tuple[Question, ...]
    by_id: Mapping[str, Question] = field(repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {question.id: question for question in self.questions})

    def in_section(self, section_id: str) -> list[Question]:
        return [question for question in self.questions if question.section == section_id]

    def shown_questions(self, answers: Mapping[str, Any]) -> list[Question]:
        """Questions shown for these answers, in bank order."""
        return [question for question in self.questions if question.is_shown(answers)]

    def defaults(self) -> dict[str, Any]:
        return {question.id: question.default for question in self.questions}


def _check_value(question: Question, value: Any, path: Path, entry: str, field_name: str) -> None:
    values = value if question.kind == "multi" and isinstance(value, list) else [value]
    for item in values:
        if question.option(item) is None:
            allowed = ", ".join(json.dumps(v) for v in question.values)
            raise DataFileError(
                path,
                entry,
                field_name,
                f"{json.dumps(item)} is not a value of '{question.id}' (allowed: {allowed})",
            )


def check_condition_names(
    condition: Condition, bank: QuestionBank, path: Path, entry: str, field_name: str
) -> None:
    """Every question and value a condition names must exist in the bank."""
    for question_id, value in condition.values():
        question = bank.by_id.get(question_id)
        if question is None:
            raise DataFileError(path, entry, field_name, f"unknown question '{question_id}'")
        _check_value(question, value, path, entry, field_name)


def parse_bank(data: Any, path: Path) -> QuestionBank:
    """Validate the JSON of a question bank and build it; raises DataFileError."""
    if not isinstance(data, Mapping):
        raise DataFileError(path, "top level", None, "expected a JSON object")
    version = str(require(data, "version", (str, int), path, "top level"))
    sections = []
    for index, raw in enumerate(require(data, "sections", list, path, "top level")):
        entry = f"section #{index + 1}"
        section_id = require(raw, "id", str, path, entry)
        entry = f"section '{section_id}'"
        if any(section.id == section_id for section in sections):
            raise DataFileError(path, entry, "id", "duplicate section id")
        sections.append(
            Section(
                id=section_id,
                title=require(raw, "title", str, path, entry),
                intro=raw.get("intro", ""),
            )
        )
    section_ids = {section.id for section in sections}

    questions: list[Question] = []
    for index, raw in enumerate(require(data, "questions", list, path, "top level")):
        entry = f"question #{index + 1}"
        question_id = require(raw, "id", str, path, entry)
        entry = f"question '{question_id}'"
        if any(question.id == question_id for question in questions):
            raise DataFileError(path, entry, "id", "duplicate question id")
        section = require(raw, "section", str, path, entry)
        if section not in section_ids:
            raise DataFileError(path, entry, "section", f"unknown section '{section}'")
        kind = require(raw, "kind", str, path, entry)
        if kind not in KINDS:
            raise DataFileError(path, entry, "kind", f"'{kind}' is not one of {', '.join(KINDS)}")
        options = []
        for option_index, raw_option in enumerate(require(raw, "options", list, path, entry)):
            option_entry = f"{entry}, option #{option_index + 1}"
            if "value" not in raw_option:
                raise DataFileError(path, option_entry, "value", "is missing")
            value = raw_option["value"]
            if kind == "yes_no" and not isinstance(value, bool):
                raise DataFileError(path, option_entry, "value", "a yes/no option is true or false")
            if kind != "yes_no" and not isinstance(value, str):
                raise DataFileError(path, option_entry, "value", "expected a string")
            if any(option.value == value for option in options):
                raise DataFileError(path, option_entry, "value", f"duplicate value {value!r}")
            leans = raw_option.get("leans")
            if leans is not None and leans not in SIDES:
                raise DataFileError(path, option_entry, "leans", f"'{leans}' is not a side")
            options.append(
                Option(
                    value=value,
                    label=require(raw_option, "label", str, path, option_entry),
                    explanation=require(raw_option, "explanation", str, path, option_entry),
                    leans=leans,
                )
            )
        shown_when = None
        if raw.get("shown_when") is not None:
            try:
                shown_when = parse_condition(raw["shown_when"], "shown_when")
            except ConditionError as error:
                raise DataFileError(path, entry, "shown_when", str(error)) from None
            earlier = QuestionBank(version=version, sections=(), questions=tuple(questions))
            # Only earlier questions may decide whether this one is shown: no cycles.
            check_condition_names(shown_when, earlier, path, entry, "shown_when")
        question = Question(
            id=question_id,
            section=section,
            kind=kind,
            text=require(raw, "text", str, path, entry),
            help=raw.get("help", ""),
            options=tuple(options),
            default=None,
            shown_when=shown_when,
            exclusive=raw.get("exclusive"),
            optional=raw.get("optional", False),
        )
        if not isinstance(question.optional, bool):
            raise DataFileError(path, entry, "optional", "expected true or false")
        if question.exclusive is not None and (
            kind != "multi" or not question.option(question.exclusive)
        ):
            raise DataFileError(path, entry, "exclusive", "must be a value of this multi question")
        if "default" not in raw:
            raise DataFileError(path, entry, "default", "is missing (older assessments need it)")
        default = raw["default"]
        if kind == "multi" and (not isinstance(default, list) or not default):
            raise DataFileError(path, entry, "default", "a multi question's default is a list")
        _check_value(question, default, path, entry, "default")
        questions.append(dataclasses.replace(question, default=default))
    return QuestionBank(version=version, sections=tuple(sections), questions=tuple(questions))


def load_bank(path: Path | str = DEFAULT_BANK_PATH) -> QuestionBank:
    path = Path(path)
    return parse_bank(read_data_file(path), path)


@cache
def default_bank() -> QuestionBank:
    """The bank shipped with the app, loaded once per process."""
    return load_bank(DEFAULT_BANK_PATH)
