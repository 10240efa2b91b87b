"""A live run's summary reads as the embedded ones do: latencies in the units a reader expects."""

from __future__ import annotations

from advisor.demos.drivers.live import clustering, durability, push_pull


def test_the_clustering_summary_gives_latencies_in_three_figures():
    summary = clustering._summary(
        {0: {"p50": 37.7487}, 1: {"p50": 1043.8574}},
        {0: {"p50": 585.1054}},
        {"consume_rate": 812.4},
        {"consume_rate": 1990.2},
    )
    assert "0 hop(s) p50 37.7 ms, 1 hop(s) p50 1,044 ms" in summary
    assert "partition 0 p50 585 ms" in summary
    assert "37.7487" not in summary


def test_the_push_pull_summary_gives_latencies_in_three_figures():
    sides = {
        "broker": {
            "publish_rate": 245.2,
            "max_backlog": 213,
            "end_to_end_latency_ms": {"p99": 988.2829},
        },
        "log": {
            "publish_rate": 500.0,
            "max_backlog": 1000,
            "end_to_end_latency_ms": {"p99": 12.34567},
        },
    }
    parameters = {"processing_ms": 2.0, "prefetch": 50, "broker_buffer": 200, "batch_size": 100}
    summary = push_pull._summary(sides, parameters, bounded=True)
    assert "end-to-end p99 988 ms" in summary and "p99 12.3 ms (T1)" in summary
    assert "producer blocked at 200 queued" in summary
    unbounded = push_pull._summary(sides, parameters, bounded=False)
    assert "blocked" not in unbounded and "no bound on the queue" in unbounded


def test_the_durability_summary_gives_latencies_in_three_figures():
    counted = {"acked": 1000, "acked_lost": 0}
    findings = {
        key: dict(counted)
        for key in ("broker", "broker_nondurable", "log", "log_acks1", "log_acks0")
    }
    findings["crash_staged"] = True
    sides = {
        "broker": {"publish_rate": 1299.2, "publish_latency_ms": {"p99": 1254.0969}},
        "log": {"publish_rate": 1396.0, "publish_latency_ms": {"p99": 6098.518}},
    }
    summary = durability._summary(sides, findings)
    assert "1,299 msgs/s at p99 1,254 ms" in summary
    assert "1,396 msgs/s at p99 6,099 ms" in summary
