"""Re-tallying stored rule firings under other weights, for the admin's impact preview.

A report stores which of its ruleset's rules matched its answers (a firing mask, see
``advisor.engine.firings``). An administrator edits weights and switches, not conditions,
so another ruleset's verdict for those answers follows from the mask alone, through the
engine's own ``tally`` and ``verdict``: no answers are read, no condition evaluated. Only rules
whose condition differs (or that the report's ruleset lacks) need the answers: the
caller re-scores those reports in full.

For speed over many reports the masks are tallied in parts with numpy: the rules are cut
into chunks of at most CHUNK_BITS rules that never split a rule group (tallies of
different groups add up), each chunk's 2**k possible firings are tallied once by the
engine, and each report's tally is the sum of one table entry per chunk.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from advisor.engine.rules import SIDES, Rule, RuleSet
from advisor.engine.scoring import Tally, rule_group, tally, verdict
from advisor.engine.sides import OUTCOMES

CHUNK_BITS = 8
# One row per report: centipoints and decisive flag per side, in SIDES order.
TALLY_COLUMNS = 2 * len(SIDES)


def _same_condition(one: Rule, other: Rule) -> bool:
    return one.when.to_data() == other.when.to_data()


def tally_row(counted: Tally) -> tuple[int, ...]:
    return (*(counted.centipoints[s] for s in SIDES), *(int(counted.decisive[s]) for s in SIDES))


def row_tally(row: Iterable[int]) -> Tally:
    values = [int(value) for value in row]
    count = len(SIDES)
    return Tally(
        dict(zip(SIDES, values[:count], strict=True)),
        {side: bool(flag) for side, flag in zip(SIDES, values[count:], strict=True)},
    )


@dataclass(frozen=True)
class Retally:
    """Tallies, under `target`'s weights and switches, of masks stored over `source`."""

    source: RuleSet
    target: RuleSet
    # Target rules a mask over `source` says nothing about (new, or another condition).
    unknown: tuple[str, ...]
    chunks: tuple[tuple[int, ...], ...]  # source bit positions, group-closed
    tables: tuple[np.ndarray, ...]  # per chunk: (2**k, TALLY_COLUMNS) int64

    @classmethod
    def build(cls, *, source: RuleSet, target: RuleSet) -> Retally:
        target_rules = {rule.id: rule for rule in target.rules}
        known: dict[int, Rule] = {}  # source position -> the target's rule (its weights)
        for position, rule in enumerate(source.rules):
            counterpart = target_rules.get(rule.id)
            if counterpart is not None and _same_condition(rule, counterpart):
                known[position] = counterpart
        covered = {rule.id for rule in known.values()}
        unknown = tuple(rule.id for rule in target.rules if rule.id not in covered)
        # Group-closed chunks: whole groups, packed greedily, in the source's order.
        groups: dict[str, list[int]] = {}
        for position, rule in known.items():
            groups.setdefault(rule_group(rule), []).append(position)
        chunks: list[list[int]] = []
        for members in groups.values():
            if chunks and len(chunks[-1]) + len(members) <= CHUNK_BITS:
                chunks[-1].extend(members)
            else:
                chunks.append(list(members))
        tables = []
        for chunk in chunks:
            table = np.zeros((1 << len(chunk), TALLY_COLUMNS), dtype=np.int64)
            for combination in range(1 << len(chunk)):
                fired = [
                    known[position]
                    for bit, position in enumerate(chunk)
                    if combination >> bit & 1 and known[position].enabled
                ]
                table[combination] = tally_row(tally(fired))
            tables.append(table)
        return cls(source, target, unknown, tuple(map(tuple, chunks)), tuple(tables))

    def rows(self, masks: np.ndarray) -> np.ndarray:
        """Tally rows (N, TALLY_COLUMNS) for masks given as (N, width) unsigned bytes."""
        bits = np.unpackbits(masks, axis=1, bitorder="little")
        total = np.zeros((masks.shape[0], TALLY_COLUMNS), dtype=np.int64)
        for chunk, table in zip(self.chunks, self.tables, strict=True):
            index = np.zeros(masks.shape[0], dtype=np.int64)
            for bit, position in enumerate(chunk):
                if position < bits.shape[1]:
                    index |= bits[:, position].astype(np.int64) << bit
            total += table[index]
        # Decisive columns were added as counts: any count is a held need.
        total[:, len(SIDES) :] = total[:, len(SIDES) :] > 0
        return total


@dataclass(frozen=True)
class Outcomes:
    """Per tally row: the recommendation (an index into OUTCOMES) and each side's score."""

    codes: np.ndarray  # int, OUTCOMES[code] is the recommendation
    kafka_scores: np.ndarray  # float, 0-100
    artemis_scores: np.ndarray

    def recommendation(self, index: int) -> str:
        return OUTCOMES[self.codes[index]]


def outcomes(rows: np.ndarray) -> Outcomes:
    """The engine's verdict and scores for each tally row, computed once per distinct row."""
    if rows.shape[0] == 0:
        return Outcomes(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0))
    distinct, inverse = np.unique(rows, axis=0, return_inverse=True)
    codes, kafka, artemis = [], [], []
    for row in distinct:
        counted = row_tally(row)
        scores = counted.scores()
        codes.append(OUTCOMES.index(verdict(counted)))
        kafka.append(scores["kafka"])
        artemis.append(scores["artemis"])
    inverse = inverse.reshape(-1)
    return Outcomes(
        np.array(codes, dtype=np.int64)[inverse],
        np.array(kafka)[inverse],
        np.array(artemis)[inverse],
    )


def masks_array(masks: list[bytes], width: int) -> np.ndarray:
    """Stored masks as an (N, width) byte matrix; short or long ones padded or cut."""
    joined = b"".join(masks)
    if len(joined) != len(masks) * width:
        joined = b"".join(bytes(mask[:width]).ljust(width, b"\0") for mask in masks)
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(masks), width)
