"""A consumer process for the live exactly-once scenario; the parent restarts it after kills.

Reads its settings as JSON on stdin (so credentials never show in the process list):
``mode`` (artemis | kafka_tx | kafka_naive), the target, the input and output names,
``die_after`` (messages processed in this life before the kill; 0 = never) and ``die_point``
(before_effect | after_effect | after_commit). At the kill point the process SIGKILLs itself,
so the kill lands exactly at that step of processing. It exits 0 once the input stayed quiet
for ``idle_s``. One line per processed message goes to stdout ("done ID").

- artemis: receive, send the result with ``_AMQ_DUPL_ID`` = "result-ID" (duplicate detection
  drops a repeat), then accept the input (a redelivery after a kill repeats the send only).
- kafka_tx: read_committed consumer; the result and the input offset go in one transaction
  (``send_offsets_to_transaction``); a restarted process with the same ``transactional.id``
  fences and aborts the dead one's open transaction (KIP-98).
- kafka_naive: produce the result, then commit the offset synchronously (at-least-once).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time

from advisor.demos.drivers.live.clients import DUPLICATE_ID, ID_PROPERTY, QueueCapability
from advisor.demos.drivers.live.targets import Target


class Plan:
    def __init__(self, die_after: int, die_point: str):
        self.die_after, self.die_point, self.done = die_after, die_point, 0

    def at(self, point: str) -> None:
        if self.die_after and self.done + 1 == self.die_after and point == self.die_point:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    def processed(self, ident: int) -> None:
        self.done += 1
        print(f"done {ident}", flush=True)


def run_artemis(target: Target, settings: dict, plan: Plan) -> None:
    from proton import Message
    from proton.utils import BlockingConnection

    connection = BlockingConnection(target.amqp_url(0), timeout=10, **target.amqp_options())
    receiver = connection.create_receiver(settings["input"], credit=1, options=QueueCapability())
    sender = connection.create_sender(settings["output"], options=QueueCapability())
    while True:
        try:
            message = receiver.receive(timeout=settings["idle_s"])
        except Exception:  # proton's Timeout: the queue stayed quiet
            break
        ident = int(message.properties[ID_PROPERTY])
        plan.at("before_effect")
        result = Message(
            body=f"result {ident}",
            durable=True,
            properties={ID_PROPERTY: ident, DUPLICATE_ID: f"result-{ident}"},
        )
        sender.send(result, timeout=10)
        plan.at("after_effect")
        receiver.accept()
        plan.at("after_commit")
        plan.processed(ident)
    connection.close()


def run_kafka(target: Target, settings: dict, plan: Plan, transactional: bool) -> None:
    from confluent_kafka import Consumer, Producer, TopicPartition

    consumer = Consumer(
        target.kafka_config(
            **{
                "group.id": settings["group"],
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "isolation.level": "read_committed",
            }
        )
    )
    producer_config = {"acks": "all", "enable.idempotence": True, "linger.ms": 5}
    if transactional:
        producer_config["transactional.id"] = settings["transactional_id"]
        producer_config["transaction.timeout.ms"] = 10000
    producer = Producer(target.kafka_config(**producer_config))
    if transactional:
        producer.init_transactions(30)
    partition = TopicPartition(settings["input"], 0)
    committed = consumer.committed([partition], timeout=10)[0].offset
    consumer.assign([TopicPartition(settings["input"], 0, committed if committed >= 0 else 0)])
    last = time.monotonic()
    while time.monotonic() - last < settings["idle_s"]:
        message = consumer.poll(0.2)
        if message is None or message.error() is not None:
            continue
        last = time.monotonic()
        ident = int(message.key())
        next_offset = [TopicPartition(settings["input"], 0, message.offset() + 1)]
        plan.at("before_effect")
        if transactional:
            producer.begin_transaction()
        producer.produce(settings["output"], f"result {ident}".encode(), key=message.key())
        if transactional:
            producer.send_offsets_to_transaction(
                next_offset, consumer.consumer_group_metadata(), 30
            )
            plan.at("after_effect")
            producer.commit_transaction(30)
        else:
            producer.flush(30)
            plan.at("after_effect")
            consumer.commit(offsets=next_offset, asynchronous=False)
        plan.at("after_commit")
        plan.processed(ident)
    producer.flush(30)
    consumer.close()


def main() -> int:
    settings = json.loads(sys.stdin.read())
    target = Target(**{**settings["target"], "addresses": tuple(settings["target"]["addresses"])})
    plan = Plan(settings["die_after"], settings["die_point"])
    if settings["mode"] == "artemis":
        run_artemis(target, settings, plan)
    else:
        run_kafka(target, settings, plan, transactional=settings["mode"] == "kafka_tx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
