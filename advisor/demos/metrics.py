"""Measuring like OpenMessaging Benchmark: histograms, rates, schedules and machine facts.

Latency percentiles come from :class:`LatencyHistogram`, a log-bucketed histogram in the
manner of HdrHistogram (Gil Tene's design): values below ``2 ** precision_bits`` are
counted exactly; above that each power-of-two range is split into ``2 ** (precision_bits-1)``
equal sub-buckets, so a reported percentile is never more than ``1 / 2 ** (precision_bits-1)``
above the true sample (0.1 % with the default 11 bits) and never below it. Percentiles are
read as the highest value equivalent to the bucket that holds the rank, as HdrHistogram does.
No averages are reported anywhere.
"""

from __future__ import annotations

import math
import os
import platform
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from advisor.demos.errors import Cancelled

# The percentiles OMB reports, in the order charts show them.
PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 50.0),
    ("p75", 75.0),
    ("p95", 95.0),
    ("p99", 99.0),
    ("p99.9", 99.9),
)
# Samples recorded before this share of a side's messages are warm-up and discarded.
WARMUP_FRACTION = 0.1


class LatencyHistogram:
    """Counts of integer nanosecond values in log-scaled buckets (see the module docstring)."""

    def __init__(self, precision_bits: int = 11):
        self.precision_bits = precision_bits
        self.exact_limit = 1 << precision_bits
        self.half = self.exact_limit >> 1
        self.counts: dict[int, int] = {}
        self.total = 0
        self.max_value = 0

    def record(self, value_ns: int | float) -> None:
        """Count one value (nanoseconds; negatives are clamped to 0)."""
        value = max(0, int(value_ns))
        index = self._index(value)
        self.counts[index] = self.counts.get(index, 0) + 1
        self.total += 1
        if value > self.max_value:
            self.max_value = value

    def record_many(self, values_ns: Iterable[int | float]) -> None:
        for value in values_ns:
            self.record(value)

    def _index(self, value: int) -> int:
        if value < self.exact_limit:
            return value
        shift = value.bit_length() - self.precision_bits
        sub_bucket = value >> shift  # in [half, exact_limit)
        return self.exact_limit + (shift - 1) * self.half + (sub_bucket - self.half)

    def _highest_equivalent(self, index: int) -> int:
        if index < self.exact_limit:
            return index
        shift = (index - self.exact_limit) // self.half + 1
        sub_bucket = (index - self.exact_limit) % self.half + self.half
        return ((sub_bucket + 1) << shift) - 1

    def value_at_percentile(self, percentile: float) -> int:
        """The smallest bucket value that at least ``percentile`` % of samples do not exceed."""
        if self.total == 0:
            return 0
        # Rounded first so that 99.9 % of 1000 is rank 999, not 1000 through float error.
        rank = max(1, math.ceil(round(percentile * self.total / 100.0, 9)))
        seen = 0
        for index in sorted(self.counts):
            seen += self.counts[index]
            if seen >= rank:
                # Never report more than the true maximum (the top bucket may be wide).
                return min(self._highest_equivalent(index), self.max_value)
        return self.max_value

    def percentiles_ms(self) -> dict[str, float]:
        """OMB's latency summary in milliseconds: p50, p75, p95, p99, p99.9 and max."""
        summary = {
            key: round(self.value_at_percentile(percentile) / 1e6, 4)
            for key, percentile in PERCENTILES
        }
        summary["max"] = round(self.max_value / 1e6, 4)
        return summary


def histogram_of_seconds(durations_s: Iterable[float]) -> LatencyHistogram:
    """A histogram of durations given in seconds."""
    histogram = LatencyHistogram()
    for duration in durations_s:
        histogram.record(duration * 1e9)
    return histogram


def warmup_count(total: int) -> int:
    """How many leading samples of a side are warm-up (at least one when there are several)."""
    return min(total - 1, max(1, int(total * WARMUP_FRACTION))) if total > 1 else 0


def rate(count: int, seconds: float) -> float:
    """Events per second, rounded for display; 0 when nothing was timed."""
    return round(count / seconds, 1) if seconds > 0 else 0.0


def series_interval(duration_s: float, points: int = 50) -> float:
    """A bucket width giving about ``points`` points, never under 10 ms."""
    return max(0.01, duration_s / points)


def rate_series(
    event_times: Sequence[float], start: float, end: float, interval: float | None = None
) -> list[list[float]]:
    """Events per second in consecutive buckets: ``[[t_seconds_since_start, rate], ...]``."""
    duration = max(end - start, 1e-9)
    interval = interval or series_interval(duration)
    buckets = max(1, math.ceil(duration / interval))
    counts = [0] * buckets
    for moment in event_times:
        bucket = int((moment - start) / interval)
        if 0 <= bucket < buckets:
            counts[bucket] += 1
        elif bucket == buckets:  # an event exactly at ``end``
            counts[-1] += 1
    return [[round(i * interval, 4), round(count / interval, 1)] for i, count in enumerate(counts)]


def level_series(
    up_times: Sequence[float],
    down_times: Sequence[float],
    start: float,
    end: float,
    interval: float | None = None,
) -> list[list[float]]:
    """A level over time (e.g. backlog = produced - consumed) sampled at bucket ends.

    ``up_times`` raise the level by one each, ``down_times`` lower it; both must be sorted.
    """
    duration = max(end - start, 1e-9)
    interval = interval or series_interval(duration)
    points = []
    up_index = down_index = 0
    steps = max(1, math.ceil(duration / interval))
    for step in range(steps + 1):
        moment = start + min(step * interval, duration)
        while up_index < len(up_times) and up_times[up_index] <= moment:
            up_index += 1
        while down_index < len(down_times) and down_times[down_index] <= moment:
            down_index += 1
        points.append([round(moment - start, 4), up_index - down_index])
    return points


class FixedRateSchedule:
    """Intended send times at a fixed target rate, as OMB's load generator keeps them.

    A rate of 0 means "as fast as possible": every message is due at once and the send
    delay is then meaningless (reported as zeros). Waiting sleeps while far from the slot
    and yields the GIL close to it, so other threads (flushers, consumers) still run.
    """

    def __init__(self, target_rate: float, start: float | None = None):
        self.target_rate = target_rate
        self.start = time.perf_counter() if start is None else start

    def intended(self, index: int) -> float:
        if self.target_rate <= 0:
            return self.start
        return self.start + index / self.target_rate

    def wait_for(self, index: int) -> float:
        """Block until message ``index`` is due; return its intended send time."""
        due = self.intended(index)
        while True:
            remaining = due - time.perf_counter()
            if remaining <= 0:
                return due
            time.sleep(remaining if remaining > 0.0005 else 0)


def machine_facts(data_dir: Path) -> dict:
    """CPU count, the file system holding ``data_dir`` and the interpreter, for the record."""
    filesystem = filesystem_of(data_dir)
    return {
        "cpu_count": os.cpu_count(),
        "filesystem": filesystem,
        "data_dir": str(data_dir),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }


def filesystem_of(path: Path, mounts_file: str = "/proc/mounts") -> str:
    """The file system type of the mount holding ``path`` (longest mount-point prefix)."""
    resolved = str(Path(path).resolve())
    best_mount, best_type = "", "unknown"
    try:
        with open(mounts_file, encoding="utf-8") as mounts:
            for line in mounts:
                fields = line.split()
                if len(fields) < 3:
                    continue
                # /proc/mounts escapes spaces in mount points as \040.
                mount_point = fields[1].replace("\\040", " ")
                inside = resolved == mount_point or resolved.startswith(
                    mount_point.rstrip("/") + "/"
                )
                if inside and len(mount_point) >= len(best_mount):
                    best_mount, best_type = mount_point, fields[2]
    except OSError:
        return "unknown"
    return best_type


def format_ms(value: float) -> str:
    """A latency in the words a reader expects: 10.5 µs, 3.93 ms, 20.6 ms, 1,237 ms, 12.4 s.

    Three significant figures at most (a histogram is no more precise than that), thousands
    separated, and the unit changed where a number would otherwise need many zeros.
    """
    if value < 0.1:
        return f"{value * 1000:.3g} µs"
    if value < 100:
        return f"{value:.3g} ms"
    if value < 10_000:
        return f"{value:,.0f} ms"
    return f"{value / 1000:,.1f} s"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class RunContext:
    """What a scenario runner needs from its caller: progress, cancellation, a work dir.

    ``phase(start, end, label)`` gives a child context whose progress 0..1 maps onto
    ``start..end`` of this one, so each part of a scenario reports its own fraction; its
    messages name the part ("Broker side: 1,200 of 2,000 acknowledged"), so a count of
    one side is never read as the whole run's (the page shows the run's percentage).
    Progress calls are throttled to about ten a second, except the final one.
    """

    def __init__(
        self,
        workdir: Path,
        progress: Callable[[float, str], None] | None = None,
        should_cancel: Callable[[], bool] | None = None,
        *,
        low: float = 0.0,
        high: float = 1.0,
        label: str = "",
        _shared: dict | None = None,
    ):
        self.workdir = workdir
        self._progress = progress or (lambda fraction, message: None)
        self._should_cancel = should_cancel or (lambda: False)
        self.low, self.high = low, high
        self.label = label
        self._shared = _shared if _shared is not None else {"last_report": 0.0}

    def phase(self, start: float, end: float, label: str = "") -> RunContext:
        span = self.high - self.low
        return RunContext(
            self.workdir,
            self._progress,
            self._should_cancel,
            low=self.low + span * start,
            high=self.low + span * end,
            label=label or self.label,
            _shared=self._shared,
        )

    def progress(self, fraction: float, message: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._shared["last_report"] < 0.1:
            return
        self._shared["last_report"] = now
        clamped = min(1.0, max(0.0, fraction))
        if self.label:
            message = f"{self.label}: {message}"
        self._progress(round(self.low + (self.high - self.low) * clamped, 4), message)

    def cancelling_when(self, check: Callable[[], bool]) -> RunContext:
        """This context, also cancelled when ``check()`` says yes (e.g. a deadline passed)."""
        asked = self._should_cancel
        return RunContext(
            self.workdir,
            self._progress,
            lambda: check() or asked(),
            low=self.low,
            high=self.high,
            label=self.label,
            _shared=self._shared,
        )

    def check_cancel(self) -> None:
        """Raise :class:`Cancelled` when the caller asked to stop."""
        if self._should_cancel():
            raise Cancelled("the run was cancelled")

    def cancel_requested(self) -> bool:
        """Whether the caller asked to stop, without raising.

        Asking is also how a caller learns the run is alive (the worker's heartbeat), so a
        driver whose measuring blocks for long (a broker restarting) asks from another thread.
        """
        return bool(self._should_cancel())


def side_metrics(
    *,
    label: str,
    model: str,
    publish_rate: float,
    consume_rate: float,
    publish_latency: LatencyHistogram,
    end_to_end_latency: LatencyHistogram,
    backlog: list[list[float]],
    publish_rate_series: list[list[float]],
    send_delay: LatencyHistogram,
    **counts: object,
) -> dict:
    """One side of the comparison in OMB's shape, plus scenario-specific counts."""
    return {
        "label": label,
        "model": model,
        "publish_rate": publish_rate,
        "consume_rate": consume_rate,
        "publish_latency_ms": publish_latency.percentiles_ms(),
        "end_to_end_latency_ms": end_to_end_latency.percentiles_ms(),
        "backlog": backlog,
        "publish_rate_series": publish_rate_series,
        "send_delay_ms": send_delay.percentiles_ms(),
        **counts,
    }
