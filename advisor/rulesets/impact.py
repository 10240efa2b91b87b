"""Re-tallying stored rule firings under other weights, for the admin's impact preview.

A report stores which of its ruleset's rules matched its answers (a firing mask, see
``advisor.engine.firings``). An administrator edits weights and switches, not conditions,
so another ruleset's verdict for those answers follows from the mask alone, through the
engine's own ``tally`` and ``verdict``: no answer is read, no condition evaluated. Only
rules whose condition differs (or that the report's ruleset lacks) need the answers: the
caller re-scores those reports in full.

For speed over many reports the masks are tallied with numpy, a rule group at a time:
tallies of different groups add up, so each group's 2**k possible firings are tallied
once by the engine, and a report's tally is the sum of one table entry per group. The
verdict and scores are then asked of the engine once per distinct tally.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advisor.engine.rules import Rule, Rulebook
from advisor.engine.scoring import Tally, shares, tally, verdict
from advisor.engine.sides import OUTCOMES, SIDES

# One row per report: hundredths of points and decisive flag per side, in SIDES order.
TALLY_COLUMNS = 2 * len(SIDES)
assert SIDES == ("artemis", "kafka"), "outcomes() packs the two sides in this order"


def _same_condition(one: Rule, other: Rule) -> bool:
    return one.when.to_data() == other.when.to_data()


def rule_group(rule: Rule) -> str:
    """The fact a rule expresses: the engine counts each group once (its strongest fired
    rule), so tallies of different groups add up, and a group is never split here."""
    return rule.group or rule.id


def tally_row(counted: Tally) -> tuple[int, ...]:
    """A tally as integers: points per side in hundredths (a weight has at most two
    decimals and points are whole, so this is exact), then whether each side holds a
    decisive need."""
    return (
        *(round(counted.raw[side] * 100) for side in SIDES),
        *(int(bool(counted.decisive[side])) for side in SIDES),
    )


def row_tally(artemis: int, kafka: int, artemis_decisive: bool, kafka_decisive: bool) -> Tally:
    """The engine's Tally back from a row: what its verdict and shares read."""
    return Tally(
        raw={"artemis": artemis / 100, "kafka": kafka / 100},
        decisive={
            "artemis": ["held"] if artemis_decisive else [],
            "kafka": ["held"] if kafka_decisive else [],
        },
        counted={},
        explained_by={},
    )


@dataclass(frozen=True)
class Retally:
    """Tallies, under `target`'s weights and switches, of masks stored over `source`."""

    source: Rulebook
    target: Rulebook
    # Target rules a mask over `source` says nothing about (new, or another condition).
    unknown: tuple[str, ...]
    # Rules alone in their group: their bit positions and tallies (one row each), which a
    # matrix product adds up; groups of several: their positions and a table of 2**k rows.
    single_positions: tuple[int, ...]
    single_tallies: np.ndarray  # (len(single_positions), TALLY_COLUMNS) int64
    chunks: tuple[tuple[int, ...], ...]
    tables: tuple[np.ndarray, ...]

    @classmethod
    def build(cls, *, source: Rulebook, target: Rulebook) -> Retally:
        target_rules = {rule.id: rule for rule in target.rules}
        known: dict[int, Rule] = {}  # source position -> the target's rule (its weights)
        for position, rule in enumerate(source.rules):
            counterpart = target_rules.get(rule.id)
            if counterpart is not None and _same_condition(rule, counterpart):
                known[position] = counterpart
        covered = {rule.id for rule in known.values()}
        unknown = tuple(rule.id for rule in target.rules if rule.id not in covered)
        groups: dict[str, list[int]] = {}
        for position, rule in known.items():
            groups.setdefault(rule_group(rule), []).append(position)
        single_positions, single_tallies, chunks, tables = [], [], [], []
        for members in groups.values():
            table = np.zeros((1 << len(members), TALLY_COLUMNS), dtype=np.int64)
            for combination in range(1 << len(members)):
                fired = [
                    known[position]
                    for bit, position in enumerate(members)
                    if combination >> bit & 1 and known[position].enabled
                ]
                table[combination] = tally_row(tally(fired))
            if len(members) == 1:
                single_positions.append(members[0])
                single_tallies.append(table[1])  # table[0], nothing fired, is all zeros
            else:
                chunks.append(tuple(members))
                tables.append(table)
        return cls(
            source=source,
            target=target,
            unknown=unknown,
            single_positions=tuple(single_positions),
            single_tallies=np.array(single_tallies, dtype=np.int64).reshape(-1, TALLY_COLUMNS),
            chunks=tuple(chunks),
            tables=tuple(tables),
        )

    def rows(self, masks: np.ndarray) -> np.ndarray:
        """Tally rows (N, TALLY_COLUMNS) for masks given as (N, width) unsigned bytes."""
        width = len(self.source.rules)
        bits = np.unpackbits(masks, axis=1, bitorder="little", count=8 * masks.shape[1])
        bits = np.pad(bits, ((0, 0), (0, max(0, width - bits.shape[1]))))[:, :width]
        total = bits[:, list(self.single_positions)].astype(np.int64) @ self.single_tallies
        for chunk, table in zip(self.chunks, self.tables, strict=True):
            index = np.zeros(masks.shape[0], dtype=np.int64)
            for bit, position in enumerate(chunk):
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


def outcomes(rows: np.ndarray, *, close_call_margin: float) -> Outcomes:
    """The engine's verdict and scores for each tally row, asked once per distinct row."""
    if rows.shape[0] == 0:
        return Outcomes(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0))
    # One int64 per row (hundredths of points stay far below 2**28), so rows compare fast.
    artemis, kafka, artemis_decisive, kafka_decisive = (rows[:, column] for column in range(4))
    keys = (artemis << 30) | (kafka << 2) | (artemis_decisive << 1) | kafka_decisive
    distinct, inverse = np.unique(keys, return_inverse=True)
    codes, kafka_scores, artemis_scores = [], [], []
    for key in distinct.tolist():
        counted = row_tally(key >> 30, key >> 2 & (1 << 28) - 1, bool(key & 2), bool(key & 1))
        scores = shares(counted.raw)
        codes.append(OUTCOMES.index(verdict(counted, close_call_margin)))
        kafka_scores.append(scores["kafka"])
        artemis_scores.append(scores["artemis"])
    inverse = inverse.reshape(-1)
    return Outcomes(
        np.array(codes, dtype=np.int64)[inverse],
        np.array(kafka_scores)[inverse],
        np.array(artemis_scores)[inverse],
    )


def masks_array(masks: list[bytes], width: int) -> np.ndarray:
    """Stored masks as an (N, width) byte matrix; short or long ones padded or cut."""
    joined = b"".join(masks)
    if len(joined) != len(masks) * width:
        joined = b"".join(bytes(mask[:width]).ljust(width, b"\0") for mask in masks)
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(masks), width)
