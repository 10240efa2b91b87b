"""Scoring answers against a ruleset, and the flips that would change the verdict.

Each side's raw score is the sum of weight x points of its rules that fire. Scores
are shares of the total, on 0-100, so two answer sets compare and multiplying every
weight by the same factor changes nothing. `hybrid` when each side holds a decisive
need that fired (a rule of weight > 0 marked decisive); otherwise the higher score
wins, and a margin under the ruleset's `close_call_margin` is reported as a close
call with its flips.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from advisor.engine.answers import validate_answers
from advisor.engine.bank import Question, QuestionBank
from advisor.engine.rules import Rule, Rulebook
from advisor.engine.sides import HYBRID, SIDES, other_side

WEIGHT_STEP = 0.1  # weight flips are reported to the admin's precision


@dataclass(frozen=True)
class Reason:
    rule: str
    title: str
    favours: str
    dimension: str
    points: float  # contribution to this side's 0-100 score
    weight: float
    base_points: int
    decisive: bool
    why: str
    citations: tuple[str, ...]
    caveat: str


@dataclass(frozen=True)
class Flip:
    question: str
    to: Any
    recommendation: str
    from_value: Any = None


@dataclass(frozen=True)
class WeightFlip:
    rule: str
    weight_from: float
    weight_to: float
    recommendation: str


@dataclass(frozen=True)
class Result:
    recommendation: str
    scores: dict[str, float]
    margin: float
    close_call: bool
    ruleset: str
    dimensions: dict[str, dict[str, float]]
    reasons: tuple[Reason, ...]
    decisive_needs: dict[str, list[str]]
    answers: dict[str, Any] = field(default_factory=dict)
    flips: tuple[Flip, ...] = ()
    weight_flips: tuple[WeightFlip, ...] = ()

    def reasons_for(self, side: str) -> list[Reason]:
        return [reason for reason in self.reasons if reason.favours == side]

    def to_data(self) -> dict:
        """The JSON shape of the `recommend` command (spec/questions.md), plus detail."""
        return {
            "recommendation": self.recommendation,
            "scores": dict(self.scores),
            "margin": self.margin,
            "ruleset": self.ruleset,
            "close_call": self.close_call,
            "dimensions": {name: dict(sides) for name, sides in self.dimensions.items()},
            "decisive_needs": {side: list(rules) for side, rules in self.decisive_needs.items()},
            "reasons": [
                {**asdict(reason), "citations": list(reason.citations)} for reason in self.reasons
            ],
            "flips": [
                {
                    "question": flip.question,
                    "to": flip.to,
                    "recommendation": flip.recommendation,
                    "from": flip.from_value,
                }
                for flip in self.flips
            ],
            "weight_flips": [asdict(flip) for flip in self.weight_flips],
            "answers": dict(self.answers),
        }


def fired_rules(answers: Mapping[str, Any], ruleset: Rulebook) -> list[Rule]:
    return [rule for rule in ruleset.rules if rule.enabled and rule.when.evaluate(answers)]


def _decide(
    fired: Iterable[Rule], weights: Mapping[str, float] | None = None
) -> tuple[str, dict[str, float]]:
    """The verdict and the raw points per side of a set of fired rules."""
    raw = dict.fromkeys(SIDES, 0.0)
    decisive = dict.fromkeys(SIDES, False)
    for rule in fired:
        weight = weights.get(rule.id, rule.weight) if weights else rule.weight
        if weight <= 0:
            continue
        raw[rule.favours] += weight * rule.points
        decisive[rule.favours] = decisive[rule.favours] or rule.decisive
    if all(decisive.values()):
        return HYBRID, raw
    if raw["kafka"] > raw["artemis"]:
        return "kafka", raw
    if raw["artemis"] > raw["kafka"]:
        return "artemis", raw
    # A tie: the side that holds a decisive need, else the broker, whose guarantees
    # the article calls the safe default for business-critical delivery (T7).
    return ("kafka" if decisive["kafka"] else "artemis"), raw


def score(answers: Mapping[str, Any], ruleset: Rulebook) -> Result:
    """Score validated answers (as `validate_answers` returns them). No flips."""
    fired = fired_rules(answers, ruleset)
    recommendation, raw = _decide(fired)
    total = raw["artemis"] + raw["kafka"]

    def share(points: float) -> float:
        return 100.0 * points / total if total else 0.0

    scores = (
        {side: round(share(raw[side]), 1) for side in SIDES}
        if total
        else dict.fromkeys(SIDES, 50.0)
    )
    margin = round(abs(share(raw["artemis"]) - share(raw["kafka"])), 1) if total else 0.0
    dimensions = {dimension.id: dict.fromkeys(SIDES, 0.0) for dimension in ruleset.dimensions}
    reasons = []
    decisive_needs: dict[str, list[str]] = {side: [] for side in SIDES}
    for rule in fired:
        if rule.weight <= 0:
            continue
        contribution = share(rule.weight * rule.points)
        dimensions[rule.dimension][rule.favours] += contribution
        if rule.decisive:
            decisive_needs[rule.favours].append(rule.id)
        reasons.append(
            Reason(
                rule=rule.id,
                title=rule.title,
                favours=rule.favours,
                dimension=rule.dimension,
                points=round(contribution, 1),
                weight=rule.weight,
                base_points=rule.points,
                decisive=rule.decisive,
                why=rule.rationale,
                citations=rule.citations,
                caveat=rule.caveat,
            )
        )
    reasons.sort(key=lambda reason: (-reason.points, reason.rule))
    return Result(
        recommendation=recommendation,
        scores=scores,
        margin=margin,
        close_call=recommendation != HYBRID and margin < ruleset.close_call_margin,
        ruleset=ruleset.version,
        dimensions={
            name: {side: round(value, 1) for side, value in sides.items()}
            for name, sides in dimensions.items()
        },
        reasons=tuple(reasons),
        decisive_needs=decisive_needs,
        answers=dict(answers),
    )


def alternative_answers(question: Question, current: Any) -> list[Any]:
    """Every other answer one question could take, for flips.

    For a multi question: each option toggled on or off, keeping its exclusive value
    exclusive and never leaving the list empty.
    """
    if question.kind != "multi":
        return [value for value in question.values if value != current]
    alternatives = []
    current = list(current or [])
    for value in question.values:
        if value in current:
            changed = [item for item in current if item != value]
        elif value == question.exclusive:
            changed = [value]
        else:
            changed = [item for item in current if item != question.exclusive] + [value]
        if changed and changed != current:
            alternatives.append(sorted(changed, key=question.values.index))
    return alternatives


def answer_flips(
    answers: Mapping[str, Any], ruleset: Rulebook, bank: QuestionBank, recommendation: str
) -> list[Flip]:
    """Single-answer changes that alter the recommendation.

    A change that reveals a hidden question scores it with that question's default.
    """
    flips = []
    for question in bank.shown_questions(answers):
        current = answers.get(question.id)
        for alternative in alternative_answers(question, current):
            changed = validate_answers(
                {**answers, question.id: alternative}, bank, require_all=False, fill_defaults=True
            )
            verdict, _ = _decide(fired_rules(changed, ruleset))
            if verdict != recommendation:
                flips.append(Flip(question.id, alternative, verdict, from_value=current))
    return flips


def weight_flips(
    answers: Mapping[str, Any], ruleset: Rulebook, recommendation: str
) -> list[WeightFlip]:
    """For each rule that fired, the nearest weight (0-10) that changes the verdict."""
    from advisor.engine.rules import WEIGHT_MAX, WEIGHT_MIN

    fired = fired_rules(answers, ruleset)
    _, raw = _decide(fired)
    flips = []
    for rule in fired:
        other = other_side(rule.favours)
        lead = raw[rule.favours] - raw[other]
        candidates = {WEIGHT_MIN, WEIGHT_MAX}
        crossing = rule.weight - lead / rule.points
        for rounded in (
            math.floor(crossing / WEIGHT_STEP) * WEIGHT_STEP,
            math.ceil(crossing / WEIGHT_STEP) * WEIGHT_STEP,
        ):
            for candidate in (rounded - WEIGHT_STEP, rounded, rounded + WEIGHT_STEP):
                if WEIGHT_MIN <= candidate <= WEIGHT_MAX:
                    candidates.add(round(candidate, 1))
        best = None
        for candidate in sorted(candidates, key=lambda weight: abs(weight - rule.weight)):
            verdict, _ = _decide(fired, {rule.id: candidate})
            if verdict != recommendation:
                best = WeightFlip(rule.id, rule.weight, candidate, verdict)
                break
        if best:
            flips.append(best)
    flips.sort(key=lambda flip: abs(flip.weight_to - flip.weight_from))
    return flips


def recommend(
    raw_answers: Any,
    ruleset: Rulebook,
    bank: QuestionBank,
    *,
    with_flips: bool = True,
    fill_defaults: bool = False,
) -> Result:
    """Validate answers, score them and (by default) compute their flips.

    Raises AnswersError naming each field that is wrong.
    """
    answers = validate_answers(raw_answers, bank, fill_defaults=fill_defaults)
    result = score(answers, ruleset)
    if not with_flips:
        return result
    return dataclasses.replace(
        result,
        flips=tuple(answer_flips(answers, ruleset, bank, result.recommendation)),
        weight_flips=tuple(weight_flips(answers, ruleset, result.recommendation)),
    )
