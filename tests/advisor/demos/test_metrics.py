"""The histogram, series and machine facts behind every metrics document."""

import math

import pytest

from advisor.demos.metrics import (
    LatencyHistogram,
    RunContext,
    filesystem_of,
    level_series,
    rate_series,
    warmup_count,
)


def test_percentiles_are_exact_for_small_values():
    histogram = LatencyHistogram()
    histogram.record_many(range(1, 1001))  # 1..1000 ns, all in the exact range

    assert histogram.value_at_percentile(50) == 500
    assert histogram.value_at_percentile(99) == 990
    assert histogram.value_at_percentile(99.9) == 999
    assert histogram.max_value == 1000


def test_percentiles_of_large_values_are_within_the_bucket_precision():
    values = [int(1_000 * 1.01**step) for step in range(2000)]  # 1 µs .. ~400 s
    histogram = LatencyHistogram()
    histogram.record_many(values)
    ordered = sorted(values)

    for percentile in (50, 75, 95, 99, 99.9):
        true_value = ordered[math.ceil(round(percentile * len(ordered) / 100, 9)) - 1]
        reported = histogram.value_at_percentile(percentile)
        assert true_value <= reported <= true_value * 1.001


def test_summary_is_in_milliseconds_with_the_omb_keys():
    histogram = LatencyHistogram()
    for _ in range(99):
        histogram.record(1_000_000)  # 1 ms
    histogram.record(250_000_000)  # one 250 ms outlier

    summary = histogram.percentiles_ms()

    assert list(summary) == ["p50", "p75", "p95", "p99", "p99.9", "max"]
    assert summary["p50"] == summary["p99"] == pytest.approx(1.0, rel=1e-3)
    assert summary["p99.9"] == summary["max"] == 250.0


def test_an_empty_histogram_reports_zeros():
    assert set(LatencyHistogram().percentiles_ms().values()) == {0}


def test_warmup_drops_a_tenth_but_keeps_something():
    assert warmup_count(1000) == 100
    assert warmup_count(5) == 1
    assert warmup_count(1) == 0


def test_rate_series_counts_events_per_second_per_bucket():
    events = [0.05, 0.15, 0.16, 0.25]

    series = rate_series(events, start=0.0, end=0.3, interval=0.1)

    assert series == [[0.0, 10.0], [0.1, 20.0], [0.2, 10.0]]


def test_level_series_is_produced_minus_consumed():
    series = level_series([0.0, 0.1, 0.2], [0.15], start=0.0, end=0.2, interval=0.1)

    assert series == [[0.0, 1], [0.1, 2], [0.2, 2]]


def test_filesystem_is_the_longest_mount_prefix(tmp_path):
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/vda / ext4 rw 0 0\ntmpfs /data tmpfs rw 0 0\nother /database xfs rw 0 0\n"
    )

    assert filesystem_of("/data/runs/1", str(mounts)) == "tmpfs"
    assert filesystem_of("/database", str(mounts)) == "xfs"
    assert filesystem_of("/home", str(mounts)) == "ext4"


def test_progress_of_a_phase_maps_onto_the_whole_run(tmp_path):
    reported = []
    context = RunContext(tmp_path, lambda fraction, message: reported.append(fraction))

    context.phase(0.5, 1.0).progress(0.5, "half of the second half", force=True)

    assert reported == [0.75]
