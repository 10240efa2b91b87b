"""Producing and consuming on the real brokers, time-stamped, with every wait bounded.

Kafka goes through confluent-kafka (librdkafka); Artemis through python-qpid-proton (AMQP
1.0). A durable AMQP message is settled by Artemis only after its journal write (journal-sync
is on by default), so the time to the ``accepted`` disposition is the durable ack latency;
``_AMQ_DUPL_ID`` as an application property turns on duplicate detection for the message
(Artemis "Duplicate Message Detection").
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from advisor.demos.drivers.live.targets import CONNECT_TIMEOUT_S, Target
from advisor.demos.errors import Cancelled, DriverError
from advisor.demos.metrics import FixedRateSchedule

ID_PROPERTY = "advisor_id"
SENT_PROPERTY = "advisor_sent_ns"
DUPLICATE_ID = "_AMQ_DUPL_ID"
# AMQP heartbeats: a peer silent this long (hung, or not AMQP at all) ends the connection, so
# a container never waits forever, e.g. for the answer to its close.
IDLE_TIMEOUT_S = 30.0
CLOSE_GRACE_S = 5.0  # how long a closed connection may wait for the peer's close
READ_ATTEMPTS = 3  # connections a consumer may open when proton fails to read a delivery
# Reconnect delays for a producer that fails over (proton tries every URL after each delay):
# quick at first, then every half second, about 60 s in all, then it gives up.
FAILOVER_DELAYS = [0.0, 0.1, 0.2, *[0.5] * 120]
# proton logs every connect at INFO; the run's own messages say what matters.
logging.getLogger("proton").setLevel(logging.WARNING)


@dataclass
class SendLog:
    """When each message was due, sent and acknowledged (``time.perf_counter`` seconds)."""

    intended: dict[int, float] = field(default_factory=dict)
    sent: dict[int, float] = field(default_factory=dict)
    acked: dict[int, float] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def acked_ids(self) -> set[int]:
        return set(self.acked)


@dataclass
class ReceiveLog:
    """Message ids in the order received, with the receive time and send time of each."""

    ids: list[int] = field(default_factory=list)
    received: list[float] = field(default_factory=list)
    sent_ns: list[int] = field(default_factory=list)

    def record(self, message_id: int, sent_ns: int) -> None:
        """One message received now."""
        self.ids.append(message_id)
        self.received.append(time.perf_counter())
        self.sent_ns.append(sent_ns)

    def record_kafka(self, message) -> None:
        """A Kafka record received now: its key is the id, a header its send time."""
        self.record(int(message.key()), int(header_value(message, SENT_PROPERTY) or 0))


def now_ns() -> int:
    return time.perf_counter_ns()


# --- Kafka ----------------------------------------------------------------------------------


def kafka_create_topic(
    target: Target, topic: str, *, partitions: int = 1, replication: int = 3, config=None
) -> None:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(target.kafka_config())
    new = NewTopic(topic, partitions, replication, config=config or {})
    try:
        for future in admin.create_topics([new], operation_timeout=30).values():
            future.result(timeout=60)
    except KafkaException as error:
        raise DriverError(f"target {target.describe()}: creating topic {topic}: {error}") from None
    # Wait until every partition has a leader the clients can find.
    _leaders(admin, target, topic, partitions=partitions, timeout_s=60.0)


def kafka_delete_topics(target: Target, topics: list[str]) -> None:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(target.kafka_config())
    with contextlib.suppress(Exception):
        for future in admin.delete_topics(topics, operation_timeout=30).values():
            future.result(timeout=30)


def kafka_leaders(target: Target, topic: str) -> dict[int, int]:
    """Partition -> leader broker id."""
    from confluent_kafka.admin import AdminClient

    return _leaders(AdminClient(target.kafka_config()), target, topic)


def kafka_produce(
    target: Target,
    topic: str,
    *,
    messages: int,
    payload: bytes,
    target_rate: float,
    producer_config: dict,
    partition: int | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_ack: Callable[[int], None] | None = None,
    time_limit_s: float = 60.0,
    first_id: int = 0,
) -> SendLog:
    """Produce ids ``first_id..`` (the key) at ``target_rate``; record each delivery report."""
    from confluent_kafka import KafkaException, Producer

    log = SendLog()
    producer = Producer(target.kafka_config(**producer_config))

    def delivered(error, message) -> None:
        ident = int(message.key())
        if error is None:
            log.acked[ident] = time.perf_counter()
            if on_ack is not None:
                on_ack(ident)
        else:
            log.failed[ident] = str(error)

    _leaders(producer, target, topic)
    schedule = FixedRateSchedule(target_rate)
    deadline = schedule.start + time_limit_s
    for index in range(messages):
        if should_stop() or time.perf_counter() > deadline:
            break
        ident = first_id + index
        log.intended[ident] = schedule.wait_for(index)
        sent = time.perf_counter()
        log.sent[ident] = sent
        headers = [(SENT_PROPERTY, str(time.perf_counter_ns()).encode())]
        options = {"partition": partition} if partition is not None else {}
        while True:
            try:
                producer.produce(
                    topic,
                    payload,
                    key=str(ident).encode(),
                    headers=headers,
                    on_delivery=delivered,
                    **options,
                )
                break
            except BufferError:
                producer.poll(0.01)
            except KafkaException as error:
                log.failed[ident] = str(error)
                break
        producer.poll(0)
    remaining = producer.flush(max(5.0, deadline - time.perf_counter()))
    if remaining:
        log.errors.append(f"{remaining} messages still unacknowledged at the time limit")
    return log


def _leaders(
    client, target: Target, topic: str, *, partitions: int | None = None, timeout_s: float = 30.0
) -> dict[int, int]:
    """Partition -> leader broker id, as ``client`` learns them, once the topic has its
    ``partitions`` (any number if None) and each a leader. Bounded: a topic just created
    may not have them yet in every broker's metadata."""
    deadline = time.monotonic() + timeout_s
    while True:
        metadata = client.list_topics(topic, timeout=CONNECT_TIMEOUT_S).topics.get(topic)
        if (
            metadata is not None
            and metadata.error is None
            and metadata.partitions
            and (partitions is None or len(metadata.partitions) == partitions)
            and all(meta.leader >= 0 for meta in metadata.partitions.values())
        ):
            return {partition: meta.leader for partition, meta in metadata.partitions.items()}
        if time.monotonic() > deadline:
            raise DriverError(
                f"target {target.describe()}: topic {topic} got no leaders within {timeout_s:.0f} s"
            )
        time.sleep(0.2)


def kafka_read_all(
    target: Target,
    topic: str,
    *,
    expected: int | None = None,
    isolation: str = "read_uncommitted",
    idle_s: float = 3.0,
    time_limit_s: float = 60.0,
    group: str | None = None,
) -> ReceiveLog:
    """Read a topic from the start until ``expected`` ids came or nothing came for ``idle_s``."""
    from confluent_kafka import Consumer, TopicPartition

    from advisor.demos.drivers.live.clients import kafka_partitions

    log = ReceiveLog()
    consumer = Consumer(
        target.kafka_config(
            **{
                "group.id": group or f"advisor-read-{time.time_ns()}",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "isolation.level": isolation,
            }
        )
    )
    try:
        partitions = kafka_partitions(target, topic)
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        deadline = time.monotonic() + time_limit_s
        last = time.monotonic()
        while time.monotonic() < deadline:
            batch = consumer.consume(500, 0.5)
            now = time.perf_counter()
            for message in batch:
                if message.error() is not None:
                    continue
                log.ids.append(int(message.key()))
                log.received.append(now)
            if batch:
                last = time.monotonic()
            if expected is not None and len(log.ids) >= expected:
                break
            if time.monotonic() - last > idle_s:
                break
    finally:
        consumer.close()
    return log


def kafka_partitions(target: Target, topic: str) -> list[int]:
    from confluent_kafka.admin import AdminClient

    admin = AdminClient(target.kafka_config())
    metadata = admin.list_topics(topic, timeout=CONNECT_TIMEOUT_S).topics[topic]
    return sorted(metadata.partitions)


def header_value(message, name: str) -> bytes | None:
    for key, value in message.headers() or []:
        if key == name:
            return value
    return None


# --- Artemis (AMQP 1.0) ---------------------------------------------------------------------


def QueueCapability():  # noqa: N802 - reads like the LinkOption class it makes
    """A link option asking for a queue (anycast), whatever the broker's default routing."""
    from proton import symbol
    from proton.reactor import LinkOption

    class _QueueCapability(LinkOption):
        def apply(self, link) -> None:
            terminus = link.target if link.is_sender else link.source
            terminus.capabilities.put_object(symbol("queue"))

    return _QueueCapability()


class _Stopper:
    """Stops a container whose peer never answered our close (a hung or silent server)."""

    def on_timer_task(self, event) -> None:
        event.container.stop()


class _ClosesOnce:
    """How a handler ends its connection: closed once, and a peer that never answers the
    close gets CLOSE_GRACE_S before the container stops (a hung or silent server)."""

    def finish(self):
        if not self.closed:
            self.closed = True
            self.connection.close()
            self.stopper = self.container.schedule(CLOSE_GRACE_S, _Stopper())

    def on_connection_closed(self, event):
        stopper = getattr(self, "stopper", None)
        if stopper is not None:
            stopper.cancel()


def _handler_base():
    from proton.handlers import MessagingHandler

    return MessagingHandler


def _guard_reads(handler) -> None:
    """Skip a delivery proton reports readable with nothing left to read.

    proton 0.40's MessagingHandler decodes ``link.recv(delivery.pending)``; with nothing
    pending that is end-of-stream (None) and the decode raises TypeError, ending the whole
    container. Seen once, draining a backup just after failover.
    """
    from proton.handlers import IncomingMessageHandler

    class Guarded(IncomingMessageHandler):
        def on_delivery(self, event):
            delivery = event.delivery
            readable = delivery.link.is_receiver and delivery.readable and not delivery.partial
            if readable and not delivery.aborted and delivery.pending == 0:
                handler.empty_reads = getattr(handler, "empty_reads", 0) + 1
                return
            super().on_delivery(event)

    handler.handlers = [
        Guarded(child.auto_accept, child.delegate)
        if type(child) is IncomingMessageHandler
        else child
        for child in handler.handlers
    ]


class AmqpProducer:
    """Send ids at a fixed rate on one connection; record when each is accepted.

    The container runs in the calling thread and returns when every message is settled, the
    connection fails (e.g. the broker was killed) or ``time_limit_s`` passed.

    With ``failover_urls`` (a replicated primary, then its backup) the producer does what a
    failover client does instead of stopping: proton reconnects through the URLs (``urls``
    and ``reconnect`` of ``Container.connect``), the sender link is attached again, and every
    message that was sent but not settled when the connection dropped is "in doubt": sent
    again with the same ``_AMQ_DUPL_ID``, so the backup stores it once whether or not the
    primary had stored and replicated it (Artemis "Duplicate Message Detection": the cache
    is persisted with durable messages, so the backup has it). ``disconnected_at`` and
    ``reconnected_at`` time the failover as the client saw it.
    """

    def __init__(
        self,
        target: Target,
        url: str,
        address: str,
        *,
        messages: int,
        payload: bytes,
        durable: bool,
        target_rate: float,
        duplicate_ids: bool = False,
        repeat_every: int = 0,
        first_id: int = 0,
        time_limit_s: float = 60.0,
        on_ack: Callable[[int], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False,
        failover_urls: list[str] | None = None,
    ):
        self.target, self.url, self.address = target, url, address
        self.messages, self.payload, self.durable = messages, payload, durable
        # A failover client resends in-doubt messages: only a duplicate id keeps them single.
        self.target_rate, self.duplicate_ids = target_rate, duplicate_ids or bool(failover_urls)
        self.repeat_every, self.first_id = repeat_every, first_id
        self.time_limit_s, self.on_ack, self.should_stop = time_limit_s, on_ack, should_stop
        self.failover_urls = list(failover_urls or [])
        self.log = SendLog()
        self.repeats_sent = 0
        self.resent_in_doubt = 0
        self.disconnects = 0
        self.disconnected_at: float | None = None
        self.reconnected_at: float | None = None
        self.first_ack_after_reconnect: float | None = None

    def run(self) -> SendLog:
        from proton import Message
        from proton.reactor import Container

        producer = self
        base = _handler_base()

        class Handler(_ClosesOnce, base):
            def __init__(self):
                super().__init__(auto_settle=True)
                self.next = 0
                self.pending_repeat: list[int] = []
                self.by_delivery: dict = {}
                self.closed = False
                self.settled = 0
                self.to_settle = producer.messages
                self.in_doubt: list[int] = []
                self.linked = False

            def on_start(self, event):
                self.container = event.container
                self.schedule = FixedRateSchedule(producer.target_rate)
                self.deadline = self.schedule.start + producer.time_limit_s
                where = (
                    {"urls": producer.failover_urls, "reconnect": FAILOVER_DELAYS}
                    if producer.failover_urls
                    else {"url": producer.url, "reconnect": False}
                )
                self.connection = event.container.connect(
                    **where,
                    idle_timeout=IDLE_TIMEOUT_S,
                    **producer.target.amqp_options(),
                )
                self.sender = event.container.create_sender(
                    self.connection, producer.address, options=QueueCapability()
                )
                event.container.schedule(0.001, self)

            def on_timer_task(self, event):
                if self.closed:
                    return
                if producer.should_stop() or time.perf_counter() > self.deadline:
                    self.finish()
                    return
                self.pump()
                event.container.schedule(0.001, self)

            def on_sendable(self, event):
                self.pump()

            def on_link_opened(self, event):
                self.linked = True
                if producer.disconnects and producer.reconnected_at is None:
                    producer.reconnected_at = time.perf_counter()

            def pump(self):
                while self.sender.credit > 0 and not self.closed:
                    if producer.failover_urls and not self.linked:
                        return  # between a dropped connection and the new link
                    if self.in_doubt:
                        producer.resent_in_doubt += 1
                        self.send(self.in_doubt.pop(), resend=True)
                        continue
                    if self.pending_repeat:
                        ident = self.pending_repeat.pop()
                        self.send(ident, repeat=True)
                        continue
                    if self.next >= producer.messages:
                        return
                    due = self.schedule.intended(self.next)
                    if due > time.perf_counter():
                        return
                    ident = producer.first_id + self.next
                    producer.log.intended[ident] = due
                    self.send(ident)
                    if producer.repeat_every and self.next % producer.repeat_every == 0:
                        self.pending_repeat.append(ident)  # a producer retry of the same id
                        self.to_settle += 1
                    self.next += 1

            def send(self, ident: int, repeat: bool = False, resend: bool = False):
                properties = {ID_PROPERTY: ident, SENT_PROPERTY: time.perf_counter_ns()}
                if producer.duplicate_ids:
                    properties[DUPLICATE_ID] = f"{producer.address}-{ident}"
                message = Message(
                    body=producer.payload, durable=producer.durable, properties=properties
                )
                delivery = self.sender.send(message)
                self.by_delivery[delivery] = (ident, repeat)
                if repeat:
                    producer.repeats_sent += 1
                elif not resend:  # a resend keeps its first send time: the wait counts
                    producer.log.sent[ident] = time.perf_counter()

            def settle(self, event, ok: bool, why: str = ""):
                ident, repeat = self.by_delivery.pop(event.delivery, (None, False))
                self.settled += 1
                if ident is not None and not repeat:
                    if ok:
                        now = time.perf_counter()
                        producer.log.acked[ident] = now
                        if producer.reconnected_at and producer.first_ack_after_reconnect is None:
                            producer.first_ack_after_reconnect = now
                        if producer.on_ack is not None:
                            producer.on_ack(ident)
                    else:
                        producer.log.failed[ident] = why
                if self.next >= producer.messages and not self.by_delivery and not self.in_doubt:
                    self.finish()

            def on_accepted(self, event):
                self.settle(event, True)

            def on_rejected(self, event):
                self.settle(event, False, "rejected")

            def on_released(self, event):
                self.settle(event, False, "released")

            def on_transport_error(self, event):
                condition = event.transport.condition
                producer.log.errors.append(str(condition.description if condition else "closed"))
                if producer.failover_urls and not self.closed:
                    self.dropped()
                    return
                self.closed = True

            def dropped(self):
                """The connection fell: what was unsettled is in doubt; proton reconnects."""
                if self.linked:
                    producer.disconnects += 1
                    if producer.disconnected_at is None:
                        producer.disconnected_at = time.perf_counter()
                self.linked = False
                for ident, repeat in self.by_delivery.values():
                    if not repeat:
                        self.in_doubt.append(ident)
                self.by_delivery.clear()

            def on_connection_error(self, event):
                self.on_transport_error(event)

            def on_link_error(self, event):
                condition = event.link.remote_condition
                producer.log.errors.append(str(condition.description if condition else "link"))
                self.finish()

        Container(Handler()).run()
        return self.log


class AmqpConsumer:
    """Receive from a queue with a credit window, optionally slow, until told to stop.

    ``prefetch`` is the AMQP credit the client keeps granted (Artemis pushes up to it);
    each message is processed for ``processing_s`` and then accepted.
    """

    def __init__(
        self,
        target: Target,
        url: str,
        address: str,
        *,
        prefetch: int = 100,
        processing_s: float = 0.0,
        expected: int | None = None,
        idle_s: float | None = None,
        time_limit_s: float = 60.0,
        stop: threading.Event | None = None,
    ):
        self.target, self.url, self.address = target, url, address
        self.prefetch, self.processing_s = prefetch, processing_s
        self.expected, self.idle_s, self.time_limit_s = expected, idle_s, time_limit_s
        self.stop = stop or threading.Event()
        self.log = ReceiveLog()
        self.errors: list[str] = []
        self.ready = threading.Event()

    def run(self) -> ReceiveLog:
        from proton.reactor import Container

        consumer = self
        base = _handler_base()

        class Handler(_ClosesOnce, base):
            def __init__(self):
                super().__init__(prefetch=consumer.prefetch, auto_accept=False)
                self.closed = False
                _guard_reads(self)

            def on_start(self, event):
                self.container = event.container
                self.began = time.monotonic()
                self.last = self.began
                self.connection = event.container.connect(
                    consumer.url,
                    reconnect=False,
                    idle_timeout=IDLE_TIMEOUT_S,
                    **consumer.target.amqp_options(),
                )
                event.container.create_receiver(
                    self.connection, consumer.address, options=QueueCapability()
                )
                event.container.schedule(0.05, self)

            def on_link_opened(self, event):
                consumer.ready.set()

            def on_message(self, event):
                if self.closed or (
                    consumer.expected is not None and len(consumer.log.ids) >= consumer.expected
                ):
                    # Prefetched beyond what was asked for: hand it back to the queue.
                    self.release(event.delivery, delivered=False)
                    return
                if consumer.processing_s:
                    time.sleep(consumer.processing_s)
                properties = event.message.properties or {}
                consumer.log.record(
                    int(properties.get(ID_PROPERTY, -1)), int(properties.get(SENT_PROPERTY, 0))
                )
                self.accept(event.delivery)
                self.last = time.monotonic()
                if consumer.expected is not None and len(consumer.log.ids) >= consumer.expected:
                    self.finish()

            def on_timer_task(self, event):
                if self.closed:
                    return
                now = time.monotonic()
                idle = consumer.idle_s is not None and now - self.last > consumer.idle_s
                if consumer.stop.is_set() or idle or now - self.began > consumer.time_limit_s:
                    self.finish()
                    return
                event.container.schedule(0.05, self)

            def on_transport_error(self, event):
                condition = event.transport.condition
                consumer.errors.append(str(condition.description if condition else "closed"))
                self.closed = True
                consumer.ready.set()

            def on_connection_error(self, event):
                self.on_transport_error(event)

        # Should a delivery still fail to read (see _guard_reads), it was not accepted, so
        # the broker redelivers it: read on over a new connection, into the same log.
        for attempt in range(READ_ATTEMPTS):
            try:
                Container(Handler()).run()
                break
            except TypeError as error:
                if "bytes-like" not in str(error) or attempt + 1 == READ_ATTEMPTS:
                    raise
                self.errors.append(f"a delivery could not be read ({error}); read on")
                gc.collect()  # closes the failed container's socket: the broker redelivers
        return self.log


MANAGEMENT_ADDRESS = "activemq.management"  # Artemis' default management-address


def artemis_manage(target: Target, url: str, operation: str, *parameters) -> object:
    """Invoke an operation of the broker's management (e.g. ``addAddressSettings``).

    Artemis "Management", "Using Management Message API": a message to the management
    address naming the resource (``_AMQ_ResourceName``) and the operation
    (``_AMQ_OperationName``), the parameters a JSON array in the body; the answer goes to
    ``reply_to`` (here a temporary queue) with ``_AMQ_OperationSucceeded``.
    """
    import json

    from proton import Message
    from proton.utils import BlockingConnection

    try:
        connection = BlockingConnection(url, timeout=CONNECT_TIMEOUT_S, **target.amqp_options())
    except Exception as error:  # proton raises several unrelated types
        raise DriverError(f"target {target.describe()}: management connection: {error}") from None
    try:
        replies = connection.create_receiver(None, dynamic=True)
        sender = connection.create_sender(MANAGEMENT_ADDRESS)
        request = Message(
            body=json.dumps(list(parameters)),
            reply_to=replies.remote_source.address,
            properties={"_AMQ_ResourceName": "broker", "_AMQ_OperationName": operation},
        )
        sender.send(request, timeout=CONNECT_TIMEOUT_S)
        answer = replies.receive(timeout=CONNECT_TIMEOUT_S)
        replies.accept()
    except Exception as error:
        raise DriverError(f"target {target.describe()}: management {operation}: {error}") from None
    finally:
        with contextlib.suppress(Exception):
            connection.close()
    if not (answer.properties or {}).get("_AMQ_OperationSucceeded"):
        raise DriverError(f"target {target.describe()}: {operation} failed: {answer.body}")
    return answer.body


def amqp_drain(
    target: Target,
    url: str,
    address: str,
    *,
    idle_s: float = 2.0,
    time_limit_s: float = 60.0,
    expected: int | None = None,
) -> ReceiveLog:
    """What a queue still holds, read until ``expected`` came or it stayed quiet ``idle_s``.

    A broker that has just restarted may pause for seconds while it loads its journal on a
    busy machine: callers reading after a restart pass a generous ``idle_s``.
    """
    consumer = AmqpConsumer(
        target,
        url,
        address,
        prefetch=500,
        idle_s=idle_s,
        time_limit_s=time_limit_s,
        expected=expected,
    )
    return consumer.run()


def run_threads(*targets: Callable[[], object]) -> list:
    """Run callables in threads; return their results (re-raise the first exception)."""
    results: list = [None] * len(targets)
    failures: list[BaseException] = []

    def runner(index: int, function: Callable[[], object]) -> None:
        try:
            results[index] = function()
        except BaseException as error:  # handed to the caller below
            failures.append(error)

    threads = [
        threading.Thread(target=runner, args=(i, f), daemon=True) for i, f in enumerate(targets)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return results


def check_cancel(should_cancel: Callable[[], bool]) -> None:
    if should_cancel():
        raise Cancelled("the run was cancelled")
