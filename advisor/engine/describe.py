"""Words for the engine's results: verdict names, conditions and flips as sentences."""

from __future__ import annotations

from typing import Any

from advisor.engine.bank import QuestionBank
from advisor.engine.conditions import Condition, Group, Leaf, Not
from advisor.engine.scoring import Flip, WeightFlip
from advisor.engine.sides import OUTCOME_NAMES, OUTCOME_PRODUCTS


def outcome_label(outcome: str) -> str:
    """'A message broker (Apache ActiveMQ Artemis; Red Hat AMQ Broker)' and the like."""
    return f"{OUTCOME_NAMES[outcome]} ({OUTCOME_PRODUCTS[outcome]})"


def _answer_words(bank: QuestionBank, question_id: str, value: Any) -> str:
    question = bank.by_id.get(question_id)
    if question is None:
        return repr(value)
    return f"“{question.label_for(value)}”"


def describe_condition(condition: Condition, bank: QuestionBank) -> str:
    """A condition in words, e.g. 'Must one transaction span ...? is yes'."""
    if isinstance(condition, Leaf):
        question = bank.by_id.get(condition.question)
        subject = f"“{question.text}”" if question else condition.question
        if condition.operator == "equals":
            return f"{subject} is {_answer_words(bank, condition.question, condition.value)}"
        if condition.operator == "in":
            choices = " or ".join(
                _answer_words(bank, condition.question, value) for value in condition.value
            )
            return f"{subject} is {choices}"
        return f"{subject} includes {_answer_words(bank, condition.question, condition.value)}"
    if isinstance(condition, Not):
        return f"not ({describe_condition(condition.child, bank)})"
    assert isinstance(condition, Group)
    joiner = " and " if condition.operator == "all" else " or "
    return joiner.join(f"({describe_condition(child, bank)})" for child in condition.children)


def describe_flip(flip: Flip, bank: QuestionBank) -> str:
    """'If you answered “...” to “...”, the recommendation would be Kafka.'"""
    question = bank.by_id[flip.question]
    answer = _answer_words(bank, flip.question, flip.to)
    return (
        f"If you answered {answer} to “{question.text}”, the recommendation would be "
        f"{OUTCOME_NAMES[flip.recommendation].lower()} ({flip.recommendation})."
    )


def describe_weight_flip(flip: WeightFlip) -> str:
    direction = "lowered" if flip.weight_to < flip.weight_from else "raised"
    return (
        f"If the weight of rule {flip.rule} were {direction} from {flip.weight_from:g} to "
        f"{flip.weight_to:g}, the recommendation would be {flip.recommendation}."
    )
