"""Replay on the real products: consumers that join late.

The same ``messages`` go to an Artemis queue and a Kafka topic. A first consumer processes
``consumed_percent`` of them (Artemis: accepted, so removed from the queue; Kafka: offsets
committed by its group). Then ``late_consumers`` join one after another: on Artemis each
attaches to the queue and reads what is left (consuming a queue is destructive); on Kafka each
is a new consumer group starting from the earliest offset. Kafka 4.2's share groups
(KIP-932, "queues for Kafka") are shown too: ``late_consumers`` members of one share group
read the topic together and split it, each record going to one member.
Sources: Artemis "Address Model" (anycast queues); Kafka consumer config
``auto.offset.reset``; KIP-932 and the group config ``share.auto.offset.reset``.
"""

from __future__ import annotations

import contextlib
import os
import time

from advisor.demos.drivers.live.clients import (
    AmqpConsumer,
    AmqpProducer,
    ReceiveLog,
    amqp_drain,
    kafka_create_topic,
    kafka_delete_topics,
    kafka_produce,
    kafka_read_all,
    run_threads,
)
from advisor.demos.drivers.live.summaries import send_side_metrics
from advisor.demos.drivers.live.targets import CONNECT_TIMEOUT_S, Target

SETTINGS = {
    "artemis": {"queue": "anycast, durable messages", "late consumer": "attaches to the queue"},
    "kafka": {
        "late consumer": "new group, auto.offset.reset=earliest",
        "share group": "share.auto.offset.reset=earliest, implicit acknowledgement",
    },
}


def _kafka_first_consumer(target: Target, topic: str, group: str, count: int) -> int:
    from confluent_kafka import Consumer

    consumer = Consumer(
        target.kafka_config(
            **{"group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False}
        )
    )
    read = 0
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + 60
        while read < count and time.monotonic() < deadline:
            for message in consumer.consume(min(500, count - read), 0.5):
                if message.error() is None:
                    read += 1
        if read:
            consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return read


def _share_group(target: Target, topic: str, group: str, members: int, messages: int) -> dict:
    """Members of one share group reading together; reads per member (KIP-932)."""
    from confluent_kafka import KafkaException, ShareConsumer
    from confluent_kafka.admin import (
        AdminClient,
        AlterConfigOpType,
        ConfigEntry,
        ConfigResource,
        ResourceType,
    )

    admin = AdminClient(target.kafka_config())
    resource = ConfigResource(
        ResourceType.GROUP,
        group,
        incremental_configs=[
            ConfigEntry(
                "share.auto.offset.reset",
                "earliest",
                incremental_operation=AlterConfigOpType.SET,
            )
        ],
    )
    try:
        for future in admin.incremental_alter_configs([resource]).values():
            future.result(timeout=CONNECT_TIMEOUT_S * 3)
    except KafkaException as error:
        return {"supported": False, "reason": str(error)}
    consumers = []
    try:
        for _ in range(members):
            consumer = ShareConsumer(target.kafka_config(**{"group.id": group}))
            consumer.subscribe([topic])
            consumers.append(consumer)
        reads = [0] * members
        deadline = time.monotonic() + 60
        quiet_since = time.monotonic()
        while sum(reads) < messages and time.monotonic() < deadline:
            got = False
            for index, consumer in enumerate(consumers):
                batch = consumer.poll(0.2)
                for message in [] if batch is None else list(batch):
                    if message is not None and message.error() is None:
                        reads[index] += 1
                        got = True
            if got:
                quiet_since = time.monotonic()
            elif sum(reads) and time.monotonic() - quiet_since > 5:
                break
        return {"supported": True, "members": members, "reads": reads, "total": sum(reads)}
    except (KafkaException, RuntimeError) as error:
        return {"supported": False, "reason": str(error)}
    finally:
        for consumer in consumers:
            with contextlib.suppress(Exception):  # closing must not hide the result
                consumer.close()


def run(parameters: dict, context, targets: dict[str, Target]) -> dict:
    kafka, artemis = targets["kafka"], targets["artemis"]
    messages = parameters["messages"]
    first_reads = messages * parameters["consumed_percent"] // 100
    late = parameters["late_consumers"]
    payload = os.urandom(parameters["message_size"])
    run_id = f"{int(time.time())}-{os.getpid()}"
    sides, findings = {}, {"first_consumer_reads": first_reads}

    context.progress(0.0, "Artemis: producing to a queue")
    queue = f"advisor.replay.{run_id}"
    url = artemis.amqp_url(0)
    sent = AmqpProducer(
        artemis, url, queue, messages=messages, payload=payload, durable=True, target_rate=0
    ).run()
    first = ReceiveLog()
    if first_reads:
        first = AmqpConsumer(
            artemis, url, queue, prefetch=100, expected=first_reads, time_limit_s=60
        ).run()
    artemis_reads = []
    for index in range(late):
        context.check_cancel()
        context.progress(0.1 + 0.3 * index / late, f"Artemis: late consumer {index + 1}")
        artemis_reads.append(len(amqp_drain(artemis, url, queue, idle_s=1.5).ids))
    sides["broker"] = send_side_metrics(
        sent,
        label="Artemis queue",
        model="consuming a queue removes the message",
        target_rate=0,
        received=first if first.ids else None,
        late_consumer_reads=artemis_reads,
        first_consumer_reads=len(first.ids),
    )

    context.progress(0.5, "Kafka: producing to a topic")
    topic = f"advisor-replay-{run_id}"
    kafka_create_topic(kafka, topic)
    try:
        sent = kafka_produce(
            kafka,
            topic,
            messages=messages,
            payload=payload,
            target_rate=0,
            producer_config={"acks": "all", "linger.ms": 5},
        )
        read_first = _kafka_first_consumer(
            kafka, topic, f"advisor-replay-first-{run_id}", first_reads
        )
        kafka_reads = []
        for index in range(late):
            context.check_cancel()
            context.progress(0.6 + 0.2 * index / late, f"Kafka: late consumer {index + 1}")
            log = kafka_read_all(
                kafka, topic, expected=messages, group=f"advisor-replay-late{index}-{run_id}"
            )
            kafka_reads.append(len(log.ids))
        context.progress(0.85, "Kafka: a share group reading the topic")
        (share,) = run_threads(
            lambda: _share_group(kafka, topic, f"advisor-replay-share-{run_id}", late, messages)
        )
    finally:
        kafka_delete_topics(kafka, [topic])
    sides["log"] = send_side_metrics(
        sent,
        label="Kafka topic",
        model="each consumer group keeps its own offset",
        target_rate=0,
        late_consumer_reads=kafka_reads,
        first_consumer_reads=read_first,
    )
    findings["broker"] = {"late_consumer_reads": artemis_reads}
    findings["log"] = {"late_consumer_reads": kafka_reads}
    findings["share_group"] = share
    return {"sides": sides, "findings": findings, "summary": _summary(findings, messages)}


def _summary(findings: dict, messages: int) -> str:
    share = findings["share_group"]
    share_text = (
        f"; a Kafka share group of {share['members']} split the topic as a queue would "
        f"({', '.join(str(r) for r in share['reads'])} records, {share['total']:,} in all)"
        if share.get("supported")
        else f"; share groups were not available ({share.get('reason', 'unknown')})"
    )
    artemis_reads = ", ".join(f"{r:,}" for r in findings["broker"]["late_consumer_reads"])
    kafka_reads = ", ".join(f"{r:,}" for r in findings["log"]["late_consumer_reads"])
    return (
        f"After the first consumer read {findings['first_consumer_reads']:,} of {messages:,}, "
        f"late consumers on the Artemis queue read {artemis_reads}; late Kafka consumer groups "
        f"read {kafka_reads}{share_text} (T2, T8)."
    )
