"""Is our live driver what the demo measures? Compare it with each product's own load tool.

Runs, on the local clusters of `make brokers`, with the same message size and settings:

- Kafka: ``org.apache.kafka.tools.ProducerPerformance`` (the jar behind
  kafka-producer-perf-test.sh) vs our confluent-kafka producer, with the same
  :data:`KAFKA_SETTINGS` (acks=all, idempotence, linger.ms=5, batch.size 256 KiB),
  to a fresh topic with three replicas and ``min.insync.replicas=2``;
- Artemis: ``artemis perf producer --protocol AMQP --persistent`` vs our proton producer,
  durable sends to a fresh queue on the first cluster node, 1,000 messages in flight
  (Artemis grants AMQP producers 1,000 credits by default, amqpCredits).

and prints our throughput as a share of theirs (the aim is at least 0.7), then each broker
JVM's resident memory and the start-up times recorded by `make brokers`. It prints figures
and asserts nothing. Usage: ``.venv/bin/python benchmarks/live_fidelity.py [--messages N]
[--message-size BYTES]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from advisor.demos.drivers.live import brokers  # noqa: E402
from advisor.demos.drivers.live.clients import (  # noqa: E402
    AmqpProducer,
    amqp_drain,
    kafka_create_topic,
    kafka_delete_topics,
    kafka_produce,
)
from advisor.demos.drivers.live.targets import local_targets  # noqa: E402

# The same producer settings for both clients. batch.size is set because the defaults differ
# (Java 16 KiB, librdkafka 1 MB): with five requests in flight per connection (idempotence)
# the batch size caps a single producer's rate on a slow round trip.
KAFKA_SETTINGS = {
    "acks": "all",
    "linger.ms": 5,
    "enable.idempotence": "true",
    "batch.size": 262144,
    "compression.type": "none",
}
RECORDS_PER_SEC = re.compile(r"(\d+) records sent, ([\d.]+) records/sec")


def kafka_tool(target, topic: str, messages: int, size: int) -> float:
    classpath = brokers.kafka_classpath_file().read_text().strip()
    command = [
        "java",
        "-Xmx256m",
        "-cp",
        classpath,
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(messages),
        "--record-size",
        str(size),
        "--throughput",
        "-1",
        "--producer-props",
        f"bootstrap.servers={','.join(target.addresses)}",
        *(f"{key}={value}" for key, value in KAFKA_SETTINGS.items()),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=True)
    matches = RECORDS_PER_SEC.findall(done.stdout)
    if not matches:
        raise SystemExit(f"ProducerPerformance printed no summary:\n{done.stdout[-2000:]}")
    return float(matches[-1][1])


def kafka_ours(target, topic: str, messages: int, size: int) -> float:
    began = time.perf_counter()
    log = kafka_produce(
        target,
        topic,
        messages=messages,
        payload=os.urandom(size),
        target_rate=0,
        producer_config=dict(KAFKA_SETTINGS),
        time_limit_s=600,
    )
    return len(log.acked) / (time.perf_counter() - began)


def artemis_tool(target, queue: str, messages: int, size: int) -> float:
    state = brokers.read_state() or {}
    artemis = brokers.artemis_home() / "bin" / "artemis"
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "report.json"
        command = [
            str(artemis),
            "perf",
            "producer",
            "--silent",
            "--protocol",
            "AMQP",
            "--url",
            f"tcp://{target.addresses[0]}",
            "--user",
            state["artemis"]["user"],
            "--password",
            state["artemis"]["password"],
            "--persistent",
            "--message-count",
            str(messages),
            "--message-size",
            str(size),
            "--max-pending",
            "1000",
            "--json",
            str(report),
            f"queue://{queue}",
        ]
        env = {**os.environ, "JAVA_ARGS": "-Xmx256m"}
        began = time.perf_counter()
        subprocess.run(command, capture_output=True, text=True, timeout=600, check=True, env=env)
        elapsed = time.perf_counter() - began
        try:
            data = json.loads(report.read_text())
        except (OSError, ValueError):
            data = {}
    rate = _report_rate(data)
    # Without a usable report, count the tool's whole run (JVM start included).
    return rate if rate else messages / elapsed


def _report_rate(samples) -> float | None:
    """Completed sends per second from the perf tool's JSON report.

    The report is a list of one-second "interval" samples (each stamped at its end, in ms)
    and a closing "summary" with ``totalCompleted``.
    """
    if not isinstance(samples, list) or not samples:
        return None
    intervals = [s for s in samples if s.get("sampleType") == "interval"]
    summary = next((s for s in samples if s.get("sampleType") == "summary"), None)
    if not intervals or summary is None:
        return None
    began_ms = intervals[0]["time"] - 1000
    seconds = (summary["time"] - began_ms) / 1000
    return summary["totalCompleted"] / seconds if seconds > 0 else None


def artemis_ours(target, queue: str, messages: int, size: int) -> float:
    began = time.perf_counter()
    log = AmqpProducer(
        target,
        target.amqp_url(0),
        queue,
        messages=messages,
        payload=os.urandom(size),
        durable=True,
        target_rate=0,
        time_limit_s=600,
    ).run()
    return len(log.acked) / (time.perf_counter() - began)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--message-size", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2)
    options = parser.parse_args()
    targets = local_targets()
    if set(targets) != {"kafka", "artemis"}:
        print("the local brokers are not running: `make brokers` first", file=sys.stderr)
        return 1
    messages, size = options.messages, options.message_size
    run_id = int(time.time())
    print(f"{messages:,} messages of {size} bytes each; durable/acks=all; one producer")
    rates: dict[tuple[str, str], float] = {}
    kafka, artemis = targets["kafka"], targets["artemis"]
    # Each side twice, alternating, best of two: JVM and JIT warm-up on one side, client
    # and connection set-up on the other, and a busy machine, all get a second chance.
    for attempt in range(options.rounds):
        for name, tool in (("tool", kafka_tool), ("ours", kafka_ours)):
            topic = f"fidelity-{name}-{run_id}-{attempt}"
            kafka_create_topic(kafka, topic, config={"min.insync.replicas": "2"})
            try:
                rate = tool(kafka, topic, messages, size)
            finally:
                kafka_delete_topics(kafka, [topic])
            rates[("kafka", name)] = max(rate, rates.get(("kafka", name), 0.0))
            print(f"  kafka {name} round {attempt + 1}: {rate:,.0f} msgs/s")
        for name, tool in (("tool", artemis_tool), ("ours", artemis_ours)):
            queue = f"fidelity.{name}.{run_id}.{attempt}"
            rate = tool(artemis, queue, messages, size)
            # Leave nothing behind: a broker full of unread messages pages, then slows down.
            amqp_drain(artemis, artemis.amqp_url(0), queue, expected=messages, idle_s=5)
            rates[("artemis", name)] = max(rate, rates.get(("artemis", name), 0.0))
            print(f"  artemis {name} round {attempt + 1}: {rate:,.0f} msgs/s")
    for product, label in (
        ("kafka", "Kafka ProducerPerformance vs confluent-kafka"),
        ("artemis", "Artemis perf producer (AMQP) vs python-qpid-proton"),
    ):
        tool, ours = rates[(product, "tool")], rates[(product, "ours")]
        print(
            f"{label}: tool {tool:,.0f} msgs/s, ours {ours:,.0f} msgs/s, "
            f"ratio {ours / tool:.2f} (aim >= 0.7)"
        )
    state = brokers.read_state() or {}
    for cluster in brokers.CLUSTERS:
        print(f"{cluster} start-up: {state.get(cluster, {}).get('startup_s', '?')} s")
    for row in brokers.status():
        print(f"{row['node']:16} RSS {row['rss_mib']} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
