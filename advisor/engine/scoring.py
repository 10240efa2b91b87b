"""Scoring answers against a ruleset, and the flips that would change the verdict.

Each side's raw score is the sum of weight x points of its rules that fire, where
- rules that express one underlying fact share a ``group`` and count once: the
  strongest fired rule of a group counts, the others explain it;
- a rule that states a refuted claim of the 2023 article (``refuted_by``) is shown
  with its correction and counts nothing.
Scores are shares of the total, on 0-100, so two answer sets compare and multiplying
every weight by the same factor changes nothing.

A decisive need (a rule marked decisive that fired with weight > 0) binds:
- both sides hold one: ``hybrid``;
- one side holds one: that side, or ``hybrid`` when the other side leads on points by
  at least the close-call margin; never the other side;
- neither: the higher score wins (a tie goes to the broker).
A margin under the ruleset's ``close_call_margin`` is reported as a close call with
its flips. A hybrid verdict (and Kafka with an edge front end) carries the split:
which flows go where and the bridge between them.
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
    counted: bool = True  # False: outranked in its group, or a refuted claim
    group: str = ""
    explains: str = ""  # the rule of the same group that counts in its place
    refuted_by: str = ""


@dataclass(frozen=True)
class Split:
    """Which flows go to which platform, and the bridge between them."""

    kind: str  # "hybrid" (both, each for its role) or "edge" (Kafka with a broker in front)
    broker: tuple[str, ...]
    kafka: tuple[str, ...]
    bridge: str

    def to_data(self) -> dict:
        return {
            "kind": self.kind,
            "broker": list(self.broker),
            "kafka": list(self.kafka),
            "bridge": self.bridge,
        }


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
    split: Split | None = None

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
            "split": self.split.to_data() if self.split else None,
            "answers": dict(self.answers),
        }


def fired_rules(answers: Mapping[str, Any], ruleset: Rulebook) -> list[Rule]:
    return [rule for rule in ruleset.rules if rule.enabled and rule.when.evaluate(answers)]


@dataclass(frozen=True)
class Tally:
    """What a set of fired rules adds up to, before shares are taken."""

    raw: dict[str, float]  # weighted points that count, per side
    decisive: dict[str, list[str]]  # fired decisive needs, per side
    counted: dict[str, float]  # rule id -> weighted points that count
    explained_by: dict[str, str]  # rule id -> the rule of its group that counts instead


def tally(fired: Iterable[Rule], weights: Mapping[str, float] | None = None) -> Tally:
    """Add up fired rules, counting each group's strongest rule once and no refuted claim."""
    raw = dict.fromkeys(SIDES, 0.0)
    decisive: dict[str, list[str]] = {side: [] for side in SIDES}
    strongest: dict[str, tuple[float, Rule]] = {}
    candidates: list[tuple[float, Rule]] = []
    for rule in fired:
        weight = weights.get(rule.id, rule.weight) if weights else rule.weight
        if weight <= 0 or rule.refuted_by:
            continue
        if rule.decisive:
            decisive[rule.favours].append(rule.id)
        points = weight * rule.points
        candidates.append((points, rule))
        if rule.group and (rule.group not in strongest or points > strongest[rule.group][0]):
            strongest[rule.group] = (points, rule)
    counted: dict[str, float] = {}
    explained_by: dict[str, str] = {}
    for points, rule in candidates:
        if rule.group and strongest[rule.group][1].id != rule.id:
            explained_by[rule.id] = strongest[rule.group][1].id
            continue
        counted[rule.id] = points
        raw[rule.favours] += points
    return Tally(raw=raw, decisive=decisive, counted=counted, explained_by=explained_by)


def shares(raw: Mapping[str, float]) -> dict[str, float]:
    """Each side's share of the points that count, on 0-100 (one decimal); 50 each if none.
    One function for `score` and the admin's impact preview (advisor/rulesets/impact.py)."""
    total = raw["artemis"] + raw["kafka"]
    if not total:
        return dict.fromkeys(SIDES, 50.0)
    return {side: round(100.0 * raw[side] / total, 1) for side in SIDES}


def share_margin(raw: Mapping[str, float]) -> float:
    """The points between the two sides' shares of 100."""
    total = raw["artemis"] + raw["kafka"]
    return 100.0 * abs(raw["artemis"] - raw["kafka"]) / total if total else 0.0


def verdict(totals: Tally, close_call_margin: float) -> str:
    """The recommendation for a tally: decisive needs bind, then points decide."""
    raw = totals.raw
    holders = [side for side in SIDES if totals.decisive[side]]
    if len(holders) == 2:
        return HYBRID
    if len(holders) == 1:
        side = holders[0]
        # The other side cannot take a need only this side meets: at most both run.
        if raw[other_side(side)] > raw[side] and share_margin(raw) >= close_call_margin:
            return HYBRID
        return side
    if raw["kafka"] > raw["artemis"]:
        return "kafka"
    # A tie goes to the broker, whose guarantees the article calls the safe default
    # for business-critical delivery (T7).
    return "artemis"


def _decide(
    fired: Iterable[Rule], margin: float, weights: Mapping[str, float] | None = None
) -> tuple[str, Tally]:
    totals = tally(fired, weights)
    return verdict(totals, margin), totals


MQTT_EDGE = (
    "An MQTT edge: a broker with an MQTT acceptor (Artemis has one) takes the device "
    "connections, and Kafka Connect with an MQTT source connector, or an Apache Camel "
    "route (MQTT to Kafka), moves their records into Kafka topics."
)
JMS_BRIDGE = (
    "Kafka Connect JMS source and sink connectors (some, such as Confluent's, need a "
    "commercial licence) or Apache Camel routes (camel-jms to camel-kafka). The Artemis "
    "JMS bridge cannot do it: it links two JMS providers, and Kafka is not one."
)
AMQP_EDGE = (
    "An AMQP edge: the broker takes the partners' AMQP, STOMP or JMS connections, and "
    "Apache Camel routes (camel-amqp to camel-kafka) or Kafka Connect move the records "
    "into Kafka topics."
)
EDGE_BROKER_FLOW = {
    "mqtt": "Device connections over MQTT, at the edge",
    "amqp": "Partner connections over AMQP, STOMP or JMS, at the edge",
}
SPLIT_FLOWS = 4


def _edge(answers: Mapping[str, Any]) -> str:
    """'mqtt', 'amqp' or '' for the protocol the edge speaks that Kafka does not."""
    edge = answers.get("edge_protocols")
    protocols = answers.get("protocols") or []
    cannot = answers.get("kafka_clients_ok") in ("some_cannot", "no")
    if edge == "mqtt_devices" or (cannot and "mqtt" in protocols):
        return "mqtt"
    if edge == "partner_amqp" or (cannot and {"amqp", "stomp", "openwire"} & set(protocols)):
        return "amqp"
    return ""


# Dimensions that say which flows need what; durability, clustering, cloud and operations
# are properties of a whole platform, not of a flow.
FLOW_DIMENSIONS = ("workload", "delivery", "routing", "consumption", "clients")


def _flows(reasons: Iterable[Reason], side: str) -> tuple[str, ...]:
    mine = [
        r
        for r in reasons
        if r.favours == side
        and (r.decisive or (r.counted and r.dimension in FLOW_DIMENSIONS))
        and not r.refuted_by
    ]
    mine.sort(key=lambda r: (not r.decisive, -r.points, r.rule))
    return tuple(dict.fromkeys(r.title for r in mine))[:SPLIT_FLOWS]


def split_for(
    answers: Mapping[str, Any], recommendation: str, reasons: Iterable[Reason]
) -> Split | None:
    """The split of a hybrid verdict, or of Kafka with a broker at the edge."""
    reasons = list(reasons)
    edge = _edge(answers)
    if recommendation == "kafka" and edge:
        bridge = MQTT_EDGE if edge == "mqtt" else AMQP_EDGE
        return Split("edge", (EDGE_BROKER_FLOW[edge],), _flows(reasons, "kafka"), bridge)
    if recommendation != HYBRID:
        return None
    jms = answers.get("xa_transactions") is True or bool(
        {"jms", "openwire"} & set(answers.get("protocols") or [])
    )
    bridge = MQTT_EDGE if edge == "mqtt" else JMS_BRIDGE if jms else AMQP_EDGE
    broker = _flows(reasons, "artemis")
    if edge and not any(r.rule.startswith("edge-") and r.favours == "artemis" for r in reasons):
        broker = (*broker, EDGE_BROKER_FLOW[edge])
    return Split("hybrid", broker, _flows(reasons, "kafka"), bridge)


def score(answers: Mapping[str, Any], ruleset: Rulebook) -> Result:
    """Score validated answers (as `validate_answers` returns them). No flips."""
    fired = fired_rules(answers, ruleset)
    recommendation, totals = _decide(fired, ruleset.close_call_margin)
    raw = totals.raw
    total = raw["artemis"] + raw["kafka"]

    def share(points: float) -> float:
        return 100.0 * points / total if total else 0.0

    scores = shares(raw)
    margin = round(share_margin(raw), 1)
    dimensions = {dimension.id: dict.fromkeys(SIDES, 0.0) for dimension in ruleset.dimensions}
    reasons = []
    for rule in fired:
        if rule.weight <= 0:
            continue
        counted = rule.id in totals.counted
        contribution = share(totals.counted[rule.id]) if counted else 0.0
        dimensions[rule.dimension][rule.favours] += contribution
        reasons.append(
            Reason(
                rule=rule.id,
                title=rule.title,
                favours=rule.favours,
                dimension=rule.dimension,
                points=round(contribution, 1),
                weight=rule.weight,
                base_points=rule.points,
                decisive=rule.decisive and not rule.refuted_by,
                why=rule.rationale,
                citations=rule.citations,
                caveat=rule.caveat,
                counted=counted,
                group=rule.group,
                explains=totals.explained_by.get(rule.id, ""),
                refuted_by=rule.refuted_by,
            )
        )
    reasons.sort(key=lambda reason: (not reason.counted, -reason.points, reason.rule))
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
        decisive_needs={side: list(rules) for side, rules in totals.decisive.items()},
        answers=dict(answers),
        split=split_for(answers, recommendation, reasons),
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
            changed_verdict, _ = _decide(fired_rules(changed, ruleset), ruleset.close_call_margin)
            if changed_verdict != recommendation:
                flips.append(Flip(question.id, alternative, changed_verdict, from_value=current))
    return flips


def weight_flips(
    answers: Mapping[str, Any], ruleset: Rulebook, recommendation: str
) -> list[WeightFlip]:
    """For each rule that fired, the nearest weight (0-10) that changes the verdict."""
    from advisor.engine.rules import WEIGHT_MAX, WEIGHT_MIN

    fired = fired_rules(answers, ruleset)
    margin = ruleset.close_call_margin
    _, totals = _decide(fired, margin)
    raw = totals.raw
    flips = []
    for rule in fired:
        if rule.refuted_by:
            continue  # a refuted claim moves no score, whatever its weight
        lead = raw[rule.favours] - raw[other_side(rule.favours)]
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
            changed_verdict, _ = _decide(fired, margin, {rule.id: candidate})
            if changed_verdict != recommendation:
                best = WeightFlip(rule.id, rule.weight, candidate, changed_verdict)
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
