"""What a reader of a demo run reads: progress that names its part, numbers in words."""

from pathlib import Path

import pytest

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
