"""Push vs pull on the real products: a slow consumer behind Artemis credit and Kafka polls.

Artemis pushes up to the AMQP credit the consumer grants (``prefetch``; proton tops the
credit up as messages are accepted), so at most that many messages sit in the client and the
rest wait on the broker. The Kafka consumer fetches at its own pace, ``batch_size`` records
per ``consume`` call (librdkafka's counterpart of the Java client's ``max.poll.records``).
Both producers run at ``target_rate``; the consumer spends ``processing_ms`` per message.
Backlog = sent - processed, sampled over time.

``broker_buffer`` on Artemis: the run's address gets ``address-full-policy`` BLOCK with
``max-size-messages`` = broker_buffer (added through the management API before the run and
removed after), so the broker stops granting the producer AMQP credit while the address
holds that many messages. Credit comes in batches: on the local cluster the producer uses
an acceptor granting 10 at a time (brokers.py), so it stops within about 10 messages of the
bound; on another target it may overshoot by its acceptor's ``amqpCredits`` (1,000 in the
``artemis create`` template), and the findings say which. A target whose user may not manage
the broker runs without the bound, and the findings say so. Kafka has no such bound: the log
keeps what is produced (retention deletes by time or size, it never blocks a producer).
Sources: Artemis "Flow Control" (consumer window / AMQP credit; "Blocking AMQP Producers"),
"Paging" (max-size-messages, address-full-policy BLOCK), "Management" (addAddressSettings);
librdkafka ``Consumer.consume(num_messages)``; Kafka consumer fetch configs.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time

from advisor.demos.drivers.live.brokers import FLOW_CREDITS
from advisor.demos.drivers.live.clients import (
    AmqpConsumer,
    AmqpProducer,
    ReceiveLog,
    artemis_manage,
    kafka_create_topic,
    kafka_delete_topics,
    kafka_produce,
    run_threads,
)
from advisor.demos.drivers.live.summaries import send_side_metrics
from advisor.demos.drivers.live.targets import Target
from advisor.demos.errors import DriverError
from advisor.demos.metrics import format_ms

SETTINGS = {
    "artemis": {
        "durable": False,
        "consumer credit": "prefetch parameter",
        "address-full-policy": "BLOCK",
        "max-size-messages": "broker_buffer parameter",
    },
    "kafka": {
        "acks": "1",
        "consume(num_messages)": "batch_size parameter",
        "partitions": 1,
        "broker buffer": "none: the log keeps everything; the producer is never blocked",
    },
}
DEFAULT_ACCEPTOR_CREDITS = 1000  # amqpCredits in the `artemis create` template's acceptor


def _kafka_consumer(target, topic, *, expected, batch, processing_s, time_limit_s, ready):
    from confluent_kafka import Consumer, TopicPartition

    log = ReceiveLog()
    consumer = Consumer(
        target.kafka_config(
            **{
                "group.id": f"advisor-pushpull-{topic}",
                "enable.auto.commit": True,
                "auto.offset.reset": "earliest",
                "fetch.wait.max.ms": 10,
            }
        )
    )
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        ready.set()
        deadline = time.monotonic() + time_limit_s
        while len(log.ids) < expected and time.monotonic() < deadline:
            for message in consumer.consume(batch, 0.1):
                if message.error() is not None:
                    continue
                if processing_s:
                    time.sleep(processing_s)
                log.record_kafka(message)
    finally:
        consumer.close()
    return log


def run(parameters: dict, context, targets: dict[str, Target]) -> dict:
    kafka, artemis = targets["kafka"], targets["artemis"]
    messages = parameters["messages"]
    processing_s = parameters["processing_ms"] / 1000
    payload = os.urandom(parameters["message_size"])
    limit = 60.0 + messages * processing_s * 1.5
    run_id = f"{int(time.time())}-{os.getpid()}"
    sides, findings = {}, {}

    context.progress(0.0, "Artemis: slow consumer with a credit window")
    queue = f"advisor.pushpull.{run_id}"
    findings["broker_buffer"] = _bound_address(artemis, queue, parameters["broker_buffer"])
    producer_url = (
        f"{'amqps' if artemis.tls else 'amqp'}://{artemis.flow_address}"
        if artemis.flow_address and findings["broker_buffer"]["applied"]
        else artemis.amqp_url(0)
    )
    consumer = AmqpConsumer(
        artemis,
        artemis.amqp_url(0),
        queue,
        prefetch=parameters["prefetch"],
        processing_s=processing_s,
        expected=messages,
        time_limit_s=limit,
    )
    producer = AmqpProducer(
        artemis,
        producer_url,
        queue,
        messages=messages,
        payload=payload,
        durable=False,
        target_rate=parameters["target_rate"],
        time_limit_s=limit,
    )

    def produce_when_ready():
        consumer.ready.wait(30)
        return producer.run()

    try:
        received, sent = run_threads(consumer.run, produce_when_ready)
    finally:
        if findings["broker_buffer"]["applied"]:
            with contextlib.suppress(DriverError):
                artemis_manage(artemis, artemis.amqp_url(0), "removeAddressSettings", queue)
    sides["broker"] = _side(sent, received, "Artemis: push within AMQP credit", parameters)
    context.check_cancel()

    context.progress(0.5, "Kafka: slow consumer polling batches")
    topic = f"advisor-pushpull-{run_id}"
    kafka_create_topic(kafka, topic)
    ready = threading.Event()
    try:
        received, sent = run_threads(
            lambda: _kafka_consumer(
                kafka,
                topic,
                expected=messages,
                batch=parameters["batch_size"],
                processing_s=processing_s,
                time_limit_s=limit,
                ready=ready,
            ),
            lambda: (
                ready.wait(30)
                and kafka_produce(
                    kafka,
                    topic,
                    messages=messages,
                    payload=payload,
                    target_rate=parameters["target_rate"],
                    producer_config={"acks": "1", "linger.ms": 5},
                    time_limit_s=limit,
                )
            ),
        )
    finally:
        kafka_delete_topics(kafka, [topic])
    sides["log"] = _side(sent, received, "Kafka: consumer polls batches", parameters)
    for key in ("broker", "log"):
        findings[key] = {
            "received": sides[key]["received"],
            "max_backlog": sides[key]["max_backlog"],
        }
    findings["log"]["broker_buffer"] = SETTINGS["kafka"]["broker buffer"]
    summary = _summary(sides, parameters, bounded=findings["broker_buffer"]["applied"])
    return {"sides": sides, "findings": findings, "summary": summary}


def _bound_address(target: Target, address: str, buffer: int) -> dict:
    """BLOCK the address at ``buffer`` messages through management; what was applied."""
    settings = {"addressFullMessagePolicy": "BLOCK", "maxSizeMessages": buffer}
    try:
        artemis_manage(
            target, target.amqp_url(0), "addAddressSettings", address, json.dumps(settings)
        )
    except DriverError as error:
        return {"applied": False, "why": str(error)}
    credits = FLOW_CREDITS if target.flow_address else DEFAULT_ACCEPTOR_CREDITS
    return {
        "applied": True,
        "address-full-policy": "BLOCK",
        "max-size-messages": buffer,
        "producer_credit_batch": credits,
        "producer_may_overshoot_by": credits,
    }


def _side(sent, received: ReceiveLog, label: str, parameters: dict) -> dict:
    metrics = send_side_metrics(
        sent,
        label=label,
        model=label,
        target_rate=parameters["target_rate"],
        received=received,
        received_count=len(received.ids),
    )
    metrics["received"] = len(received.ids)
    metrics["max_backlog"] = max((point[1] for point in metrics["backlog"]), default=0)
    return metrics


def _summary(sides: dict, parameters: dict, *, bounded: bool) -> str:
    broker, log = sides["broker"], sides["log"]
    bound = (
        f"producer blocked at {parameters['broker_buffer']:,} queued"
        if bounded
        else "no bound on the queue: the target would not take the setting"
    )
    broker_p99 = format_ms(broker["end_to_end_latency_ms"]["p99"])
    log_p99 = format_ms(log["end_to_end_latency_ms"]["p99"])
    return (
        f"With a consumer taking {parameters['processing_ms']} ms per message, Artemis "
        f"(credit {parameters['prefetch']}, {bound}) published "
        f"{broker['publish_rate']:,.0f} msgs/s, backlog up to {broker['max_backlog']:,}, "
        f"end-to-end p99 {broker_p99}; Kafka (polls of up to {parameters['batch_size']}) "
        f"published {log['publish_rate']:,.0f} msgs/s, backlog up to {log['max_backlog']:,}, "
        f"p99 {log_p99} (T1)."
    )
