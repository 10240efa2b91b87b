"""Clustering on the real products: the cluster forwards vs clients go to the leader.

Artemis: the producer is on node 0 and the consumer on node k of the three-node cluster;
with ON_DEMAND load balancing the message crosses the cluster bridge when the consumer is
elsewhere (0 or 1 hop; with max-hops 1 and every node connected to every other, one hop is
the most a static three-node cluster takes). Kafka: a topic with one partition per broker;
for each partition the producer and consumer talk straight to its leader. Latency probes at
``target_rate`` give the percentiles by hop / by leader; ``throughput_messages`` sent as fast
as possible through one hop (Artemis) and to one leader (Kafka) give the rates.

``nodes`` picks how many of the cluster's nodes the probes use, capped at the nodes the
target has (three on the local clusters; the findings say when the cap applied): Artemis
consumers on nodes 0..n-1, a Kafka topic with n partitions (leaders spread one per broker
by Kafka's replica placement). A live cluster is not resized for a run, so the
"as the cluster grows" chart has one bar per side, at n.
Sources: Artemis "Clusters" (message-load-balancing, max-hops, redistribution); Kafka
"Design: the producer" (clients send directly to the partition leader).
"""

from __future__ import annotations

import os
import threading
import time

from advisor.demos.drivers.live.clients import (
    AmqpConsumer,
    AmqpProducer,
    ReceiveLog,
    kafka_create_topic,
    kafka_delete_topics,
    kafka_leaders,
    kafka_produce,
    run_threads,
)
from advisor.demos.drivers.live.summaries import received_latency, send_side_metrics
from advisor.demos.drivers.live.targets import Target
from advisor.demos.metrics import format_ms

SETTINGS = {
    "artemis": {"message-load-balancing": "ON_DEMAND", "max-hops": 1, "durable": False},
    "kafka": {"partitions": "one per broker", "acks": "1"},
}
BINDING_PROPAGATION_S = 1.0  # time for node 0 to learn of the remote consumer's binding


def _artemis_probe(target: Target, consumer_node: int, queue: str, messages, rate, payload):
    consumer = AmqpConsumer(
        target,
        target.amqp_url(consumer_node),
        queue,
        prefetch=500,
        expected=messages,
        time_limit_s=60,
    )

    def produce():
        consumer.ready.wait(30)
        time.sleep(BINDING_PROPAGATION_S)
        return AmqpProducer(
            target,
            target.amqp_url(0),
            queue,
            messages=messages,
            payload=payload,
            durable=False,
            target_rate=rate,
        ).run()

    received, sent = run_threads(consumer.run, produce)
    return sent, received


def _kafka_consumer(target, topic, partition, expected, ready) -> ReceiveLog:
    from confluent_kafka import Consumer, TopicPartition

    log = ReceiveLog()
    consumer = Consumer(
        target.kafka_config(
            **{
                "group.id": f"advisor-cluster-{topic}-{partition}",
                "enable.auto.commit": False,
                "fetch.wait.max.ms": 5,
            }
        )
    )
    try:
        consumer.assign([TopicPartition(topic, partition, 0)])
        ready.set()
        deadline = time.monotonic() + 60
        while len(log.ids) < expected and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.1):
                if message.error() is None:
                    log.record_kafka(message)
    finally:
        consumer.close()
    return log


def _kafka_probe(target, topic, partition, messages, rate, payload):
    ready = threading.Event()
    received, sent = run_threads(
        lambda: _kafka_consumer(target, topic, partition, messages, ready),
        lambda: (
            ready.wait(30)
            and kafka_produce(
                target,
                topic,
                messages=messages,
                payload=payload,
                target_rate=rate,
                partition=partition,
                producer_config={"acks": "1", "linger.ms": 5},
            )
        ),
    )
    return sent, received


def run(parameters: dict, context, targets: dict[str, Target]) -> dict:
    kafka, artemis = targets["kafka"], targets["artemis"]
    probes, rate = parameters["messages"], parameters["target_rate"]
    payload = os.urandom(parameters["message_size"])
    run_id = f"{int(time.time())}-{os.getpid()}"
    requested = parameters["nodes"]
    nodes = min(requested, len(artemis.addresses))
    by_node, by_hops = {}, {}
    for node in range(nodes):
        context.check_cancel()
        context.progress(0.4 * node / nodes, f"Artemis: consumer on node {node}")
        queue = f"advisor.cluster.probe{node}.{run_id}"
        sent, received = _artemis_probe(artemis, node, queue, probes, rate, payload)
        by_node[str(node)] = received_latency(received).percentiles_ms()
        by_hops.setdefault("0" if node == 0 else "1", []).append(received)
    latency_by_hops = {}
    for hops, logs in by_hops.items():
        merged = ReceiveLog()
        for log in logs:
            merged.ids += log.ids
            merged.received += log.received
            merged.sent_ns += log.sent_ns
        latency_by_hops[hops] = received_latency(merged).percentiles_ms()
    context.progress(0.45, "Artemis: throughput through one hop")
    sent, received = _artemis_probe(
        artemis,
        min(1, nodes - 1),
        f"advisor.cluster.tput.{run_id}",
        parameters["throughput_messages"],
        0,
        payload,
    )
    broker = send_side_metrics(
        sent,
        label="Artemis: producer on node 0, consumer on node 1",
        model="the cluster forwards over its bridge",
        target_rate=0,
        received=received,
        latency_by_hops=latency_by_hops,
        latency_by_consumer_node=by_node,
    )

    topic = f"advisor-cluster-{run_id}"
    brokers_count = max(1, min(requested, len(kafka.addresses)))
    kafka_create_topic(kafka, topic, partitions=brokers_count)
    try:
        leaders = kafka_leaders(kafka, topic)
        by_leader = {}
        for partition in sorted(leaders):
            context.check_cancel()
            context.progress(
                0.5 + 0.35 * partition / brokers_count, f"Kafka: partition {partition}"
            )
            sent, received = _kafka_probe(kafka, topic, partition, probes, rate, payload)
            by_leader[str(partition)] = received_latency(received).percentiles_ms()
        context.progress(0.9, "Kafka: throughput to one leader")
        sent, received = _kafka_probe(
            kafka, topic, 0, parameters["throughput_messages"], 0, payload
        )
    finally:
        kafka_delete_topics(kafka, [topic])
    log = send_side_metrics(
        sent,
        label="Kafka: clients to the partition leader",
        model="no forwarding: each partition's leader serves its clients",
        target_rate=0,
        received=received,
        latency_by_leader_node=by_leader,
        leaders={str(p): leader for p, leader in leaders.items()},
    )
    # One cluster size on live brokers: the "as the cluster grows" chart gets one bar each.
    broker["throughput_by_nodes"] = [[nodes, broker["consume_rate"]]]
    log["throughput_by_nodes"] = [[brokers_count, log["consume_rate"]]]
    findings = {
        "nodes_requested": requested,
        "artemis_nodes": nodes,
        "kafka_brokers": brokers_count,
        "nodes_parameter_applied": True,
        "nodes_note": (
            f"{requested} nodes asked for; the targets have {len(artemis.addresses)} Artemis "
            f"nodes and {len(kafka.addresses)} Kafka brokers, so the probes used {nodes} and "
            f"{brokers_count}"
            if nodes < requested or brokers_count < requested
            else f"the probes used {nodes} Artemis nodes and {brokers_count} Kafka brokers"
        ),
        "broker": {"latency_by_hops": latency_by_hops},
        "log": {"latency_by_leader_node": by_leader},
    }
    return {
        "sides": {"broker": broker, "log": log},
        "findings": findings,
        "summary": _summary(latency_by_hops, by_leader, broker, log),
    }


def _summary(by_hops: dict, by_leader: dict, broker: dict, log: dict) -> str:
    hops = ", ".join(f"{h} hop(s) p50 {format_ms(v['p50'])}" for h, v in sorted(by_hops.items()))
    leaders = ", ".join(
        f"partition {p} p50 {format_ms(v['p50'])}" for p, v in sorted(by_leader.items())
    )
    return (
        f"Artemis end-to-end: {hops}; Kafka clients at the leader: {leaders}. Through one hop "
        f"Artemis moved {broker['consume_rate']:,.0f} msgs/s; to one Kafka leader "
        f"{log['consume_rate']:,.0f} msgs/s (T5)."
    )
