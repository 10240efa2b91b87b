"""Push vs pull (T1): what a slow consumer does to each model.

Both sides run a producer at a fixed target rate and one consumer that spends
``processing_ms`` on each message, all as threads talking over loopback TCP sockets.

- push: a broker accepts each message into a buffer of ``broker_buffer`` messages and
  pushes to the consumer as long as fewer than ``prefetch`` are unacknowledged. When the
  buffer is full its flow control holds the producer's receipt back (ActiveMQ's producer
  flow control, Artemis's BLOCK policy), so the producer falls behind its schedule.
- pull: a log server appends every message and answers at once; the consumer fetches up to
  ``batch_size`` messages from its offset whenever it is ready (a long poll of 50 ms when
  there is nothing new), so the backlog waits in the log.

When the consumer is slower than the producer, push keeps a bounded backlog by slowing the
producer (send delay grows) and pull keeps the producer on schedule while the backlog and
end-to-end latency grow. End-to-end latency is measured from the producer's actual send.
"""

from __future__ import annotations

import collections
import socket
import threading
import time
from collections.abc import Callable

from advisor.demos.errors import Cancelled, DriverError
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

SIDE_TIME_LIMIT_S = 90.0
LONG_POLL_S = 0.05


def reader_and_writer(connection: socket.socket):
    """Separate text files for reading and writing one socket.

    One "rw" TextIOWrapper would do, except that its ``write`` throws away text it has read
    ahead but not yet returned, which loses pipelined messages.
    """
    reader = connection.makefile("r", encoding="utf-8", newline="\n")
    writer = connection.makefile("w", encoding="utf-8", newline="\n")
    return reader, writer


def loopback_pair() -> tuple[socket.socket, socket.socket]:
    """A connected pair of TCP sockets on 127.0.0.1 (client end, server end), no Nagle."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        client = socket.create_connection(listener.getsockname())
        server, _ = listener.accept()
    for end in (client, server):
        end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return client, server


class Recorder:
    """Time stamps of one side's run, appended by the threads that see each event."""

    def __init__(self, messages: int):
        self.messages = messages
        self.intended: list[float] = []
        self.sent: list[float] = []
        self.acked: list[float] = []
        self.done: list[tuple[int, float]] = []
        self.stop = threading.Event()
        self.errors: list[BaseException] = []


def _guarded(recorder: Recorder, work: Callable[[], None]) -> Callable[[], None]:
    """Run ``work`` in a thread, keeping its exception and stopping the others on failure."""

    def target() -> None:
        try:
            work()
        except (OSError, ValueError) as error:
            if not recorder.stop.is_set():  # errors after a stop are sockets being closed
                recorder.errors.append(error)
                recorder.stop.set()

    return target


def _produce(recorder: Recorder, connection: socket.socket, rate_per_s: int, body: str) -> None:
    reader, writer = reader_and_writer(connection)
    schedule = FixedRateSchedule(rate_per_s)
    for message_id in range(recorder.messages):
        if recorder.stop.is_set():
            return
        intended = schedule.wait_for(message_id)
        sent = time.perf_counter()
        writer.write(f"SEND {message_id} {sent} {body}\n")
        writer.flush()
        if not reader.readline():
            return
        recorder.acked.append(time.perf_counter())
        recorder.intended.append(intended)
        recorder.sent.append(sent)


def _process(recorder: Recorder, message_id: int, processing_s: float) -> None:
    if processing_s:
        time.sleep(processing_s)  # the slow consumer's work
    recorder.done.append((message_id, time.perf_counter()))


def _run_push(recorder: Recorder, parameters: dict) -> list[threading.Thread]:
    producer_end, broker_in = loopback_pair()
    broker_out, consumer_end = loopback_pair()
    condition = threading.Condition()
    queue: collections.deque = collections.deque()
    state = {"in_flight": 0}
    buffer, prefetch = parameters["broker_buffer"], parameters["prefetch"]
    processing_s = parameters["processing_ms"] / 1000

    def accept_from_producer() -> None:
        reader, writer = reader_and_writer(broker_in)
        for _ in range(recorder.messages):
            line = reader.readline()
            if not line:
                return
            with condition:
                while len(queue) >= buffer and not recorder.stop.is_set():
                    condition.wait(0.1)  # flow control: the receipt waits for room
                queue.append(line)
                condition.notify_all()
            writer.write("OK\n")
            writer.flush()

    def dispatch_to_consumer() -> None:
        writer = broker_out.makefile("w", encoding="utf-8", newline="\n")
        for _ in range(recorder.messages):
            with condition:
                while not (queue and state["in_flight"] < prefetch):
                    if recorder.stop.is_set():
                        return
                    condition.wait(0.1)
                line = queue.popleft()
                state["in_flight"] += 1
                condition.notify_all()
            writer.write("MSG " + line[len("SEND ") :])
            writer.flush()

    def read_acks() -> None:
        reader = broker_out.makefile("r", encoding="utf-8", newline="\n")
        for _ in range(recorder.messages):
            if not reader.readline():
                return
            with condition:
                state["in_flight"] -= 1
                condition.notify_all()

    def consume() -> None:
        reader, writer = reader_and_writer(consumer_end)
        for _ in range(recorder.messages):
            line = reader.readline()
            if not line:
                return
            message_id = int(line.split(" ", 2)[1])
            _process(recorder, message_id, processing_s)
            writer.write(f"ACK {message_id}\n")
            writer.flush()

    sockets = [producer_end, broker_in, broker_out, consumer_end]
    works = [accept_from_producer, dispatch_to_consumer, read_acks, consume]
    works.append(
        lambda: _produce(recorder, producer_end, parameters["target_rate"], _body(parameters))
    )
    return _start(recorder, works, sockets)


def _run_pull(recorder: Recorder, parameters: dict) -> list[threading.Thread]:
    producer_end, log_in = loopback_pair()
    consumer_end, log_out = loopback_pair()
    condition = threading.Condition()
    log: list[str] = []
    processing_s = parameters["processing_ms"] / 1000

    def append_from_producer() -> None:
        reader, writer = reader_and_writer(log_in)
        for _ in range(recorder.messages):
            line = reader.readline()
            if not line:
                return
            with condition:
                log.append(line)
                condition.notify_all()
            writer.write("OK\n")
            writer.flush()

    def serve_fetches() -> None:
        reader, writer = reader_and_writer(log_out)
        while not recorder.stop.is_set():
            line = reader.readline()
            if not line:
                return
            _, offset_text, limit_text = line.split()
            offset, limit = int(offset_text), int(limit_text)
            with condition:
                if len(log) <= offset:
                    condition.wait(LONG_POLL_S)
                batch = log[offset : offset + limit]
            writer.write(f"BATCH {len(batch)}\n" + "".join("MSG " + m[5:] for m in batch))
            writer.flush()

    def consume() -> None:
        reader, writer = reader_and_writer(consumer_end)
        offset = 0
        while offset < recorder.messages and not recorder.stop.is_set():
            writer.write(f"FETCH {offset} {parameters['batch_size']}\n")
            writer.flush()
            header = reader.readline()
            if not header:
                return
            for _ in range(int(header.split()[1])):
                message_id = int(reader.readline().split(" ", 2)[1])
                _process(recorder, message_id, processing_s)
                offset += 1

    sockets = [producer_end, log_in, consumer_end, log_out]
    works = [append_from_producer, serve_fetches, consume]
    works.append(
        lambda: _produce(recorder, producer_end, parameters["target_rate"], _body(parameters))
    )
    return _start(recorder, works, sockets)


def _body(parameters: dict) -> str:
    return "x" * parameters["message_size"]


def _start(
    recorder: Recorder, works: list[Callable[[], None]], sockets: list[socket.socket]
) -> list[threading.Thread]:
    recorder.sockets = sockets  # type: ignore[attr-defined]
    threads = [threading.Thread(target=_guarded(recorder, work), daemon=True) for work in works]
    for thread in threads:
        thread.start()
    return threads


def _wait(recorder: Recorder, threads: list[threading.Thread], context: RunContext) -> None:
    """Wait for the consumer to finish, reporting progress; always close every socket."""
    deadline = time.monotonic() + SIDE_TIME_LIMIT_S
    try:
        while len(recorder.done) < recorder.messages:
            context.check_cancel()
            if recorder.errors:
                raise DriverError(f"push_pull side failed: {recorder.errors[0]}")
            if time.monotonic() > deadline:
                raise DriverError("push_pull side did not finish in time")
            done = len(recorder.done)
            context.progress(done / recorder.messages, f"{done:,} consumed")
            time.sleep(0.02)
    except (Cancelled, DriverError):
        recorder.stop.set()
        raise
    finally:
        recorder.stop.set()
        for end in recorder.sockets:  # type: ignore[attr-defined]
            end.close()  # unblocks any thread still reading
        for thread in threads:
            thread.join(timeout=2)


def _summarise(recorder: Recorder, label: str, model: str, **extra) -> dict:
    total = len(recorder.acked)
    warm = warmup_count(total)
    publish_latency, send_delay, end_to_end = (
        LatencyHistogram(),
        LatencyHistogram(),
        (LatencyHistogram()),
    )
    for index in range(warm, total):
        publish_latency.record((recorder.acked[index] - recorder.sent[index]) * 1e9)
        send_delay.record((recorder.sent[index] - recorder.intended[index]) * 1e9)
    for message_id, moment in recorder.done:
        if message_id >= warm:
            end_to_end.record((moment - recorder.sent[message_id]) * 1e9)
    done_times = sorted(moment for _, moment in recorder.done)
    start, end = recorder.sent[0], done_times[-1]
    backlog = level_series(recorder.acked, done_times, start, end)
    measured_done = [moment for message_id, moment in recorder.done if message_id >= warm]
    return side_metrics(
        label=label,
        model=model,
        publish_rate=rate(total - warm - 1, recorder.acked[-1] - recorder.acked[warm]),
        consume_rate=rate(len(measured_done) - 1, max(measured_done) - min(measured_done)),
        publish_latency=publish_latency,
        end_to_end_latency=end_to_end,
        backlog=backlog,
        publish_rate_series=rate_series(recorder.acked, start, recorder.acked[-1]),
        send_delay=send_delay,
        max_backlog=max(point[1] for point in backlog),
        produced=total,
        consumed=len(recorder.done),
        producer_seconds=round(recorder.acked[-1] - start, 4),
        **extra,
    )


def run(parameters: dict, context: RunContext) -> dict:
    """Run push then pull on the same workload and compare them."""
    scenario = SCENARIOS["push_pull"]
    sides = {}
    plan = (
        ("broker", "Push with a prefetch window", scenario.broker_model, _run_push, (0, 0.5)),
        ("log", "Pull in batches", scenario.log_model, _run_pull, (0.5, 1)),
    )
    for key, label, model, start_side, (low, high) in plan:
        recorder = Recorder(parameters["messages"])
        threads = start_side(recorder, parameters)
        _wait(recorder, threads, context.phase(low, high, label))
        extra = (
            {"prefetch": parameters["prefetch"], "broker_buffer": parameters["broker_buffer"]}
            if key == "broker"
            else {"batch_size": parameters["batch_size"]}
        )
        sides[key] = _summarise(recorder, label, model, **extra)
    findings = {
        key: {
            "max_backlog": side["max_backlog"],
            "send_delay_p99_ms": side["send_delay_ms"]["p99"],
            "end_to_end_p99_ms": side["end_to_end_latency_ms"]["p99"],
            "producer_seconds": side["producer_seconds"],
        }
        for key, side in sides.items()
    }
    return {"sides": sides, "findings": findings, "summary": _summary(sides, parameters)}


def _summary(sides: dict, parameters: dict) -> str:
    push, pull = sides["broker"], sides["log"]
    setting = (
        f"With a consumer needing {format_ms(parameters['processing_ms'])} a message and a "
        f"producer aiming at {parameters['target_rate']:,} msgs/s, "
    )
    push_delay, pull_delay = push["send_delay_ms"]["p99"], pull["send_delay_ms"]["p99"]
    if push["max_backlog"] >= pull["max_backlog"] or push_delay <= pull_delay:
        return setting + (
            f"the consumer kept up, so push and pull behaved alike (backlog at most "
            f"{push['max_backlog']:,} vs {pull['max_backlog']:,}; end-to-end p99 "
            f"{format_ms(push['end_to_end_latency_ms']['p99'])} vs "
            f"{format_ms(pull['end_to_end_latency_ms']['p99'])}): T1's difference shows only"
            f" when the consumer is slower than the producer."
        )
    return setting + (
        f"push kept the backlog at {push['max_backlog']:,} messages or fewer by holding the "
        f"producer back (send delay p99 {format_ms(push_delay)}, end-to-end p99 "
        f"{format_ms(push['end_to_end_latency_ms']['p99'])}) while pull let the producer keep "
        f"its pace (send delay p99 {format_ms(pull_delay)}) and the backlog grew to "
        f"{pull['max_backlog']:,} (end-to-end p99 "
        f"{format_ms(pull['end_to_end_latency_ms']['p99'])}): "
        f"T1, the broker takes charge of delivery, the log lets consumers read at their pace."
    )
