"""Factories for the tests: users, and assessments submitted the way the wizard does."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from tests.conftest import load_personas

PASSWORD = "a-long-test-password-nobody-uses"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda number: f"user{number}")
    password = factory.django.Password(PASSWORD)

    class Params:
        admin = factory.Trait(is_staff=True, is_superuser=True)


def submitted_assessment(persona: str, *, title: str | None = None):
    """Save a persona's answers through the services and submit: (assessment, report)."""
    from questionnaire.services import (
        assessment_create,
        assessment_save_answers,
        assessment_submit,
    )

    assessment = assessment_create(title=title or persona.replace("_", " "))
    errors = assessment_save_answers(
        assessment=assessment, answers=load_personas()[persona]["answers"]
    )
    assert not errors, errors
    assessment.refresh_from_db()
    report = assessment_submit(assessment=assessment)
    assessment.refresh_from_db()
    return assessment, report
