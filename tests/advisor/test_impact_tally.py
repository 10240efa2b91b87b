"""Re-tallying stored rule firings (advisor/rulesets/impact.py) gives exactly what scoring gives.

Plain pytest, no database: random answer sets from the question bank, the default rules,
and drafts with other weights, switches and a changed condition.
"""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from advisor.engine.answers import validate_answers
from advisor.engine.conditions import parse_condition
from advisor.engine.firings import firing_mask, mask_width, masked_rule_ids
from advisor.engine.rules import Rulebook
from advisor.engine.scoring import score, shares, tally
from advisor.rulesets import impact
from advisor.rulesets.impact import Retally, masks_array, outcomes


def random_answers(bank, rng: random.Random) -> dict:
    answers: dict = {}
    for question in bank.questions:
        if not question.is_shown(answers):
            continue
        if question.kind == "multi":
            plain = [value for value in question.values if value != question.exclusive]
            if question.exclusive and rng.random() < 0.2:
                answers[question.id] = [question.exclusive]
            else:
                chosen = rng.sample(plain, rng.randint(1, len(plain)))
                answers[question.id] = sorted(chosen, key=question.values.index)
        else:
            answers[question.id] = rng.choice(question.values)
    return validate_answers(answers, bank)


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
    return [random_answers(bank, rng) for _ in range(400)]


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


def test_a_rule_whose_condition_changed_is_not_tallied_from_the_mask(default_rules):
    changed = default_rules.rules[3]
    other_condition = parse_condition({"not": changed.when.to_data()}, "when")
    rules = tuple(
        replace(rule, when=other_condition) if rule.id == changed.id else rule
        for rule in default_rules.rules
    )
    target = Rulebook("v2", default_rules.dimensions, rules)

    retally = Retally.build(source=default_rules, target=target)

    assert retally.unknown == (changed.id,)
    # Every condition held: the changed rule is left out of the tally, for the caller.
    all_matched = np.full((1, mask_width(default_rules)), 255, dtype=np.uint8)
    others = [rule for rule in default_rules.rules if rule.id != changed.id and rule.enabled]
    expected = shares(tally(others).raw)["kafka"]
    result = outcomes(retally.rows(all_matched), close_call_margin=10.0)
    assert result.kafka_scores[0] == expected
