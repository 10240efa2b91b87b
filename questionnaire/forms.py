"""Reading a wizard step's POST into answers, naming anything that does not fit.

Not a Django Form: the questions are data, so the step's fields are built from the
bank and parsed here, with the same messages as the engine's validation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from advisor.engine.bank import Question, QuestionBank

CONTROL_FIELDS = {"csrfmiddlewaretoken", "action", "step_questions"}
NOT_IN_THIS_STEP = "this question belongs to another step"
NOT_A_QUESTION = "'{name}' is not a question of this questionnaire"
ONE_VALUE_ONLY = "choose one answer, not several"
YES_OR_NO = "answer yes or no"
PLEASE_ANSWER = "Please choose an answer."


@dataclass
class StepPost:
    answers: dict[str, Any] = field(default_factory=dict)
    cleared: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def parse_step_post(data: QueryDict, questions: list[Question], bank: QuestionBank) -> StepPost:
    """Answers posted for one step. Values are checked later by the service."""
    parsed = StepPost()
    in_step = {question.id for question in questions}
    rendered = set(data.get("step_questions", "").split())
    for name in data:
        if name in CONTROL_FIELDS:
            continue
        if name not in bank.by_id:
            parsed.errors[name] = NOT_A_QUESTION.format(name=name[:60])
        elif name not in in_step:
            parsed.errors[name] = NOT_IN_THIS_STEP
    for question in questions:
        values = data.getlist(question.id)
        if question.kind == "multi":
            if values:
                parsed.answers[question.id] = values
            elif question.id in rendered:
                parsed.cleared.append(question.id)
            continue
        if not values:
            continue
        if len(values) > 1:
            parsed.errors[question.id] = ONE_VALUE_ONLY
        elif question.kind == "yes_no":
            if values[0] not in ("true", "false"):
                parsed.errors[question.id] = YES_OR_NO
            else:
                parsed.answers[question.id] = values[0] == "true"
        else:
            parsed.answers[question.id] = values[0]
    return parsed
