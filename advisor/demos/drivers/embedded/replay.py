"""Replay (T2, T8): a consumer that joins late, on a queue vs on a log.

Both stores are real files in the run's work directory. The queue is a SQLite table from
which receiving a message deletes it in the same statement (``DELETE ... RETURNING``), as
a broker removes a message once it is acknowledged. The log is an append-only segment file
of length-prefixed records; each consumer keeps its own byte offset and reading deletes
nothing.

A first consumer reads ``consumed_percent`` of the messages; then ``late_consumers`` join.
On the queue they compete for what is left, taking turns one message at a time (a
deterministic stand-in for competing consumers); on the log each one reads from offset 0.
"""

from __future__ import annotations

import os
import sqlite3
import struct
import time
from pathlib import Path

from advisor.demos.metrics import (
    LatencyHistogram,
    RunContext,
    level_series,
    rate,
    rate_series,
    side_metrics,
    warmup_count,
)
from advisor.demos.scenarios import SCENARIOS

RECORD_HEADER = struct.Struct(">Qd I")  # message id, produce time, payload length
CHECK_EVERY = 256


class SqliteQueue:
    """A destructive queue: ``receive`` deletes the oldest message as it returns it."""

    def __init__(self, path: Path):
        self.connection = sqlite3.connect(path, isolation_level=None)
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=NORMAL")
        self.connection.execute(
            "CREATE TABLE IF NOT EXISTS queue"
            " (seq INTEGER PRIMARY KEY, message_id INTEGER, produced REAL, body BLOB)"
        )

    def send(self, message_id: int, body: bytes) -> None:
        self.connection.execute(
            "INSERT INTO queue (message_id, produced, body) VALUES (?, ?, ?)",
            (message_id, time.perf_counter(), body),
        )

    def receive(self) -> tuple[int, float] | None:
        row = self.connection.execute(
            "DELETE FROM queue WHERE seq = (SELECT min(seq) FROM queue)"
            " RETURNING message_id, produced"
        ).fetchone()
        return (row[0], row[1]) if row else None

    def close(self) -> None:
        self.connection.close()


class SegmentLog:
    """An append-only file of records; readers keep their own offsets."""

    def __init__(self, path: Path):
        self.path = path
        self.writer = open(path, "ab")  # noqa: SIM115 (closed in close())

    def send(self, message_id: int, body: bytes) -> None:
        self.writer.write(RECORD_HEADER.pack(message_id, time.perf_counter(), len(body)) + body)
        self.writer.flush()  # into the page cache, where a reader sees it

    def reader(self) -> LogReader:
        return LogReader(self.path)

    def close(self) -> None:
        self.writer.close()


class LogReader:
    """A consumer's position in the log, starting at offset 0."""

    def __init__(self, path: Path):
        self.file = open(path, "rb")  # noqa: SIM115 (closed in close())
        self.offset = 0

    def receive(self) -> tuple[int, float] | None:
        header = self.file.read(RECORD_HEADER.size)
        if len(header) < RECORD_HEADER.size:
            return None
        message_id, produced, length = RECORD_HEADER.unpack(header)
        self.file.read(length)
        self.offset = self.file.tell()
        return message_id, produced

    def close(self) -> None:
        self.file.close()


SIDE_LABELS = {"broker": "Queue side", "log": "Log side"}


def _produce(store, messages: int, body: bytes, context: RunContext) -> dict:
    sent, acked = [], []
    for message_id in range(messages):
        if message_id % CHECK_EVERY == 0:
            context.check_cancel()
            context.progress(message_id / messages, f"producing {message_id:,} of {messages:,}")
        started = time.perf_counter()
        store.send(message_id, body)
        sent.append(started)
        acked.append(time.perf_counter())
    return {"sent": sent, "acked": acked}


def _consume(receive, limit: int, context: RunContext) -> list[tuple[int, float, float]]:
    """Receive up to ``limit`` messages: (message id, produced at, consumed at)."""
    received = []
    while len(received) < limit:
        if len(received) % CHECK_EVERY == 0:
            context.check_cancel()
        message = receive()
        if message is None:
            break
        received.append((message[0], message[1], time.perf_counter()))
    return received


def _late_readers_on_queue(queue: SqliteQueue, readers: int, context: RunContext) -> list[int]:
    counts = [0] * readers
    for turn in range(10**9):  # bounded by the queue running dry
        if turn % CHECK_EVERY == 0:
            context.check_cancel()
        if queue.receive() is None:
            break
        counts[turn % readers] += 1
    return counts


def _late_readers_on_log(log: SegmentLog, readers: int, context: RunContext) -> list[int]:
    counts = []
    for _ in range(readers):
        reader = log.reader()
        try:
            counts.append(len(_consume(reader.receive, 10**9, context)))
        finally:
            reader.close()
    return counts


def _side(key: str, store, parameters: dict, body: bytes, context: RunContext) -> tuple[dict, dict]:
    scenario = SCENARIOS["replay"]
    messages = parameters["messages"]
    first_share = messages * parameters["consumed_percent"] // 100
    produced = _produce(store, messages, body, context.phase(0.0, 0.5))
    context.progress(0.5, "first consumer reading", force=True)
    if key == "broker":
        first = _consume(store.receive, first_share, context)
    else:
        reader = store.reader()
        try:
            first = _consume(reader.receive, first_share, context)
        finally:
            reader.close()
    context.progress(0.75, "late consumers joining", force=True)
    readers = parameters["late_consumers"]
    if key == "broker":
        late = _late_readers_on_queue(store, readers, context)
    else:
        late = _late_readers_on_log(store, readers, context)

    warm = warmup_count(messages)
    publish_latency = LatencyHistogram()
    for sent, acked in zip(produced["sent"][warm:], produced["acked"][warm:], strict=True):
        publish_latency.record((acked - sent) * 1e9)
    end_to_end = LatencyHistogram()
    for _, produced_at, consumed_at in first[warmup_count(len(first)) :]:
        end_to_end.record((consumed_at - produced_at) * 1e9)
    start = produced["sent"][0]
    consumed_times = [consumed_at for _, _, consumed_at in first]
    end = max([produced["acked"][-1], *consumed_times])
    first_window = (consumed_times[-1] - consumed_times[0]) if len(first) > 1 else 0.0
    no_send_delay = LatencyHistogram()
    no_send_delay.record(0)  # produced as fast as possible: no schedule to fall behind
    label = "Queue (destructive consume)" if key == "broker" else "Log (offsets, re-readable)"
    model = scenario.broker_model if key == "broker" else scenario.log_model
    metrics = side_metrics(
        label=label,
        model=model,
        publish_rate=rate(messages - warm - 1, produced["acked"][-1] - produced["acked"][warm]),
        consume_rate=rate(len(first) - 1, first_window),
        publish_latency=publish_latency,
        end_to_end_latency=end_to_end,
        backlog=level_series(produced["acked"], consumed_times, start, end),
        publish_rate_series=rate_series(produced["acked"], start, produced["acked"][-1]),
        send_delay=no_send_delay,
        produced=messages,
        consumed_by_first=len(first),
        late_consumer_reads=late,
    )
    findings = {
        "produced": messages,
        "consumed_by_first": len(first),
        "late_consumer_reads": late,
        "readable_by_each_late_consumer": min(late) if late else 0,
    }
    return metrics, findings


def run(parameters: dict, context: RunContext) -> dict:
    """Produce, consume part, let late consumers join; count what each can still read."""
    directory = context.workdir / "replay"
    directory.mkdir(parents=True, exist_ok=True)
    body = os.urandom(parameters["message_size"])
    sides, findings = {}, {}
    stores = (
        ("broker", SqliteQueue, directory / "queue.sqlite", (0.0, 0.5)),
        ("log", SegmentLog, directory / "segment.log", (0.5, 1.0)),
    )
    try:
        for key, store_class, path, (low, high) in stores:
            store = store_class(path)
            try:
                sides[key], findings[key] = _side(
                    key, store, parameters, body, context.phase(low, high, SIDE_LABELS[key])
                )
            finally:
                store.close()
    finally:
        for leftover in directory.iterdir():
            leftover.unlink(missing_ok=True)
    return {"sides": sides, "findings": findings, "summary": _summary(findings, parameters)}


def _summary(findings: dict, parameters: dict) -> str:
    queue, log = findings["broker"], findings["log"]
    readers = parameters["late_consumers"]
    who = "the late consumer" if readers == 1 else f"each of {readers} late consumers"
    return (
        f"After a first consumer read {queue['consumed_by_first']:,} of {queue['produced']:,} "
        f"messages, {who} could still read {_reads(queue['late_consumer_reads'])} on the queue "
        f"(consumed messages are gone) but {_reads(log['late_consumer_reads'])} on the log, "
        f"re-read from offset 0: T2 and T8, a queue hands work out once, a log keeps history."
    )


def _reads(counts: list[int]) -> str:
    if len(set(counts)) == 1:
        return f"{counts[0]:,}"
    return "/".join(f"{count:,}" for count in counts)
