"""A wizard step as a Django form: one optional field per question of the step.

The questions are data, so the fields are built from the bank. Every field is optional
(answers are saved as the architect goes); which values a question allows is checked by
the service with the engine's own messages. The form names anything posted that does not
belong to this step.
"""

from __future__ import annotations

from typing import Any

from django import forms

from advisor.engine.bank import Question, QuestionBank

CONTROL_FIELDS = {"csrfmiddlewaretoken", "action", "step_questions"}
NOT_IN_THIS_STEP = "this question belongs to another step"
NOT_A_QUESTION = "'{name}' is not a question of this questionnaire"
ONE_VALUE_ONLY = "choose one answer, not several"
YES_OR_NO = "answer yes or no"
PLEASE_ANSWER = "Please choose an answer."


class SingleAnswerField(forms.Field):
    """One value of a single-choice question, as posted (checked later against the bank)."""

    widget = forms.RadioSelect

    def to_python(self, value: Any) -> Any:
        return value or None


class YesNoField(forms.Field):
    widget = forms.RadioSelect

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if value not in ("true", "false"):
            raise forms.ValidationError(YES_OR_NO)
        return value == "true"


class MultiAnswerField(forms.Field):
    widget = forms.CheckboxSelectMultiple

    def to_python(self, value: Any) -> list:
        return list(value or [])


FIELD_FOR_KIND = {"single": SingleAnswerField, "yes_no": YesNoField, "multi": MultiAnswerField}


class StepForm(forms.Form):
    """The answers posted for one step, with what was cleared and what did not fit."""

    def __init__(self, questions: list[Question], bank: QuestionBank, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = questions
        self.bank = bank
        for question in questions:
            self.fields[question.id] = FIELD_FOR_KIND[question.kind](
                required=False, label=question.text
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        in_step = {question.id for question in self.questions}
        for name in self.data:
            if name in CONTROL_FIELDS or name in in_step:
                continue
            known = name in self.bank.by_id
            self.stray[name] = NOT_IN_THIS_STEP if known else NOT_A_QUESTION.format(name=name[:60])
        for question in self.questions:
            if question.kind != "multi" and len(self.data.getlist(question.id)) > 1:
                self.add_error(question.id, ONE_VALUE_ONLY)
        return cleaned

    def full_clean(self) -> None:
        self.stray: dict[str, str] = {}
        super().full_clean()

    @property
    def answers(self) -> dict[str, Any]:
        """The answers given, without the fields that had errors."""
        return {
            question.id: self.cleaned_data[question.id]
            for question in self.questions
            if question.id not in self.errors
            and self.cleaned_data.get(question.id) not in (None, [])
        }

    @property
    def cleared(self) -> list[str]:
        """Multi-choice questions shown on the step and sent with every box unticked."""
        rendered = set(self.data.get("step_questions", "").split())
        return [
            question.id
            for question in self.questions
            if question.kind == "multi"
            and question.id in rendered
            and not self.data.getlist(question.id)
        ]

    @property
    def field_errors(self) -> dict[str, str]:
        """{question id or stray name: the first message}, as the step page shows them."""
        errors = {name: messages[0] for name, messages in self.errors.items() if name != "__all__"}
        return {**self.stray, **errors}
