"""Print the measured comparisons each demo scenario predicts, run by run.

The test suite asserts only counts and bounds of the embedded scenarios (they cannot flip
on a loaded machine). Rates and latencies between the sides are measured here instead,
and printed with whether the predicted direction held on this machine:

- durability: fsync before the ack publishes slower, with a higher ack latency (T4, M2);
- push_pull: under push the producer waits (send delay p99) while pull lets it run (T1);
- clustering: each forwarding hop adds latency (T5).

    .venv/bin/python benchmarks/demo_directions.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from advisor.demos.drivers import run_scenario  # noqa: E402

PARAMETERS = {
    "durability": {"messages": 2000, "target_rate": 0, "flush_interval_ms": 10_000, "seed": 7},
    "push_pull": {
        "messages": 400,
        "target_rate": 1000,
        "processing_ms": 2,
        "broker_buffer": 20,
        "prefetch": 5,
        "batch_size": 20,
    },
    "clustering": {"nodes": 3, "messages": 200, "throughput_messages": 200},
}


def comparisons(name: str, document: dict) -> list[tuple[str, float, float, bool]]:
    """(what, the value predicted larger, the value predicted smaller) for one run."""
    sides = document["sides"]
    if name == "durability":
        log, broker = sides["log"], sides["broker"]
        return [
            (
                "publish rate, page cache vs fsync (msg/s)",
                log["publish_rate"],
                broker["publish_rate"],
            ),
            (
                "ack latency p50, fsync vs page cache (ms)",
                broker["publish_latency_ms"]["p50"],
                log["publish_latency_ms"]["p50"],
            ),
        ]
    if name == "push_pull":
        return [
            (
                "producer send delay p99, push vs pull (ms)",
                sides["broker"]["send_delay_ms"]["p99"],
                sides["log"]["send_delay_ms"]["p99"],
            ),
            (
                "largest backlog, pull vs push",
                sides["log"]["max_backlog"],
                sides["broker"]["max_backlog"],
            ),
        ]
    hops = sides["broker"]["latency_by_hops"]
    return [("end-to-end p50, 2 hops vs 0 hops (ms)", hops["2"]["p50"], hops["0"]["p50"])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    held_all = True
    for name, parameters in PARAMETERS.items():
        for round_number in range(1, options.rounds + 1):
            with tempfile.TemporaryDirectory() as workdir:
                document = run_scenario(name, parameters, workdir=Path(workdir))
            for what, larger, smaller in comparisons(name, document):
                held = larger > smaller
                held_all &= held
                mark = "held" if held else "DID NOT HOLD"
                print(f"{name:<11} #{round_number}: {what}: {larger:,.3f} > {smaller:,.3f} {mark}")
    print("every predicted direction held" if held_all else "some directions did not hold")


if __name__ == "__main__":
    main()
