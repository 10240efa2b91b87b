"""Directions a user would notice, on the real Kafka and Artemis (see spec/tradeoffs.md).

Each test runs a scenario (or a piece of one) against the local clusters of `make brokers`
and checks what the comparison is about, never how fast it went.
"""

from __future__ import annotations

import time

import pytest

from advisor.demos.drivers import run_scenario
from advisor.demos.drivers.live import brokers
from advisor.demos.drivers.live.clients import AmqpProducer, amqp_drain
from advisor.demos.errors import DriverError

pytestmark = pytest.mark.live


def run(live_targets, scenario: str, tmp_path, **parameters) -> dict:
    return run_scenario(scenario, parameters, engine="live", workdir=tmp_path, targets=live_targets)


@pytest.fixture(scope="module")
def durability(live_targets, tmp_path_factory):
    """One durability run (six sides, a broker killed in each) shared by the tests below."""
    workdir = tmp_path_factory.mktemp("durability")
    return run(live_targets, "durability", workdir, messages=2000, target_rate=2000)


def test_durable_sends_lose_nothing_acknowledged_when_a_broker_is_killed(durability):
    metrics = durability
    findings = metrics["findings"]
    for key in ("broker", "broker_failover", "broker_nondurable", "log", "log_acks1", "log_acks0"):
        assert findings[key]["killed_node"], f"{key}: no broker was killed mid-run"
        assert findings[key]["acked"] > 0
    assert findings["broker"]["acked_lost"] == 0  # Artemis durable: journal-synced before ack
    assert findings["log"]["acked_lost"] == 0  # Kafka acks=all, RF 3, min ISR 2
    # Non-durable messages live in memory only: the killed broker held every one of them.
    assert findings["broker_nondurable"]["acked_lost"] > 0
    # acks=0 and acks=1 count a send as done before the followers have it.
    assert findings["log_acks0"]["acked_lost"] + findings["log_acks1"]["acked_lost"] > 0
    assert metrics["products"]["kafka"]["version"] == "4.2.0"
    assert metrics["products"]["artemis"]["product"] == "Apache ActiveMQ Artemis"


def test_durable_sends_to_the_replicated_pair_lose_nothing_acknowledged_across_failover(
    durability, live_targets
):
    failover = durability["findings"]["broker_failover"]
    artemis = live_targets["artemis"]
    assert failover["killed_node"] == "artemis-primary"
    assert failover["acked_before_kill"] > 0
    # The client carried on against the backup, which became active.
    assert failover["failed_over_to"] == artemis.failover[1]
    assert failover["reconnected_s"] is not None
    assert failover["acked"] > failover["acked_before_kill"]
    # Replication is synchronous: every acknowledged durable message is on the backup...
    assert failover["acked_lost"] == 0
    # ...and what was in doubt at the kill, resent with its _AMQ_DUPL_ID, is stored once.
    assert failover["duplicates"] == 0
    assert durability["sides"]["broker_failover"]["acked_lost"] == 0
    # The primary failed back: the pair serves from the primary again, the backup replicates.
    assert brokers.running("artemis")
    brokers.amqp_round_trip(f"amqp://{artemis.failover[0]}", artemis.user, artemis.password)
    assert failover["failback_s"] is not None


def test_exactly_once_designs_and_aborted_transactions(live_targets, tmp_path):
    metrics = run(live_targets, "exactly_once", tmp_path, messages=200, kills=3)
    findings = metrics["findings"]
    for key in ("broker", "log"):
        assert (findings[key]["duplicates"], findings[key]["losses"]) == (0, 0), key
        assert findings[key]["kills"] == 3
    # Artemis, transacted: the kill between the result and the commit rolled both back, so
    # the input came again; the result of the dead transaction was never stored.
    assert findings["broker"]["redelivered"] >= 1
    assert findings["broker"]["results"] == 200
    # The kill plan always holds a kill between the effect and the offset commit.
    assert findings["naive"]["duplicates"] > 0
    aborted = findings["aborted_transaction"]
    assert aborted["seen_by_read_committed"] == 0
    assert aborted["seen_by_read_uncommitted"] == aborted["records"]


def test_duplicate_id_sends_are_stored_once(live_targets):
    artemis = live_targets["artemis"]
    stored = {}
    for duplicate_ids in (True, False):
        queue = f"advisor.test.dupl.{duplicate_ids}.{time.time_ns()}"
        producer = AmqpProducer(
            artemis,
            artemis.amqp_url(0),
            queue,
            messages=50,
            payload=b"x" * 64,
            durable=True,
            target_rate=0,
            duplicate_ids=duplicate_ids,
            repeat_every=1,  # every message sent twice, as a retrying producer would
        )
        producer.run()
        assert producer.repeats_sent == 50
        stored[duplicate_ids] = amqp_drain(artemis, artemis.amqp_url(0), queue, idle_s=3).ids
    assert sorted(stored[True]) == list(range(50))
    assert len(stored[False]) == 100  # without _AMQ_DUPL_ID the broker keeps both copies


def test_a_late_kafka_consumer_replays_what_a_late_queue_consumer_cannot(live_targets, tmp_path):
    metrics = run(
        live_targets, "replay", tmp_path, messages=500, consumed_percent=100, late_consumers=2
    )
    assert metrics["sides"]["broker"]["late_consumer_reads"] == [0, 0]
    assert metrics["sides"]["log"]["late_consumer_reads"] == [500, 500]
    share = metrics["findings"]["share_group"]
    assert share["supported"] and share["total"] == 500  # each record to one member


def test_every_scenario_names_product_and_version(live_targets, tmp_path):
    for scenario, parameters in (
        ("push_pull", {"messages": 200, "processing_ms": 1.0}),
        ("clustering", {"messages": 50, "throughput_messages": 500}),
    ):
        metrics = run(live_targets, scenario, tmp_path, **parameters)
        assert metrics["engine"] == "live"
        assert {p["product"] for p in metrics["products"].values()} == {
            "Apache Kafka",
            "Apache ActiveMQ Artemis",
        }
        if scenario == "clustering":  # 4 nodes asked for (the default); the clusters have 3
            assert (metrics["findings"]["artemis_nodes"], metrics["findings"]["kafka_brokers"]) == (
                3,
                3,
            )
            assert "4 nodes asked for" in metrics["findings"]["nodes_note"]
        for side in ("broker", "log"):
            assert metrics["sides"][side]["received"] if scenario == "push_pull" else True
            assert metrics["sides"][side]["acked"] == parameters.get(
                "throughput_messages", parameters["messages"]
            )


def test_the_nodes_parameter_picks_how_many_cluster_nodes_the_probes_use(live_targets, tmp_path):
    metrics = run(
        live_targets, "clustering", tmp_path, nodes=2, messages=30, throughput_messages=200
    )
    findings = metrics["findings"]
    assert (findings["artemis_nodes"], findings["kafka_brokers"]) == (2, 2)
    assert set(metrics["sides"]["broker"]["latency_by_consumer_node"]) == {"0", "1"}
    assert set(metrics["sides"]["log"]["latency_by_leader_node"]) == {"0", "1"}
    assert metrics["sides"]["broker"]["throughput_by_nodes"][0][0] == 2


def test_the_broker_buffer_blocks_the_artemis_producer_while_kafka_keeps_everything(
    live_targets, tmp_path
):
    from advisor.demos.drivers.live.brokers import FLOW_CREDITS

    backlogs = {}
    for buffer in (40, 300):
        metrics = run(
            live_targets,
            "push_pull",
            tmp_path,
            messages=600,
            target_rate=1000,
            processing_ms=5.0,
            prefetch=10,
            broker_buffer=buffer,
        )
        assert metrics["findings"]["broker_buffer"]["applied"]
        assert metrics["sides"]["broker"]["received"] == metrics["sides"]["log"]["received"] == 600
        backlogs[buffer] = (
            metrics["sides"]["broker"]["max_backlog"],
            metrics["sides"]["log"]["max_backlog"],
        )
    # Blocked at the bound: queued + the consumer's credit + the producer's credit batch.
    assert backlogs[40][0] <= 40 + 10 + 2 * FLOW_CREDITS
    assert backlogs[300][0] > backlogs[40][0]  # a larger buffer holds more before blocking
    assert backlogs[40][1] > 4 * backlogs[40][0]  # the log's backlog is not bounded by it


def test_artemis_refusing_credentials_fails_the_run_naming_target_and_cause(live_targets, tmp_path):
    from dataclasses import replace

    wrong = replace(live_targets["artemis"], name="artemis with a wrong password", password="no")
    with pytest.raises(DriverError, match="artemis with a wrong password"):
        run({**live_targets, "artemis": wrong}, "replay", tmp_path)
