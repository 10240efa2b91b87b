"""Each scenario shows the direction its trade-off predicts, on small fast workloads.

Only what cannot flip on a loaded machine is asserted: counts, bounds and the order of
events. Comparisons of measured rates and latencies between the sides are printed by
``benchmarks/demo_directions.py`` instead. Each scenario runs once per module and the
tests read its metrics document.
"""

import json
import os
from pathlib import Path

import pytest

from advisor.demos.drivers import Cancelled, DriverError, get_driver, run_scenario
from advisor.demos.scenarios import ParameterError

SMALL = {
    "durability": {"messages": 400, "target_rate": 0, "flush_interval_ms": 10_000, "seed": 7},
    "exactly_once": {"messages": 40, "kills": 4, "seed": 3},
    "push_pull": {
        "messages": 200,
        "target_rate": 1000,
        "processing_ms": 2,
        "broker_buffer": 20,
        "prefetch": 5,
        "batch_size": 20,
    },
    "clustering": {"nodes": 3, "messages": 60, "throughput_messages": 200},
    "replay": {"messages": 50, "consumed_percent": 100, "late_consumers": 2},
}
OMB_SIDE_KEYS = {
    "label",
    "model",
    "publish_rate",
    "consume_rate",
    "publish_latency_ms",
    "end_to_end_latency_ms",
    "backlog",
    "publish_rate_series",
    "send_delay_ms",
}
PERCENTILE_KEYS = ["p50", "p75", "p95", "p99", "p99.9", "max"]


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    """One small run of every scenario, shared by the tests of this module."""
    return {
        name: run_scenario(name, parameters, workdir=tmp_path_factory.mktemp(name))
        for name, parameters in SMALL.items()
    }


def child_processes() -> list[int]:
    """Live (non-zombie) processes whose parent is this test process."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            children.append(int(entry.name))
    return children


def test_durability_fsync_side_loses_nothing_acked_and_page_cache_side_does(documents):
    findings = documents["durability"]["findings"]
    sides = documents["durability"]["sides"]
    broker, log = sides["broker"], sides["log"]

    assert findings["broker"]["acked_not_durable_at_crash"] == 0
    assert findings["log"]["acked_not_durable_at_crash"] > 0
    assert broker["max_acked_not_durable"] == 0
    assert log["max_acked_not_durable"] > 0


def test_exactly_once_designs_survive_kills_and_the_naive_consumer_repeats_work(documents):
    sides = documents["exactly_once"]["sides"]

    for design in ("broker", "log"):
        assert sides[design]["duplicates"] == 0
        assert sides[design]["losses"] == 0
        assert sides[design]["kills"] == 4
    assert sides["naive"]["duplicates"] > 0
    assert sides["broker"]["duplicates_dropped_by_broker"] > 0  # the server did the work


def test_push_holds_the_producer_back_while_pull_lets_the_backlog_grow(documents):
    push, pull = documents["push_pull"]["sides"]["broker"], documents["push_pull"]["sides"]["log"]

    # The broker's buffer and the consumer's prefetch window bound the push backlog,
    # however fast or slow the machine; the pulled log's backlog has no such bound.
    bound = SMALL["push_pull"]["broker_buffer"] + SMALL["push_pull"]["prefetch"]
    assert push["max_backlog"] <= bound
    assert push["consumed"] == pull["consumed"] == 200


def test_latency_grows_with_hops_when_the_cluster_forwards(documents):
    by_hops = documents["clustering"]["sides"]["broker"]["latency_by_hops"]

    assert list(by_hops) == ["0", "1", "2"]
    assert len(documents["clustering"]["sides"]["log"]["latency_by_leader_node"]) == 3


def test_a_late_consumer_finds_the_queue_empty_and_the_log_whole(documents):
    findings = documents["replay"]["findings"]

    assert findings["broker"]["late_consumer_reads"] == [0, 0]
    assert findings["log"]["late_consumer_reads"] == [50, 50]


def test_late_consumers_on_a_queue_share_what_is_left(tmp_path):
    document = run_scenario(
        "replay", {"messages": 60, "consumed_percent": 50, "late_consumers": 3}, workdir=tmp_path
    )

    queue_reads = document["findings"]["broker"]["late_consumer_reads"]
    assert sum(queue_reads) == 30
    assert max(queue_reads) < document["findings"]["log"]["late_consumer_reads"][0] == 60


@pytest.mark.parametrize("name", list(SMALL))
def test_the_metrics_document_has_the_omb_shape_and_is_json(documents, name):
    document = json.loads(json.dumps(documents[name]))

    assert document["scenario"] == name
    assert document["engine"] == "embedded"
    assert set(document["machine"]) >= {"cpu_count", "filesystem", "data_dir", "python"}
    assert document["duration_s"] >= 0
    assert {"broker", "log"} <= set(document["sides"])
    for side in document["sides"].values():
        assert set(side) >= OMB_SIDE_KEYS
        for key in ("publish_latency_ms", "end_to_end_latency_ms", "send_delay_ms"):
            assert list(side[key]) == PERCENTILE_KEYS
        assert all(len(point) == 2 for point in side["backlog"])
    assert document["summary"].endswith(".")
    assert any(claim in document["summary"] for claim in document["claims"])


def test_the_summary_is_computed_from_the_run(documents):
    sides = documents["replay"]["sides"]
    assert f"{sides['broker']['produced']:,}" in documents["replay"]["summary"]


def test_the_working_directory_is_left_without_data_files(documents, tmp_path):
    run_scenario("durability", SMALL["durability"], workdir=tmp_path)

    assert not [path for path in tmp_path.rglob("*") if path.is_file()]


@pytest.mark.parametrize("name", ["durability", "exactly_once", "clustering"])
def test_cancel_stops_the_run_and_leaves_no_child_processes(name, tmp_path):
    calls = []
    # Other tests' helpers (Playwright's driver, for one) may be children of pytest too.
    before = set(child_processes())

    def should_cancel():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        run_scenario(name, SMALL[name], workdir=tmp_path, should_cancel=should_cancel)

    assert set(child_processes()) - before == set()


def test_progress_goes_from_zero_to_one(tmp_path):
    fractions = []

    run_scenario("replay", SMALL["replay"], progress=lambda f, m: fractions.append(f))

    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert fractions == sorted(fractions)


def test_an_unknown_engine_names_the_known_ones():
    with pytest.raises(DriverError, match="embedded"):
        get_driver("live-kafka")
    with pytest.raises(DriverError, match="embedded"):
        run_scenario("replay", {}, engine="nope")


def test_bad_parameters_are_refused_before_anything_runs():
    with pytest.raises(ParameterError) as error:
        run_scenario("durability", {"flush_interval_ms": 0})

    assert error.value.field == "flush_interval_ms"
