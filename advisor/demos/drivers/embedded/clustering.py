"""Clustering (T5): the cluster forwards hop by hop vs clients go to the partition leader.

``nodes`` node processes (``cluster_node``) are linked in a chain by loopback TCP. The
broker model keeps the producer on node 0 and puts the consumer on node k, so each
message crosses k hops (0..N-1) before delivery: the cluster routes it. The log model
connects producer and consumer straight to the node that leads the partition, whichever
node that is, so no message is forwarded.

Latency probes go at a fixed rate, one series per hop count (broker) or per leader node
(log). Throughput is measured per cluster size n = 1..N with the consumer on the farthest
node (n-1 hops) for the broker model and on the leader for the log model, sending as fast
as the producer can. On a two-core machine scale-out cannot add CPU, so these figures show
what each hop costs, not the inbound gain of spreading producers over more nodes.
"""

from __future__ import annotations

import socket
import threading
import time

from advisor.demos.drivers.embedded.children import ChildProcesses, LineReader
from advisor.demos.errors import DriverError
from advisor.demos.metrics import (
    FixedRateSchedule,
    LatencyHistogram,
    RunContext,
    format_ms,
    level_series,
    rate,
    rate_series,
    side_metrics,
    warmup_count,
)
from advisor.demos.scenarios import SCENARIOS

NODE_MODULE = "advisor.demos.drivers.embedded.cluster_node"
START_TIMEOUT_S = 15.0
DELIVERY_TIMEOUT_S = 30.0


def _connect(port: int, role: str):
    connection = socket.create_connection(("127.0.0.1", port))
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reader = connection.makefile("r", encoding="utf-8", newline="\n")
    writer = connection.makefile("w", encoding="utf-8", newline="\n")
    writer.write(role + "\n")
    writer.flush()
    return connection, reader, writer


class Delivery:
    """Collects what one consumer connection receives: message id -> receive time."""

    def __init__(self, port: int, expected: int):
        self.connection, self.reader, _ = _connect(port, "CONSUMER")
        # The node answers once the consumer is registered: no message can arrive before.
        self.connection.settimeout(START_TIMEOUT_S)
        if self.reader.readline().strip() != "READY":
            raise DriverError(f"the node on port {port} did not register the consumer")
        self.connection.settimeout(None)
        self.expected = expected
        self.received: dict[int, float] = {}
        self.complete = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for line in self.reader:
                self.received[int(line.split(" ", 3)[2])] = time.perf_counter()
                if len(self.received) >= self.expected:
                    break
        except (OSError, ValueError):
            pass
        self.complete.set()

    def close(self) -> None:
        self.connection.close()
        self.thread.join(timeout=2)


def _start_cluster(children: ChildProcesses, nodes: int) -> list[int]:
    processes = [children.start(NODE_MODULE, "--index", str(index)) for index in range(nodes)]
    ports = []
    for process in processes:
        line = LineReader(process).next_line(timeout=START_TIMEOUT_S)
        if not line or not line.startswith("port "):
            raise DriverError("a cluster node did not start")
        ports.append(int(line.split()[1]))
    for index, process in enumerate(processes):
        successor = ports[index + 1] if index + 1 < nodes else "none"
        process.stdin.write(f"next {successor}\n".encode())
        process.stdin.flush()
    return ports


def _probe(
    producer_port: int,
    consumer_port: int,
    destination: int,
    *,
    count: int,
    target_rate: float,
    body: str,
    first_id: int,
    context: RunContext,
) -> dict:
    """Send ``count`` messages at a fixed rate (target 0: pipelined, unthrottled)."""
    delivery = Delivery(consumer_port, count)
    connection, reader, writer = _connect(producer_port, "PRODUCER")
    intended, sent, acked = [], [], []
    acknowledgements = []
    try:
        if target_rate > 0:
            schedule = FixedRateSchedule(target_rate)
            for offset in range(count):
                if offset % 64 == 0:
                    context.check_cancel()
                intended.append(schedule.wait_for(offset))
                sent.append(time.perf_counter())
                writer.write(f"M {destination} {first_id + offset} {sent[-1]} {body}\n")
                writer.flush()
                reader.readline()
                acked.append(time.perf_counter())
        else:
            ack_reader = threading.Thread(
                target=lambda: acknowledgements.extend(
                    time.perf_counter() for _ in range(count) if reader.readline()
                ),
                daemon=True,
            )
            ack_reader.start()
            for offset in range(count):
                sent.append(time.perf_counter())
                writer.write(f"M {destination} {first_id + offset} {sent[-1]} {body}\n")
                if offset % 64 == 0:
                    writer.flush()
                    context.check_cancel()
            writer.flush()
            ack_reader.join(timeout=DELIVERY_TIMEOUT_S)
        if not delivery.complete.wait(DELIVERY_TIMEOUT_S):
            raise DriverError(f"only {len(delivery.received)} of {count} messages arrived")
    finally:
        connection.close()
        delivery.close()
    received = [delivery.received[first_id + offset] for offset in range(count)]
    return {"intended": intended, "sent": sent, "acked": acked, "received": received}


def _latencies(probe: dict) -> tuple[LatencyHistogram, LatencyHistogram, LatencyHistogram]:
    warm = warmup_count(len(probe["sent"]))
    publish, end_to_end, delay = LatencyHistogram(), LatencyHistogram(), LatencyHistogram()
    for index in range(warm, len(probe["sent"])):
        publish.record((probe["acked"][index] - probe["sent"][index]) * 1e9)
        end_to_end.record((probe["received"][index] - probe["sent"][index]) * 1e9)
        delay.record((probe["sent"][index] - probe["intended"][index]) * 1e9)
    return publish, end_to_end, delay


def _throughput(probe: dict) -> float:
    received = probe["received"]
    warm = warmup_count(len(received))
    return rate(len(received) - warm - 1, received[-1] - received[warm])


def run(parameters: dict, context: RunContext) -> dict:
    """Measure latency by hop count and throughput by cluster size, both models."""
    scenario = SCENARIOS["clustering"]
    nodes = parameters["nodes"]
    body = "x" * parameters["message_size"]
    probes = {"broker": {}, "log": {}}
    throughput = {"broker": [], "log": []}
    steps = 4 * nodes
    step = 0
    next_id = 0
    with ChildProcesses() as children:
        context.progress(0.0, f"starting {nodes} nodes", force=True)
        ports = _start_cluster(children, nodes)
        for target in range(nodes):
            for side in ("broker", "log"):
                # Broker: produce on node 0, consume on node `target`; log: both on the leader.
                producer = ports[0] if side == "broker" else ports[target]
                phase = context.phase(
                    step / steps, (step + 1) / steps, f"{side.capitalize()} side, node {target}"
                )
                probes[side][target] = _probe(
                    producer,
                    ports[target],
                    target,
                    count=parameters["messages"],
                    target_rate=parameters["target_rate"],
                    body=body,
                    first_id=next_id,
                    context=phase,
                )
                next_id += parameters["messages"]
                step += 1
                context.progress(
                    step / steps, f"{side}: latency with the consumer on node {target}"
                )
        for size in range(1, nodes + 1):
            farthest = size - 1
            for side in ("broker", "log"):
                producer = ports[0] if side == "broker" else ports[farthest]
                phase = context.phase(
                    step / steps, (step + 1) / steps, f"{side.capitalize()} side, node {target}"
                )
                probe = _probe(
                    producer,
                    ports[farthest],
                    farthest,
                    count=parameters["throughput_messages"],
                    target_rate=0,
                    body=body,
                    first_id=next_id,
                    context=phase,
                )
                next_id += parameters["throughput_messages"]
                throughput[side].append([size, _throughput(probe)])
                step += 1
                context.progress(step / steps, f"{side}: throughput with {size} nodes")
    sides = {
        side: _side_metrics(side, scenario, probes[side], throughput[side], nodes)
        for side in ("broker", "log")
    }
    findings = {
        "broker": {
            "p50_ms_by_hops": _p50s(sides["broker"]["latency_by_hops"]),
            "throughput_by_nodes": throughput["broker"],
        },
        "log": {
            "p50_ms_by_leader_node": _p50s(sides["log"]["latency_by_leader_node"]),
            "throughput_by_nodes": throughput["log"],
        },
    }
    return {"sides": sides, "findings": findings, "summary": _summary(sides, nodes)}


def _p50s(latencies: dict) -> dict:
    return {key: values["p50"] for key, values in latencies.items()}


def _side_metrics(side: str, scenario, probes: dict, throughput: list, nodes: int) -> dict:
    farthest = probes[nodes - 1]
    publish, end_to_end, delay = _latencies(farthest)
    by_target = {
        str(target): _latencies(probe)[1].percentiles_ms() for target, probe in probes.items()
    }
    start, end = farthest["sent"][0], farthest["received"][-1]
    extra = (
        {"latency_by_hops": by_target}
        if side == "broker"
        else {"latency_by_leader_node": by_target, "latency_by_hops": {"0": by_target["0"]}}
    )
    window = farthest["acked"][-1] - farthest["acked"][0]
    return side_metrics(
        label="Cluster forwards (postmen)"
        if side == "broker"
        else "Client to leader (post office)",
        model=scenario.broker_model if side == "broker" else scenario.log_model,
        publish_rate=rate(len(farthest["acked"]) - 1, window),
        consume_rate=rate(
            len(farthest["received"]) - 1, farthest["received"][-1] - farthest["received"][0]
        ),
        publish_latency=publish,
        end_to_end_latency=end_to_end,
        backlog=level_series(farthest["acked"], sorted(farthest["received"]), start, end),
        publish_rate_series=rate_series(farthest["acked"], start, farthest["acked"][-1]),
        send_delay=delay,
        throughput_by_nodes=throughput,
        consumer_node=nodes - 1,
        **extra,
    )


def _summary(sides: dict, nodes: int) -> str:
    broker, log = sides["broker"], sides["log"]
    by_hops = broker["latency_by_hops"]
    first, last = by_hops["0"]["p50"], by_hops[str(nodes - 1)]["p50"]
    per_hop = (last - first) / max(1, nodes - 1)
    leader = [values["p50"] for values in log["latency_by_leader_node"].values()]
    trend = "grew" if last > first else "did not grow"
    return (
        f"End-to-end p50 latency {trend} from {format_ms(first)} at 0 hops to "
        f"{format_ms(last)} at {nodes - 1} hops when the cluster forwarded (about "
        f"{format_ms(max(per_hop, 0))} a hop), while clients talking to the partition leader "
        f"stayed between {format_ms(min(leader))} and {format_ms(max(leader))} on every node: "
        f"T5, routing in the cluster costs a hop each time."
    )
