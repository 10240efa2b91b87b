"""Validating an answers object against the question bank.

Answers are JSON: question id -> value (single), list of values (multi) or
true/false (yes/no). Errors are collected per field so a form, the API and the
`recommend` command can all name what was wrong.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from typing import Any

from advisor.engine.bank import Question, QuestionBank

# Messages are constants so that tests and callers can refer to them.
NOT_AN_OBJECT = "expected a JSON object mapping question ids to answers"
UNKNOWN_QUESTION = "'{question}' is not a question; known questions: {known}"
REQUIRED = "is required; allowed: {allowed}"
NOT_ALLOWED = "{value} is not allowed; allowed: {allowed}"
EXPECTED_BOOLEAN = "expected true or false, got {value}"
EXPECTED_LIST = "expected a list of values, got {value}; allowed: {allowed}"
EMPTY_LIST = "choose at least one; allowed: {allowed}"
DUPLICATE_VALUE = "{value} is listed twice"
EXCLUSIVE_VALUE = "{exclusive} cannot be combined with other values"


class AnswersError(ValueError):
    """Answers that do not fit the bank. ``errors`` maps each field to its message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{field}: {message}" for field, message in self.errors.items()))

    def first_line(self) -> str:
        field, message = next(iter(self.errors.items()))
        return f"{field}: {message}"


def allowed_values(question: Question) -> str:
    return ", ".join(json.dumps(value) for value in question.values)


def check_answer(question: Question, value: Any) -> str | None:
    """The error message for one answer to one question, or None when it is valid."""
    allowed = allowed_values(question)
    if question.kind == "yes_no":
        if not isinstance(value, bool):
            return EXPECTED_BOOLEAN.format(value=json.dumps(value))
        return None
    if question.kind == "single":
        if not isinstance(value, str) or question.option(value) is None:
            return NOT_ALLOWED.format(value=json.dumps(value), allowed=allowed)
        return None
    if not isinstance(value, list):
        return EXPECTED_LIST.format(value=json.dumps(value), allowed=allowed)
    if not value:
        return EMPTY_LIST.format(allowed=allowed)
    for item in value:
        if not isinstance(item, str) or question.option(item) is None:
            return NOT_ALLOWED.format(value=json.dumps(item), allowed=allowed)
    for item in value:
        if value.count(item) > 1:
            return DUPLICATE_VALUE.format(value=json.dumps(item))
    if question.exclusive in value and len(value) > 1:
        return EXCLUSIVE_VALUE.format(exclusive=json.dumps(question.exclusive))
    return None


def validate_answers(
    raw: Any,
    bank: QuestionBank,
    *,
    require_all: bool = True,
    fill_defaults: bool = False,
) -> dict[str, Any]:
    """Return the answers of the questions that are shown, in bank order.

    - unknown ids and invalid values are errors naming the field;
    - an answer to a hidden question is dropped, whatever it holds;
    - a missing answer is an error when ``require_all``, takes the question's default
      when ``fill_defaults`` (assessments saved before a question existed), and is
      otherwise left out (a half-filled questionnaire);
    - an optional question left out of a complete answers file takes its default, so
      every answers file valid before the question existed stays valid.
    """
    if not isinstance(raw, Mapping):
        raise AnswersError({"answers": NOT_AN_OBJECT})
    errors: dict[str, str] = {}
    missing: dict[str, str] = {}  # reported after wrong values, which say more
    for question_id in raw:
        if question_id not in bank.by_id:
            known = ", ".join(bank.by_id)
            errors[str(question_id)] = UNKNOWN_QUESTION.format(question=question_id, known=known)
    answers: dict[str, Any] = {}
    for question in bank.questions:
        if not question.is_shown(answers):
            continue
        if question.id not in raw:
            if fill_defaults or (question.optional and require_all):
                answers[question.id] = question.default
            elif require_all:
                missing[question.id] = REQUIRED.format(allowed=allowed_values(question))
            continue
        value = raw[question.id]
        message = check_answer(question, value)
        if message:
            errors[question.id] = message
        else:
            answers[question.id] = list(value) if question.kind == "multi" else value
    if errors or missing:
        raise AnswersError({**errors, **missing})
    return answers


def random_answers(bank: QuestionBank, rng: random.Random) -> dict[str, Any]:
    """A valid answer to every question shown, drawn with ``rng``, as the wizard could
    have saved it: for the property tests and benchmarks, which need many assessments."""
    answers: dict[str, Any] = {}
    for question in bank.questions:
        if not question.is_shown(answers):
            continue
        if question.kind == "multi":
            others = [value for value in question.values if value != question.exclusive]
            least = 0 if question.exclusive else 1
            chosen = rng.sample(others, rng.randint(least, len(others)))
            answers[question.id] = sorted(chosen, key=question.values.index) or [question.exclusive]
        else:
            answers[question.id] = rng.choice(question.values)
    return answers
