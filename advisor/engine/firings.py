"""Which rules' conditions held for a set of answers, as a report stores it.

A bit mask over a ruleset's rules in their order: bit i is set when the condition of the
i-th rule held, whether that rule was switched on or off. An administrator changes
weights and switches, not conditions, so another ruleset's tally of those answers follows
from the mask alone (see ``advisor.rulesets.impact``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from advisor.engine.rules import Rule, Rulebook


def matching_rules(answers: Mapping[str, Any], ruleset: Rulebook) -> list[Rule]:
    """The rules whose condition holds for these answers, whether switched on or off."""
    return [rule for rule in ruleset.rules if rule.when.evaluate(answers)]


def mask_width(ruleset: Rulebook) -> int:
    """Bytes of a firing mask over this ruleset's rules."""
    return (len(ruleset.rules) + 7) // 8


def firing_mask(answers: Mapping[str, Any], ruleset: Rulebook) -> bytes:
    """The mask of the rules whose condition holds for these (validated) answers."""
    matched = {rule.id for rule in matching_rules(answers, ruleset)}
    value = sum(1 << index for index, rule in enumerate(ruleset.rules) if rule.id in matched)
    return value.to_bytes(mask_width(ruleset), "little")


def masked_rule_ids(mask: bytes, ruleset: Rulebook) -> list[str]:
    """The ids of the rules a mask says matched, in the ruleset's order."""
    value = int.from_bytes(mask, "little")
    return [rule.id for index, rule in enumerate(ruleset.rules) if value >> index & 1]
