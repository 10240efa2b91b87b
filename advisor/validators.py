"""The text check of advisor.engine.textinput, for Django: forms, models and services."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

from advisor.engine.textinput import TextInputError, clean_text, text_problem


def validated_text(
    value, *, field: str, label: str, max_length: int | None, multiline: bool = False
) -> str:
    """The cleaned text, or ValidationError({field: "<label> <what is wrong>."})."""
    try:
        return clean_text(value, max_length=max_length, multiline=multiline)
    except TextInputError as error:
        raise ValidationError({field: f"{label} {error.message}."}, code="text") from None


@deconstructible
class TextValidator:
    """A field validator: NUL, lone surrogates, controls, bidi overrides, length."""

    def __init__(self, max_length: int | None = None, multiline: bool = False):
        self.max_length = max_length
        self.multiline = multiline

    def __call__(self, value) -> None:
        problem = text_problem(value, max_length=self.max_length, multiline=self.multiline)
        if problem:
            raise ValidationError(f"This text {problem}.", code="text")

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, TextValidator)
            and self.max_length == other.max_length
            and self.multiline == other.multiline
        )
