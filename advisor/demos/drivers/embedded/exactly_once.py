"""Exactly-once (T2, T3, M1): consumers killed with SIGKILL mid-processing, three designs.

The same ``messages`` (ids 0..N-1) are produced to a broker and to a log, and three consumer
*processes* (``exactly_once_consumer``) process them while the parent kills each one with
SIGKILL ``kills`` times and restarts it until everything is processed:

- broker: a broker thread here, over loopback TCP, redelivers whatever a dead consumer had
  not acknowledged and drops results whose duplicate id it has already stored (Artemis's
  ``_AMQ_DUPL_ID``): the server enforces exactly-once.
- log: the consumer commits its result and its next offset in one SQLite transaction.
- naive: the consumer commits its result, then its offset separately (at-least-once).

Kill points are drawn from the seed: a message id and a step boundary (before the side
effect, between the side effect and the commit or ack, after the commit). The consumer stops
at that boundary and the parent sends SIGKILL, so the kill lands exactly there; the plan is
the same for all three consumers and always holds at least one kill between side effect
and commit, the window where at-least-once repeats work. Duplicates and losses are counted
from the stored results against the produced ids.
"""

from __future__ import annotations

import collections
import json
import random
import socket
import socketserver
import sqlite3
import threading
import time
from pathlib import Path

from advisor.demos.drivers.embedded.children import ChildProcesses, LineReader
from advisor.demos.errors import DriverError
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

CONSUMER_MODULE = "advisor.demos.drivers.embedded.exactly_once_consumer"
POINTS = ("before_effect", "after_effect", "after_commit")
CONSUMER_TIME_LIMIT_S = 60.0
CHILD_FAILED = "the {mode} consumer exited with status {status}: {stderr}"


class DeduplicatingBroker(socketserver.ThreadingTCPServer):
    """A tiny broker: a queue with redelivery on disconnect and duplicate-id detection."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), BrokerConnection)
        self.lock = threading.Lock()
        self.pending: collections.deque = collections.deque()
        self.in_flight: dict[int, tuple] = {}  # message id -> message, across connections
        self.results: list[tuple[int, int]] = []
        self.seen_duplicate_ids: set[int] = set()
        self.duplicates_dropped = 0
        self.redelivered = 0

    @property
    def port(self) -> int:
        return self.server_address[1]


class BrokerConnection(socketserver.StreamRequestHandler):
    """One client connection: producer (SEND) or consumer (RECEIVE, RESULT, ACK)."""

    server: DeduplicatingBroker

    def handle(self) -> None:
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        held: dict[int, tuple] = {}
        try:
            for raw in self.rfile:
                reply = self.command(raw.decode().rstrip("\n"), held)
                self.wfile.write(reply.encode() + b"\n")
        except OSError:
            pass  # a killed consumer: its connection reset
        finally:
            self.redeliver(held)

    def command(self, line: str, held: dict[int, tuple]) -> str:
        verb, _, rest = line.partition(" ")
        broker = self.server
        with broker.lock:
            if verb == "SEND":
                message_id, produced, body = rest.split(" ", 2)
                broker.pending.append((int(message_id), float(produced), body))
                return "OK"
            if verb == "RECEIVE":
                if not broker.pending:
                    return "WAIT" if broker.in_flight else "EMPTY"
                message = broker.pending.popleft()
                held[message[0]] = broker.in_flight[message[0]] = message
                return f"MSG {message[0]} {message[2]}"
            if verb == "RESULT":
                message_id, value = (int(part) for part in rest.split())
                if message_id in broker.seen_duplicate_ids:
                    broker.duplicates_dropped += 1
                    return "DUPLICATE"
                broker.seen_duplicate_ids.add(message_id)
                broker.results.append((message_id, value))
                return "STORED"
            if verb == "ACK":
                message_id = int(rest)
                held.pop(message_id, None)
                broker.in_flight.pop(message_id, None)
                return "OK"
        return "ERROR unknown command"

    def redeliver(self, held: dict[int, tuple]) -> None:
        """Put a closed connection's unacknowledged messages back at the head, in order."""
        with self.server.lock:
            for message_id in sorted(held, reverse=True):
                self.server.pending.appendleft(held[message_id])
                self.server.in_flight.pop(message_id, None)
                self.server.redelivered += 1


CONSUMER_LABELS = {
    "broker": "Broker deduplication",
    "transactional": "Offset stored with the result",
    "naive": "Naive at-least-once",
}


def kill_plan(seed: int, messages: int, kills: int) -> list[list]:
    """``kills`` (message id, point) pairs, with at least one between effect and commit."""
    generator = random.Random(seed)
    chosen = sorted(generator.sample(range(messages), min(kills, messages)))
    plan = [[message_id, generator.choice(POINTS)] for message_id in chosen]
    if plan and not any(point == "after_effect" for _, point in plan):
        plan[generator.randrange(len(plan))][1] = "after_effect"
    return plan


def _open(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, timeout=30)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    return connection


def _prepare_stores(directory: Path) -> None:
    for name in ("transactional", "naive"):
        with _open(directory / f"consumer-{name}.sqlite") as results:
            results.execute("CREATE TABLE results (message_id INTEGER, value INTEGER)")
    for path, name in (
        (directory / "consumer-transactional.sqlite", "transactional"),
        (directory / "offsets.sqlite", "naive"),
    ):
        connection = _open(path)
        connection.execute("CREATE TABLE IF NOT EXISTS offsets (consumer TEXT, next_offset INT)")
        connection.execute("INSERT INTO offsets VALUES (?, 0)", (name,))
        connection.close()


def _produce_to_log(directory: Path, bodies: list[str], context: RunContext) -> dict:
    log = _open(directory / "log.sqlite")
    log.execute(
        "CREATE TABLE log (offset INTEGER PRIMARY KEY, message_id INT, produced REAL, body TEXT)"
    )
    sent, acked = [], []
    for message_id, body in enumerate(bodies):
        if message_id % 256 == 0:
            context.check_cancel()
        started = time.perf_counter()
        log.execute("INSERT INTO log VALUES (?, ?, ?, ?)", (message_id, message_id, started, body))
        sent.append(started)
        acked.append(time.perf_counter())
    log.close()
    return {"sent": sent, "acked": acked}


def _produce_to_broker(port: int, bodies: list[str], context: RunContext) -> dict:
    sent, acked = [], []
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = connection.makefile("r", encoding="utf-8", newline="\n")
        writer = connection.makefile("w", encoding="utf-8", newline="\n")
        for message_id, body in enumerate(bodies):
            if message_id % 256 == 0:
                context.check_cancel()
            started = time.perf_counter()
            writer.write(f"SEND {message_id} {started} {body}\n")
            writer.flush()
            if reader.readline().strip() != "OK":
                raise DriverError("the demo broker refused a message")
            sent.append(started)
            acked.append(time.perf_counter())
    return {"sent": sent, "acked": acked}


def _consume_with_kills(
    mode: str,
    directory: Path,
    port: int,
    plan: list[list],
    messages: int,
    context: RunContext,
) -> dict:
    """Run one consumer to the end, killing it at each planned point; return what it did."""
    remaining = [list(entry) for entry in plan]
    done: list[tuple[int, float]] = []
    kills = starts = 0
    deadline = time.monotonic() + CONSUMER_TIME_LIMIT_S
    started = time.perf_counter()
    with ChildProcesses() as children:
        finished = False
        while not finished:
            if time.monotonic() > deadline:
                raise DriverError(f"the {mode} consumer did not finish in time")
            arguments = ["--mode", mode, "--workdir", str(directory), "--port", str(port)]
            process = children.start(
                CONSUMER_MODULE, *arguments, "--kill-plan", json.dumps(remaining)
            )
            starts += 1
            outcome = _follow(process, done, messages, context, deadline)
            if outcome == "finished":
                finished = True
                process.wait()
            elif outcome.startswith("paused"):
                _, message_id, point = outcome.split()
                children.kill(process)  # SIGKILL, exactly at the planned point
                kills += 1
                remaining.remove([int(message_id), point])
            else:
                process.wait()
                stderr = process.stderr.read().decode(errors="replace").strip().splitlines()[-3:]
                status = process.returncode
                raise DriverError(
                    CHILD_FAILED.format(mode=mode, status=status, stderr=" | ".join(stderr))
                )
            children.kill_all()
    return {
        "done": done,
        "kills": kills,
        "restarts": starts - 1,
        "started": started,
        "ended": time.perf_counter(),
    }


def _follow(process, done, messages: int, context: RunContext, deadline: float) -> str:
    """Read a consumer's reports until it pauses for its kill, finishes, or exits."""
    reader = LineReader(process)
    while time.monotonic() < deadline:
        context.check_cancel()
        line = reader.next_line(timeout=0.1)
        if line is None:
            continue
        if line == "":
            return "exited"
        if line.startswith("done "):
            _, message_id, moment = line.split()
            done.append((int(message_id), float(moment)))
            context.progress(len(done) / messages, f"{len(done):,} of {messages:,} processed")
        elif line.startswith(("paused", "finished")):
            return line.strip()
    raise DriverError("a consumer did not finish in time")


def _count(results: list[int], messages: int) -> tuple[int, int]:
    """(duplicates, losses) of processed message ids against ids 0..messages-1."""
    counts = collections.Counter(results)
    duplicates = sum(count - 1 for count in counts.values() if count > 1)
    losses = sum(1 for message_id in range(messages) if message_id not in counts)
    return duplicates, losses


def _stored_results(path: Path) -> list[int]:
    connection = _open(path)
    try:
        return [row[0] for row in connection.execute("SELECT message_id FROM results")]
    finally:
        connection.close()


def _side_metrics(
    label: str, model: str, produced: dict, consumed: dict, duplicates: int, losses: int, **extra
) -> dict:
    sent, acked = produced["sent"], produced["acked"]
    warm = warmup_count(len(acked))
    publish_latency = LatencyHistogram()
    for start, end in zip(sent[warm:], acked[warm:], strict=True):
        publish_latency.record((end - start) * 1e9)
    end_to_end = LatencyHistogram()
    done = consumed["done"]
    for message_id, moment in done[warmup_count(len(done)) :]:
        end_to_end.record((moment - sent[message_id]) * 1e9)
    done_times = sorted(moment for _, moment in done)
    no_send_delay = LatencyHistogram()
    no_send_delay.record(0)  # produced as fast as possible: no schedule to fall behind
    start, end = sent[0], max([acked[-1], consumed["ended"]])
    consume_window = consumed["ended"] - consumed["started"]
    return side_metrics(
        label=label,
        model=model,
        publish_rate=rate(len(acked) - warm - 1, acked[-1] - acked[warm]),
        consume_rate=rate(len(acked) - losses, consume_window),
        publish_latency=publish_latency,
        end_to_end_latency=end_to_end,
        backlog=level_series(acked, done_times, start, end),
        publish_rate_series=rate_series(acked, start, acked[-1]),
        send_delay=no_send_delay,
        duplicates=duplicates,
        losses=losses,
        kills=consumed["kills"],
        restarts=consumed["restarts"],
        **extra,
    )


def run(parameters: dict, context: RunContext) -> dict:
    """Produce, consume under kills with each design, count duplicates and losses."""
    scenario = SCENARIOS["exactly_once"]
    messages = parameters["messages"]
    directory = context.workdir / "exactly_once"
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.iterdir():
        leftover.unlink()
    body = "x" * parameters["message_size"]
    bodies = [body] * messages
    plan = kill_plan(parameters["seed"], messages, parameters["kills"])
    broker = DeduplicatingBroker()
    server = threading.Thread(target=broker.serve_forever, name="demo-broker", daemon=True)
    server.start()
    try:
        context.progress(0.0, "producing", force=True)
        to_broker = _produce_to_broker(broker.port, bodies, context)
        to_log = _produce_to_log(directory, bodies, context)
        _prepare_stores(directory)
        consumed = {}
        for index, mode in enumerate(("broker", "transactional", "naive")):
            phase = context.phase(
                0.05 + 0.95 * index / 3, 0.05 + 0.95 * (index + 1) / 3, CONSUMER_LABELS[mode]
            )
            consumed[mode] = _consume_with_kills(
                mode, directory, broker.port, plan, messages, phase
            )
        with broker.lock:
            broker_results = [message_id for message_id, _ in broker.results]
        counted = {
            "broker": _count(broker_results, messages),
            "transactional": _count(
                _stored_results(directory / "consumer-transactional.sqlite"), messages
            ),
            "naive": _count(_stored_results(directory / "consumer-naive.sqlite"), messages),
        }
    finally:
        broker.shutdown()
        broker.server_close()
        for leftover in directory.iterdir():
            leftover.unlink(missing_ok=True)

    sides = {
        "broker": _side_metrics(
            "Broker: duplicate detection",
            scenario.broker_model,
            to_broker,
            consumed["broker"],
            *counted["broker"],
            duplicates_dropped_by_broker=broker.duplicates_dropped,
            redelivered=broker.redelivered,
        ),
        "log": _side_metrics(
            "Log: offset stored with the result",
            scenario.log_model,
            to_log,
            consumed["transactional"],
            *counted["transactional"],
        ),
        "naive": _side_metrics(
            "Naive at-least-once",
            "Commits the result, then the offset separately: a crash between repeats work.",
            to_log,
            consumed["naive"],
            *counted["naive"],
        ),
    }
    findings = {
        key: {
            "produced": messages,
            "duplicates": side["duplicates"],
            "losses": side["losses"],
            "kills": side["kills"],
        }
        for key, side in sides.items()
    }
    findings["kill_plan"] = plan
    return {"sides": sides, "findings": findings, "summary": _summary(sides, messages)}


def _summary(sides: dict, messages: int) -> str:
    broker, log, naive = sides["broker"], sides["log"], sides["naive"]
    kills = broker["kills"]
    designs = (("broker deduplication", broker), ("the offset stored with the result", log))
    outcomes = "; ".join(
        f"{name}: {_in_words(side['duplicates'], 'duplicate')} and "
        f"{_in_words(side['losses'], 'loss', 'losses')}"
        for name, side in designs
    )
    return (
        f"With each consumer killed {kills} times while processing {messages:,} messages, "
        f"the exactly-once designs ended with {outcomes}, while the naive at-least-once "
        f"consumer processed {_in_words(naive['duplicates'], 'message')} twice and lost "
        f"{_in_words(naive['losses'], 'message')}: T3 and M1, exactly-once needs the server or "
        f"the consumer to own it (T2)."
    )


def _in_words(number: int, noun: str, plural: str = "") -> str:
    """'no duplicates', '1 duplicate', '3 duplicates' ('no losses' with plural='losses')."""
    many = plural or f"{noun}s"
    if number == 0:
        return f"no {many}"
    return f"{number:,} {noun if number == 1 else many}"
