"""Durability (T4, M2): fdatasync before each ack vs acknowledging from the page cache.

Both sides append the same messages to a real file in the run's work directory at the same
target rate. The broker side calls ``os.fdatasync`` after each write and acknowledges only
when it returns (Artemis syncs its journal by default, with ``journal-datasync``). The log
side acknowledges as soon as ``os.write`` has put the bytes in the page cache, and a
background thread fdatasyncs every ``flush_interval_ms`` (Kafka's ``flush.ms``; Kafka itself
leaves flushing to the OS).

A power loss cannot be staged here, so it is counted exactly instead: every acknowledgement
and every completed sync is time-stamped as it happens (a sync covers the messages that
were written before it started), and the crash is an instant drawn at random from the seed
inside the measured window. Acknowledged-but-not-durable at that instant is the number of
acks up to it minus the messages covered by the syncs completed up to it.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

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

# A side that takes longer than this stops early (a safety net behind the parameter bounds).
SIDE_TIME_LIMIT_S = 60.0
CHECK_EVERY = 256  # messages between progress reports and cancel checks


@dataclass
class SideRun:
    """What happened on one side, time-stamped with ``time.perf_counter``."""

    intended: list[float] = field(default_factory=list)
    sent: list[float] = field(default_factory=list)
    acked: list[float] = field(default_factory=list)
    # (time the sync returned, messages it covers), in time order, coverage non-decreasing.
    syncs: list[tuple[float, int]] = field(default_factory=list)
    stopped_early: bool = False

    def at_risk(self, moment: float) -> int:
        """Messages acknowledged by ``moment`` that no completed sync covered by then."""
        acknowledged = bisect.bisect_right(self.acked, moment)
        completed = bisect.bisect_right([t for t, _ in self.syncs], moment)
        covered = self.syncs[completed - 1][1] if completed else 0
        return max(0, acknowledged - covered)

    def durable_times(self) -> list[float]:
        """For each message, when the first sync covering it returned (inf if none did)."""
        times, message = [], 0
        for moment, covered in self.syncs:
            while message < covered and message < len(self.acked):
                times.append(moment)
                message += 1
        times.extend([float("inf")] * (len(self.acked) - len(times)))
        return times


def append_messages(
    path: Path,
    payload: bytes,
    *,
    messages: int,
    target_rate: float,
    sync_each: bool,
    flush_interval_s: float,
    context: RunContext,
) -> SideRun:
    """Append ``messages`` copies of ``payload`` to ``path`` and record acks and syncs."""
    run = SideRun()
    lock = threading.Lock()  # orders the flusher's read of the ack count against new acks
    acknowledged = 0
    stop_flusher = threading.Event()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)

    def flush_periodically() -> None:
        while not stop_flusher.wait(flush_interval_s):
            with lock:
                covered = acknowledged
            os.fdatasync(descriptor)  # covers every write that returned before this call
            with lock:
                run.syncs.append((time.perf_counter(), covered))

    flusher = None
    if not sync_each:
        flusher = threading.Thread(target=flush_periodically, name="log-flusher", daemon=True)
        flusher.start()
    schedule = FixedRateSchedule(target_rate)
    deadline = schedule.start + SIDE_TIME_LIMIT_S
    try:
        for index in range(messages):
            if index % CHECK_EVERY == 0:
                context.check_cancel()
                context.progress(index / messages, f"{index:,} of {messages:,} acknowledged")
                if time.perf_counter() > deadline:
                    run.stopped_early = True
                    break
            intended = schedule.wait_for(index)
            sent = time.perf_counter()
            os.write(descriptor, payload)
            if sync_each:
                os.fdatasync(descriptor)
                run.syncs.append((time.perf_counter(), index + 1))
            with lock:
                acknowledged = index + 1
                run.acked.append(time.perf_counter())
            run.intended.append(intended)
            run.sent.append(sent)
    finally:
        stop_flusher.set()
        if flusher is not None:
            flusher.join()
        with contextlib.suppress(OSError):
            os.fdatasync(descriptor)  # a clean shutdown; the crash was counted, not staged
        os.close(descriptor)
    return run


def summarise_side(
    run: SideRun,
    *,
    label: str,
    model: str,
    crash_fraction: float,
    target_rate: float,
) -> tuple[dict, dict]:
    """The side's OMB-shaped metrics and its crash findings."""
    total = len(run.acked)
    warm = warmup_count(total)
    measured = range(warm, total)
    first, last = (run.acked[warm], run.acked[-1]) if total else (0.0, 0.0)
    publish_latency, durable_latency, send_delay = (LatencyHistogram() for _ in range(3))
    durable_times = run.durable_times()
    for index in measured:
        publish_latency.record((run.acked[index] - run.sent[index]) * 1e9)
        if durable_times[index] != float("inf"):
            durable_latency.record((durable_times[index] - run.sent[index]) * 1e9)
        if target_rate > 0:
            send_delay.record((run.sent[index] - run.intended[index]) * 1e9)
    if target_rate <= 0:
        send_delay.record(0)  # no schedule: every message was due at once
    crash_at = first + crash_fraction * (last - first)
    at_risk = run.at_risk(crash_at)
    durable_in_window = sum(1 for index in measured if durable_times[index] <= last)
    sync_times = [moment for moment, _ in run.syncs]
    start = run.acked[0] if total else 0.0
    risk_series = _at_risk_series(run, start, last)
    metrics = side_metrics(
        label=label,
        model=model,
        publish_rate=rate(len(measured) - 1, last - first),
        consume_rate=rate(durable_in_window, last - first),
        publish_latency=publish_latency,
        end_to_end_latency=durable_latency,
        backlog=risk_series,
        publish_rate_series=rate_series(run.acked, start, last),
        send_delay=send_delay,
        acked=total,
        warmup_messages=warm,
        syncs=len(sync_times),
        sync_rate=rate(len([t for t in sync_times if first <= t <= last]), last - first),
        acked_not_durable_at_crash=at_risk,
        max_acked_not_durable=max((point[1] for point in risk_series), default=0),
        stopped_early=run.stopped_early,
        meaning={
            "consume_rate": "messages per second reaching stable storage",
            "end_to_end_latency_ms": "from send until a completed sync covers the message",
            "backlog": "messages acknowledged but not yet on stable storage",
        },
    )
    findings = {
        "acked": total,
        "acked_at_crash": bisect.bisect_right(run.acked, crash_at),
        "acked_not_durable_at_crash": at_risk,
        "crash_at_s": round(crash_at - start, 4),
    }
    return metrics, findings


MAX_SYNC_POINTS = 400  # syncs drawn exactly; the broker side syncs every message (level 0-1)


def _at_risk_series(run: SideRun, start: float, end: float) -> list[list[float]]:
    """Acknowledged-but-not-on-disk over time: evenly spaced samples, plus the level just
    before and just after each periodic sync, so the chart draws the sawtooth the flushes
    make (samples alone fall between the teeth and smooth them into a slow slope).
    """
    # Each sync lowers the at-risk level by the messages it newly covered.
    covered_times, previous = [], 0
    for moment, covered in run.syncs:
        covered_times.extend([moment] * (covered - previous))
        previous = covered
    series = level_series(run.acked, covered_times, start, end)
    if len(run.syncs) > MAX_SYNC_POINTS:
        return series
    teeth, previous = [], 0
    for moment, covered in run.syncs:
        if start <= moment <= end:
            acked = bisect.bisect_right(run.acked, moment)
            at = round(moment - start, 4)
            teeth += [[at, max(0, acked - previous)], [at, max(0, acked - covered)]]
        previous = covered
    return sorted(series + teeth, key=lambda point: point[0])


def run(parameters: dict, context: RunContext) -> dict:
    """Measure both sides, count the crash, and say what it showed."""
    scenario = SCENARIOS["durability"]
    directory = context.workdir / "durability"
    directory.mkdir(parents=True, exist_ok=True)
    payload = os.urandom(parameters["message_size"])
    crash_fraction = random.Random(parameters["seed"]).random()
    common = {
        "messages": parameters["messages"],
        "target_rate": parameters["target_rate"],
        "flush_interval_s": parameters["flush_interval_ms"] / 1000,
    }
    sides, findings = {}, {"crash_fraction": round(crash_fraction, 4)}
    plan = (
        ("broker", "Broker: fsync before ack", scenario.broker_model, True, (0.0, 0.5)),
        ("log", "Log: ack from page cache", scenario.log_model, False, (0.5, 1.0)),
    )
    try:
        for key, label, model, sync_each, (low, high) in plan:
            path = directory / f"{key}.data"
            phase = context.phase(low, high, f"{key.capitalize()} side")
            side_run = append_messages(path, payload, sync_each=sync_each, context=phase, **common)
            path.unlink(missing_ok=True)
            sides[key], findings[key] = summarise_side(
                side_run,
                label=label,
                model=model,
                crash_fraction=crash_fraction,
                target_rate=parameters["target_rate"],
            )
    finally:
        for leftover in directory.glob("*.data"):
            leftover.unlink(missing_ok=True)
    return {"sides": sides, "findings": findings, "summary": _summary(sides, parameters)}


def _summary(sides: dict, parameters: dict) -> str:
    broker, log = sides["broker"], sides["log"]
    lost_broker = broker["acked_not_durable_at_crash"]
    lost_log = log["acked_not_durable_at_crash"]
    if lost_log > lost_broker:
        outcome = (
            f"at the crash {lost_broker:,} of the broker side's acknowledged messages were "
            f"off disk against {lost_log:,} of the log side's"
        )
    else:
        outcome = (
            f"the crash fell right after a flush, so neither side had acknowledged messages "
            f"off disk ({lost_broker:,} vs {lost_log:,})"
        )
    return (
        f"Syncing before each ack, the broker side acknowledged {broker['publish_rate']:,.0f} "
        f"msgs/s at p99 {format_ms(broker['publish_latency_ms']['p99'])}; acking from the page "
        f"cache, the log side reached {log['publish_rate']:,.0f} msgs/s at p99 "
        f"{format_ms(log['publish_latency_ms']['p99'])}, and {outcome} "
        f"(flush every {format_ms(parameters['flush_interval_ms'])}): T4, with M2's caveat "
        f"that Kafka relies on replication, not fsync."
    )
