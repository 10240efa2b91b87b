"""Re-tallying stored rule firings (advisor/rulesets/impact.py) gives exactly what scoring gives.

Plain pytest, no database: random answer sets from the question bank, the default rules,
and drafts with other weights, switches and a changed condition.
"""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from advisor.engine.answers import random_answers, validate_answers
from advisor.engine.conditions import parse_condition
from advisor.engine.firings import firing_mask, mask_width, masked_rule_ids
from advisor.engine.rules import Rulebook
from advisor.engine.scoring import Tally, score, shares, verdict
from advisor.rulesets import impact
from advisor.rulesets.impact import Retally, masks_array, outcomes


def reweighted(ruleset: Rulebook, rng: random.Random, version: str) -> Rulebook:
    """Other weights (two decimals, some 0) and some rules switched off."""
    rules = tuple(
        replace(
            rule,
            weight=rng.choice([0.0, 0.25, 0.5, 1.0, 1.15, 2.0, 3.33, 10.0]),
            enabled=rng.random() > 0.15,
        )
        for rule in ruleset.rules
    )
    return Rulebook(version, ruleset.dimensions, rules, ruleset.close_call_margin)


@pytest.fixture(scope="module")
def answer_sets(bank):
    rng = random.Random(12)
    return [validate_answers(random_answers(bank, rng), bank) for _ in range(400)]


def test_a_mask_names_the_rules_whose_condition_held_switched_on_or_not(
    bank, default_rules, answer_sets
):
    switched_off = Rulebook(
        "off",
        default_rules.dimensions,
        tuple(replace(rule, enabled=False) for rule in default_rules.rules),
    )
    for answers in answer_sets[:50]:
        expected = [rule.id for rule in default_rules.rules if rule.when.evaluate(answers)]
        assert masked_rule_ids(firing_mask(answers, switched_off), default_rules) == expected


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("coarser", [False, True], ids=["rule groups", "coarser parts"])
def test_re_tallied_masks_give_the_verdict_and_scores_a_full_re_score_gives(
    bank, default_rules, answer_sets, seed, coarser, monkeypatch
):
    if coarser:  # ungrouped rules of a dimension tallied together: parts of several rules
        monkeypatch.setattr(impact, "rule_group", lambda rule: rule.group or rule.dimension)
    rng = random.Random(seed)
    source = reweighted(default_rules, rng, "v1")
    target = reweighted(default_rules, rng, "v2")
    stored = [firing_mask(answers, source) for answers in answer_sets]
    masks = masks_array(stored, mask_width(source))

    retally = Retally.build(source=source, target=target)
    result = outcomes(retally.rows(masks), close_call_margin=target.close_call_margin)

    assert retally.unknown == ()
    assert retally.chunks  # the rules' groups (several rules each) take the table path
    for index, answers in enumerate(answer_sets):
        expected = score(answers, target)
        assert result.recommendation(index) == expected.recommendation, index
        assert result.kafka_scores[index] == expected.scores["kafka"], index
        assert result.artemis_scores[index] == expected.scores["artemis"], index


def test_a_rule_whose_condition_changed_is_read_from_the_answers_not_the_mask(
    default_rules, answer_sets
):
    changed = default_rules.rules[3]
    other_condition = parse_condition({"not": changed.when.to_data()}, "when")
    rules = tuple(
        replace(rule, when=other_condition) if rule.id == changed.id else rule
        for rule in default_rules.rules
    )
    added = replace(default_rules.rules[7], id="added-rule", group="")
    target = Rulebook("v2", default_rules.dimensions, (*rules, added))
    stored = [firing_mask(answers, default_rules) for answers in answer_sets]
    masks = masks_array(stored, mask_width(default_rules))

    retally = Retally.build(source=default_rules, target=target)
    result = outcomes(retally.rows(masks, retally.evaluated(answer_sets)), close_call_margin=10.0)

    assert [rule.id for rule in retally.unknown] == [changed.id, "added-rule"]
    for index, answers in enumerate(answer_sets):
        expected = score(answers, target)
        assert result.recommendation(index) == expected.recommendation, index
        assert result.kafka_scores[index] == expected.scores["kafka"], index
    with pytest.raises(ValueError, match="2 rules need their bits from the answers"):
        retally.rows(masks)


def engine_outcome(row, margin: float) -> tuple[str, float, float]:
    """What the engine's own verdict and shares say of one tally row."""
    artemis, kafka, artemis_decisive, kafka_decisive = (int(value) for value in row)
    counted = Tally(
        raw={"artemis": artemis / 100, "kafka": kafka / 100},
        decisive={
            "artemis": ["held"] if artemis_decisive else [],
            "kafka": ["held"] if kafka_decisive else [],
        },
        counted={},
        explained_by={},
    )
    scores = shares(counted.raw)
    return verdict(counted, margin), scores["kafka"], scores["artemis"]


def assert_outcomes_follow_the_engine(rows: np.ndarray, margin: float) -> None:
    result = outcomes(rows, close_call_margin=margin)
    for index, row in enumerate(rows):
        expected = engine_outcome(row, margin)
        got = (
            result.recommendation(index),
            float(result.kafka_scores[index]),
            float(result.artemis_scores[index]),
        )
        assert got == expected, (row.tolist(), margin)


def test_outcomes_on_the_boundaries_match_the_engine():
    # No points; a tie; a lead exactly at the close-call margin (45/55 at 10 points); just
    # under and over it; shares on a rounding tie (1/16 = 6.25 %, 1/80 = 1.25 %); huge totals.
    pairs = [(0, 0), (100, 100), (4500, 5500), (5500, 4500), (4501, 5499), (4499, 5501)]
    pairs += [(100, 1500), (1500, 100), (100, 7900), (7900, 100), (1, 2), (2, 1)]
    pairs += [(33, 67), (67, 33), (10**9, 10**9 + 1), (1, 10**9)]
    rows = np.array(
        [
            (artemis, kafka, artemis_decisive, kafka_decisive)
            for artemis, kafka in pairs
            for artemis_decisive in (0, 1)
            for kafka_decisive in (0, 1)
        ],
        dtype=np.int64,
    )
    for margin in (0.0, 10.0, 12.5, 100.0):
        assert_outcomes_follow_the_engine(rows, margin)


points = st.integers(min_value=0, max_value=200_000)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(
        st.tuples(points, points, st.integers(0, 1), st.integers(0, 1)), min_size=1, max_size=40
    ),
    margin=st.sampled_from([0.0, 5.0, 10.0, 12.5, 20.0]),
)
def test_outcomes_follow_the_engine_for_any_tally(rows, margin):
    assert_outcomes_follow_the_engine(np.array(rows, dtype=np.int64).reshape(-1, 4), margin)


@settings(max_examples=300, deadline=None)
@given(tie=st.integers(min_value=0, max_value=999), scale=st.integers(min_value=1, max_value=1000))
def test_shares_on_rounding_ties_round_as_python_does(tie, scale):
    # A Kafka share of x.x5 % (a hundredths digit of 5) is where numpy's rounding and
    # Python's can part: 10 * tie + 5 hundredths of every 10,000 points.
    kafka = (10 * tie + 5) * scale
    rows = np.array([[10_000 * scale - kafka, kafka, 0, 0]], dtype=np.int64)
    assert_outcomes_follow_the_engine(rows, 10.0)
