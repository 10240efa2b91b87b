"""The declarative condition language of rules and of `shown_when`.

A condition is JSON, never code:

    {"question": "xa_transactions", "equals": true}
    {"question": "throughput", "in": ["100k_1m", "gt_1m"]}
    {"question": "routing", "contains": "selectors"}       # multi-choice answers
    {"all": [cond, ...]}   {"any": [cond, ...]}   {"not": cond}

A leaf on a question that has no answer (hidden, or not asked yet) is false.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LEAF_OPERATORS = ("equals", "in", "contains")
GROUP_OPERATORS = ("all", "any")


class ConditionError(ValueError):
    """A condition that does not follow the grammar; the message says where."""


@dataclass(frozen=True)
class Leaf:
    question: str
    operator: str  # one of LEAF_OPERATORS
    value: Any

    def evaluate(self, answers: Mapping[str, Any]) -> bool:
        if self.question not in answers:
            return False
        answer = answers[self.question]
        if self.operator == "equals":
            return answer == self.value
        if self.operator == "in":
            return answer in self.value
        return isinstance(answer, list | tuple) and self.value in answer

    def questions(self) -> set[str]:
        return {self.question}

    def values(self) -> list[tuple[str, Any]]:
        """(question, value) pairs this leaf names, for validation against the bank."""
        if self.operator == "in":
            return [(self.question, item) for item in self.value]
        return [(self.question, self.value)]

    def to_data(self) -> dict:
        value = list(self.value) if self.operator == "in" else self.value
        return {"question": self.question, self.operator: value}


@dataclass(frozen=True)
class Group:
    operator: str  # "all" or "any"
    children: tuple[Condition, ...]

    def evaluate(self, answers: Mapping[str, Any]) -> bool:
        results = (child.evaluate(answers) for child in self.children)
        return all(results) if self.operator == "all" else any(results)

    def questions(self) -> set[str]:
        return set().union(*(child.questions() for child in self.children))

    def values(self) -> list[tuple[str, Any]]:
        return [pair for child in self.children for pair in child.values()]

    def to_data(self) -> dict:
        return {self.operator: [child.to_data() for child in self.children]}


@dataclass(frozen=True)
class Not:
    child: Condition

    def evaluate(self, answers: Mapping[str, Any]) -> bool:
        return not self.child.evaluate(answers)

    def questions(self) -> set[str]:
        return self.child.questions()

    def values(self) -> list[tuple[str, Any]]:
        return self.child.values()

    def to_data(self) -> dict:
        return {"not": self.child.to_data()}


Condition = Leaf | Group | Not


def parse_condition(data: Any, where: str = "condition") -> Condition:
    """Build a condition from its JSON form; `where` names the spot in error messages."""
    if not isinstance(data, Mapping):
        raise ConditionError(f"{where}: expected an object, got {type(data).__name__}")
    if "question" in data:
        operators = [key for key in data if key != "question"]
        if len(operators) != 1 or operators[0] not in LEAF_OPERATORS:
            raise ConditionError(
                f"{where}: a test on a question needs exactly one of "
                f"{', '.join(LEAF_OPERATORS)}; got {', '.join(operators) or 'none'}"
            )
        operator = operators[0]
        value = data[operator]
        if operator == "in":
            if not isinstance(value, list) or not value:
                raise ConditionError(f"{where}: 'in' needs a non-empty list of values")
            value = tuple(value)
        return Leaf(question=str(data["question"]), operator=operator, value=value)
    if len(data) != 1:
        raise ConditionError(
            f"{where}: expected one of question, all, any, not; got {', '.join(data) or 'nothing'}"
        )
    (operator, operand), *_ = data.items()
    if operator in GROUP_OPERATORS:
        if not isinstance(operand, list) or not operand:
            raise ConditionError(f"{where}: '{operator}' needs a non-empty list of conditions")
        children = tuple(
            parse_condition(child, f"{where}.{operator}[{index}]")
            for index, child in enumerate(operand)
        )
        return Group(operator=operator, children=children)
    if operator == "not":
        return Not(parse_condition(operand, f"{where}.not"))
    raise ConditionError(f"{where}: unknown operator '{operator}'")
