"""Compare the durability scenario's fsync rate with a bare write+fdatasync loop.

The bare loop is the physical limit of this file system (DESIGN.md: about 6,800 1 KB
syncs/s here); the scenario's broker side must reach at least 80 % of it, or the demo is
measuring itself rather than the disk. Both run on the same file system, in alternating
rounds so that drift in the disk's speed affects both alike. Prints figures; asserts none.

    .venv/bin/python benchmarks/durability_fsync.py [--messages 5000] [--size 1024] [--dir D]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from advisor.demos.drivers.embedded.durability import append_messages  # noqa: E402
from advisor.demos.metrics import RunContext, filesystem_of, warmup_count  # noqa: E402

GOAL = 0.8


def bare_loop(path: Path, payload: bytes, messages: int) -> float:
    """Syncs per second of the simplest possible append + fdatasync loop (warm-up dropped)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    try:
        warm = warmup_count(messages)
        for _ in range(warm):
            os.write(descriptor, payload)
            os.fdatasync(descriptor)
        started = time.perf_counter()
        for _ in range(messages - warm):
            os.write(descriptor, payload)
            os.fdatasync(descriptor)
        return (messages - warm) / (time.perf_counter() - started)
    finally:
        os.close(descriptor)
        path.unlink(missing_ok=True)


def scenario_side(path: Path, payload: bytes, messages: int) -> float:
    """Syncs per second of the scenario's broker side, as fast as it can acknowledge."""
    run = append_messages(
        path,
        payload,
        messages=messages,
        target_rate=0,
        sync_each=True,
        flush_interval_s=1.0,
        context=RunContext(path.parent),
    )
    path.unlink(missing_ok=True)
    warm = warmup_count(len(run.acked))
    # Same window as the bare loop: from the end of warm-up to the last ack.
    return (len(run.acked) - warm) / (run.acked[-1] - run.acked[warm - 1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="data directory (default: temp)")
    options = parser.parse_args()
    payload = os.urandom(options.size)
    with tempfile.TemporaryDirectory(dir=options.dir, prefix="fsync-bench-") as directory:
        data_dir = Path(directory)
        bare, scenario = [], []
        for _ in range(options.rounds):
            bare.append(bare_loop(data_dir / "bare.data", payload, options.messages))
            scenario.append(scenario_side(data_dir / "scenario.data", payload, options.messages))
        filesystem = filesystem_of(data_dir)
    bare_rate, scenario_rate = statistics.median(bare), statistics.median(scenario)
    ratio = scenario_rate / bare_rate
    print(f"file system:        {filesystem} ({options.dir or tempfile.gettempdir()})")
    print(f"messages x size:    {options.messages} x {options.size} bytes, {options.rounds} rounds")
    print(f"bare fdatasync loop: {bare_rate:,.0f} syncs/s  (rounds: {_rounded(bare)})")
    print(f"scenario broker side: {scenario_rate:,.0f} syncs/s  (rounds: {_rounded(scenario)})")
    verdict = "meets" if ratio >= GOAL else "MISSES"
    print(f"ratio:              {ratio:.1%} ({verdict} the {GOAL:.0%} goal)")


def _rounded(rates: list[float]) -> str:
    return ", ".join(f"{value:,.0f}" for value in rates)


if __name__ == "__main__":
    main()
