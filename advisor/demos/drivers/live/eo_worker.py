"""A consumer process for the live exactly-once scenario; the parent restarts it after kills.

Reads its settings as JSON on stdin (so credentials never show in the process list):
``mode`` (artemis | kafka_tx | kafka_naive), the target, the input and output names,
``die_after`` (messages processed in this life before the kill; 0 = never) and ``die_point``
(before_effect | after_effect | after_commit). At the kill point the process SIGKILLs itself,
so the kill lands exactly at that step of processing. It exits 0 once the input stayed quiet
for ``idle_s``. One line per processed message goes to stdout ("done ID").

- artemis: transacted consumption. One AMQP local transaction per message (``amqp:declare``,
  then the result sent and the input accepted under the transaction's id, then
  ``amqp:discharge``; proton's ``Container.declare_transaction``): a kill before the commit
  leaves the broker to roll back both when the connection drops, so the input is redelivered
  and the result was never stored; a kill after it leaves nothing to redo. The results carry
  no duplicate id, so it is the transaction, not duplicate detection, that keeps them single
  (AMQP 1.0 part 4 "Transactions"; Artemis "AMQP" chapter: local transactions supported).
  Each received id is printed ("got ID"), so the parent counts redeliveries.
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

from advisor.demos.drivers.live.clients import ID_PROPERTY, QueueCapability
from advisor.demos.drivers.live.targets import Target

WORKER_TIME_LIMIT_S = 110.0  # under the parent's 120 s per life


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
    """Take each input and send its result in one local transaction (see the docstring)."""
    from proton import Message
    from proton.handlers import TransactionalClientHandler
    from proton.reactor import Container

    time_limit = time.monotonic() + WORKER_TIME_LIMIT_S

    class Handler(TransactionalClientHandler):
        def __init__(self):
            super().__init__(prefetch=0, auto_accept=False)
            self.transaction = None
            self.holding: int | None = None  # the id being processed in this transaction
            self.result = None  # its result's delivery, until the broker answers it
            self.last = time.monotonic()
            self.closing = False

        def on_start(self, event):
            self.container = event.container
            self.connection = event.container.connect(
                target.amqp_url(0), reconnect=False, idle_timeout=30, **target.amqp_options()
            )
            self.receiver = event.container.create_receiver(
                self.connection, settings["input"], options=QueueCapability()
            )
            self.sender = event.container.create_sender(
                self.connection, settings["output"], options=QueueCapability()
            )
            event.container.declare_transaction(self.connection, handler=self)
            event.container.schedule(0.2, self)

        def on_transaction_declared(self, event):
            self.transaction = event.transaction
            self.receiver.flow(1)  # one message per transaction

        def on_message(self, event):
            ident = int(event.message.properties[ID_PROPERTY])
            print(f"got {ident}", flush=True)
            self.holding, self.last = ident, time.monotonic()
            plan.at("before_effect")
            result = Message(body=f"result {ident}", durable=True, properties={ID_PROPERTY: ident})
            self.result = self.transaction.send(self.sender, result)
            self.accept(event.delivery, self.transaction)

        def on_delivery(self, event):
            # The broker answered the result's transfer: it holds the result in the open
            # transaction. A kill here is the one that tells: without the transaction the
            # result would be stored and the redelivered input would make a second one.
            if (
                self.result is not None
                and event.delivery == self.result
                and event.delivery.remote_state
            ):
                self.result = None
                plan.at("after_effect")
                self.transaction.commit()

        def on_transaction_committed(self, event):
            ident, self.holding = self.holding, None
            plan.at("after_commit")
            plan.processed(ident)
            self.last = time.monotonic()
            self.transaction = None
            self.container.declare_transaction(self.connection, handler=self)

        def on_transaction_declare_failed(self, event):
            self.fail("declaring a transaction failed")

        def on_transaction_commit_failed(self, event):
            self.fail(f"committing the transaction of {self.holding} failed")

        def fail(self, why: str):
            print(why, file=sys.stderr, flush=True)
            os._exit(3)

        def on_timer_task(self, event):
            if self.closing:
                return
            now = time.monotonic()
            quiet = self.holding is None and now - self.last > settings["idle_s"]
            if quiet or now > time_limit:
                self.closing = True
                self.connection.close()
                return
            event.container.schedule(0.2, self)

        def on_transport_error(self, event):
            condition = event.transport.condition
            self.fail(f"connection lost: {condition.description if condition else 'closed'}")

    Container(Handler()).run()


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
