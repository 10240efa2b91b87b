"""What a reader of a demo run reads: progress that names its part, numbers in words."""

from pathlib import Path

import pytest

from advisor.demos.drivers.embedded.durability import SideRun
from advisor.demos.drivers.embedded.durability import _at_risk_series as at_risk_series
from advisor.demos.drivers.embedded.exactly_once import _summary as exactly_once_summary
from advisor.demos.metrics import RunContext, format_ms


def test_a_phase_names_its_side_and_maps_its_fraction_onto_the_run():
    seen = []
    context = RunContext(Path("."), lambda fraction, message: seen.append((fraction, message)))

    context.phase(0.5, 1.0, "Log side").progress(0.5, "1,000 of 2,000 acknowledged", force=True)
    context.progress(1.0, "finished", force=True)

    assert seen == [(0.75, "Log side: 1,000 of 2,000 acknowledged"), (1.0, "finished")]


@pytest.mark.parametrize(
    ("milliseconds", "words"),
    [
        (0.0105, "10.5 µs"),
        (3.932, "3.93 ms"),
        (20.6275, "20.6 ms"),
        (1237.3197, "1,237 ms"),
        (12_400.0, "12.4 s"),
    ],
)
def test_latencies_read_as_a_person_would_write_them(milliseconds, words):
    assert format_ms(milliseconds) == words


def test_the_exactly_once_summary_says_no_duplicates_in_words():
    clean = {"duplicates": 0, "losses": 0, "kills": 2}
    naive = {"duplicates": 3, "losses": 1, "kills": 2}
    sides = {"broker": clean, "log": clean, "naive": naive}

    summary = exactly_once_summary(sides, 30)

    assert "broker deduplication: no duplicates and no losses" in summary
    assert "processed 3 messages twice and lost 1 message" in summary
    assert "0/0" not in summary


def test_the_at_risk_chart_keeps_the_sawtooth_of_the_flushes():
    # 1,000 acks over one second, a flush every 0.1 s covering all acknowledged so far.
    side = SideRun(acked=[index / 1000 for index in range(1000)])
    side.syncs = [(tooth / 10 + 0.0005, tooth * 100 + 1) for tooth in range(1, 10)]

    series = at_risk_series(side, 0.0, 0.999)

    levels = {at: [level for moment, level in series if moment == at] for at, _ in series}
    teeth = [levels[round(moment, 4)] for moment, _ in side.syncs]
    # At every flush: the level it reached (about 100), then what the flush left (0).
    assert all(tooth[0] >= 99 and tooth[-1] == 0 for tooth in teeth), teeth
    assert max(level for _, level in series) <= 101  # it never piles up: each flush empties it
