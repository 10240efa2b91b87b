"""Re-tallying stored rule firings under other weights, for the admin's impact preview.

A report stores which of its ruleset's rules matched its answers (a firing mask, see
``advisor.engine.firings``). An administrator edits weights and switches, not conditions,
so another ruleset's verdict for those answers follows from the mask alone, through the
engine's own ``tally``: no answer is read, no condition evaluated. Only rules whose
condition differs (or that the report's ruleset lacks) need the answers: the caller
evaluates those conditions alone and hands their bits in beside the masks.

For speed over many reports the masks are tallied with numpy, a rule group at a time:
tallies of different groups add up, so each group's 2**k possible firings are tallied
once by the engine, and a report's tally is the sum of one table entry per group. The
verdicts and scores of all the tallies then follow the engine's ``verdict`` and ``shares``
in numpy (:func:`outcomes`), checked against them by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advisor.engine.rules import Rule, Rulebook
from advisor.engine.scoring import Tally, tally
from advisor.engine.sides import ARTEMIS, HYBRID, KAFKA, OUTCOMES, SIDES

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


@dataclass(frozen=True)
class Retally:
    """Tallies, under `target`'s weights and switches, of masks stored over `source`.

    Each target rule reads one column of firing bits: the mask's bit of the source rule
    with its id and condition, or, for a rule the mask says nothing about (new, or another
    condition: a rules-file import), a column the caller adds by evaluating its condition
    against the answers (:meth:`evaluated`). Only those conditions are evaluated, never
    the whole ruleset.
    """

    source: Rulebook
    target: Rulebook
    # Target rules a mask over `source` says nothing about (new, or another condition):
    # their firing bits come from the answers, in this order, after the mask's columns.
    unknown: tuple[Rule, ...]
    # Rules alone in their group: their columns and tallies (one row each), which a
    # matrix product adds up; groups of several: their columns and a table of 2**k rows.
    single_positions: tuple[int, ...]
    single_tallies: np.ndarray  # (len(single_positions), TALLY_COLUMNS) int64
    chunks: tuple[tuple[int, ...], ...]
    tables: tuple[np.ndarray, ...]

    @classmethod
    def build(cls, *, source: Rulebook, target: Rulebook) -> Retally:
        by_id = {rule.id: position for position, rule in enumerate(source.rules)}
        columns: dict[int, Rule] = {}  # column -> the target's rule (its weights)
        unknown: list[Rule] = []
        for rule in target.rules:
            position = by_id.get(rule.id)
            if position is not None and _same_condition(source.rules[position], rule):
                columns[position] = rule
            else:
                columns[len(source.rules) + len(unknown)] = rule
                unknown.append(rule)
        groups: dict[str, list[int]] = {}
        for column, rule in columns.items():
            groups.setdefault(rule_group(rule), []).append(column)
        single_positions, single_tallies, chunks, tables = [], [], [], []
        for members in groups.values():
            table = np.zeros((1 << len(members), TALLY_COLUMNS), dtype=np.int64)
            for combination in range(1 << len(members)):
                fired = [
                    columns[column]
                    for bit, column in enumerate(members)
                    if combination >> bit & 1 and columns[column].enabled
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
            unknown=tuple(unknown),
            single_positions=tuple(single_positions),
            single_tallies=np.array(single_tallies, dtype=np.int64).reshape(-1, TALLY_COLUMNS),
            chunks=tuple(chunks),
            tables=tuple(tables),
        )

    def evaluated(self, answers: list[dict]) -> np.ndarray:
        """The firing bits of the :attr:`unknown` rules for each report's answers."""
        return np.array(
            [[rule.when.evaluate(each) for rule in self.unknown] for each in answers],
            dtype=np.uint8,
        ).reshape(len(answers), len(self.unknown))

    def rows(self, masks: np.ndarray, evaluated: np.ndarray | None = None) -> np.ndarray:
        """Tally rows (N, TALLY_COLUMNS) for masks given as (N, width) unsigned bytes and,
        when some rules are :attr:`unknown`, their bits from :meth:`evaluated`."""
        width = len(self.source.rules)
        bits = np.unpackbits(masks, axis=1, bitorder="little", count=8 * masks.shape[1])
        bits = np.pad(bits, ((0, 0), (0, max(0, width - bits.shape[1]))))[:, :width]
        if self.unknown:
            if evaluated is None or evaluated.shape != (masks.shape[0], len(self.unknown)):
                raise ValueError(f"{len(self.unknown)} rules need their bits from the answers")
            bits = np.hstack([bits, evaluated])
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
    """The engine's verdict and shares (``scoring.verdict``, ``scoring.shares``) for every
    tally row at once.

    Asking the engine once per distinct row costs about 5 microseconds a row, and new
    weights make nearly every row distinct: 0.5 s at 100,000 reports. So this follows the
    engine step by step with the same IEEE operations in the same order (numpy's float64
    add, subtract, multiply and divide round exactly as Python's floats do), and leaves to
    Python's own ``round`` the few shares that sit on a rounding tie, where numpy's
    rounding may differ. ``test_impact_tally.py`` checks it against the engine row by row,
    boundaries included: change ``verdict`` or ``shares`` and it fails until this follows.
    """
    count = rows.shape[0]
    artemis = rows[:, 0] / 100  # a row holds hundredths of points: the engine's points
    kafka = rows[:, 1] / 100
    artemis_decisive, kafka_decisive = rows[:, 2] > 0, rows[:, 3] > 0
    total = artemis + kafka
    scored = total != 0
    safe_total = np.where(scored, total, 1.0)
    # share_margin: 100 * |artemis - kafka| / total, and 0 with no points.
    margin = np.where(scored, 100.0 * np.abs(artemis - kafka) / safe_total, 0.0)
    wide = margin >= close_call_margin
    kafka_leads, artemis_leads = kafka > artemis, artemis > kafka
    # verdict: two decisive needs, a hybrid; one, that side unless the other leads widely
    # (then a hybrid); none, the points, a tie to the broker.
    codes = np.where(kafka_leads, OUTCOMES.index(KAFKA), OUTCOMES.index(ARTEMIS))
    only_artemis = artemis_decisive & ~kafka_decisive
    only_kafka = kafka_decisive & ~artemis_decisive
    codes = np.where(
        only_artemis,
        np.where(kafka_leads & wide, OUTCOMES.index(HYBRID), OUTCOMES.index(ARTEMIS)),
        codes,
    )
    codes = np.where(
        only_kafka,
        np.where(artemis_leads & wide, OUTCOMES.index(HYBRID), OUTCOMES.index(KAFKA)),
        codes,
    )
    codes = np.where(artemis_decisive & kafka_decisive, OUTCOMES.index(HYBRID), codes)
    return Outcomes(
        codes.astype(np.int64).reshape(count),
        _share(kafka, safe_total, scored),
        _share(artemis, safe_total, scored),
    )


def _share(points: np.ndarray, total: np.ndarray, scored: np.ndarray) -> np.ndarray:
    """``round(100.0 * points / total, 1)`` per row, as Python rounds it; 50 with no points."""
    exact = 100.0 * points / total
    tenths = exact * 10
    rounded = np.round(exact, 1)
    # numpy rounds exact * 10, itself rounded; Python rounds the true value. They can
    # differ only next to a tie (a hundredths digit of 5): those go to Python.
    near_tie = np.abs(tenths - np.floor(tenths) - 0.5) < 1e-6
    for index in np.flatnonzero(near_tie & scored).tolist():
        rounded[index] = round(float(exact[index]), 1)
    return np.where(scored, rounded, 50.0)


def masks_array(masks: list[bytes], width: int) -> np.ndarray:
    """Stored masks as an (N, width) byte matrix; short or long ones padded or cut."""
    joined = b"".join(masks)
    if len(joined) != len(masks) * width:
        joined = b"".join(bytes(mask[:width]).ljust(width, b"\0") for mask in masks)
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(masks), width)
