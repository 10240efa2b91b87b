"""Writes on assessments: saving answers as the architect goes, and submitting."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from advisor.engine.answers import AnswersError, check_answer, validate_answers
from advisor.engine.bank import default_bank
from advisor.validators import validated_text
from questionnaire.models import Assessment

TITLE_MAX_LENGTH = 200
ANSWER_TO_HIDDEN_QUESTION = "this question is not asked for your other answers"
UNKNOWN_QUESTION = "'{question}' is not a question of this questionnaire"


def assessment_create(*, title: str = "") -> Assessment:
    """A new, empty assessment. ValidationError ({"title": ...}) for a title we refuse."""
    title = validated_text(title, field="title", label="The title", max_length=TITLE_MAX_LENGTH)
    assessment = Assessment(title=title, bank_version=default_bank().version)
    assessment.full_clean()
    assessment.save()
    return assessment


@transaction.atomic
def assessment_save_answers(
    *,
    assessment: Assessment,
    answers: dict[str, Any],
    cleared: tuple[str, ...] = (),
    section: str | None = None,
) -> dict[str, str]:
    """Merge posted answers into the saved ones; return errors per field.

    ``cleared`` names questions whose answer the architect removed (a multi-choice
    question with every box unticked).

    Each valid answer is saved even when another in the same post is wrong, so
    nothing the architect typed is lost; a wrong one leaves the saved value as it
    was. Answers to questions hidden by the (new) answers are dropped from the store.
    """
    bank = default_bank()
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    shown_before = {question.id for question in bank.shown_questions(assessment.answers)}
    merged = {key: value for key, value in assessment.answers.items() if key not in cleared}
    errors: dict[str, str] = {}
    for question_id, value in answers.items():
        question = bank.by_id.get(question_id)
        if question is None:
            errors[question_id] = UNKNOWN_QUESTION.format(question=question_id)
            continue
        message = check_answer(question, value)
        if message:
            errors[question_id] = message
        else:
            merged[question_id] = value
    for question_id in answers:
        question = bank.by_id.get(question_id)
        if question is None or question_id in errors or question.is_shown(merged):
            continue
        # Hidden before and after this post: the form never showed it, so the post was
        # not made by our page. Shown before and hidden now is the architect changing
        # the answer it depends on: the stale answer is simply dropped.
        if question_id not in shown_before:
            errors[question_id] = ANSWER_TO_HIDDEN_QUESTION
    shown = {question.id for question in bank.shown_questions(merged)}
    assessment.answers = {key: value for key, value in merged.items() if key in shown}
    if section:
        assessment.current_section = section
    assessment.save(update_fields=["answers", "current_section", "updated_at"])
    return errors


@transaction.atomic
def assessment_submit(*, assessment: Assessment, owner_session: str = "", owner=None):
    """Validate every answer, score it, and snapshot the result as a Report.

    Raises AnswersError naming each missing or wrong answer; nothing is changed then.
    """
    from advisor.reports.services import report_create

    bank = default_bank()
    answers = validate_answers(assessment.answers, bank)
    report = report_create(
        assessment=assessment, answers=answers, owner_session=owner_session, owner=owner
    )
    assessment.submitted_at = timezone.now()
    assessment.save(update_fields=["submitted_at", "updated_at"])
    return report


__all__ = [
    "ANSWER_TO_HIDDEN_QUESTION",
    "AnswersError",
    "assessment_create",
    "assessment_save_answers",
    "assessment_submit",
]
