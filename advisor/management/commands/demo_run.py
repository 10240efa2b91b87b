"""`python manage.py demo_run --scenario NAME [--engine embedded] [--param k=v ...]
--format json|text`: run one demo scenario in the foreground and print its metrics.

Needs no database, no Celery and no Redis. Bad input prints one line naming the field and
its allowed values or bounds, and exits 2.
"""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from advisor.demos.drivers import Cancelled, DriverError, get_driver, run_scenario
from advisor.demos.scenarios import ParameterError, get_scenario, validate_parameters

BAD_PARAM = "--param {raw!r}: expected name=value, e.g. --param messages=1000"
LATENCIES = (
    ("publish_latency_ms", "publish latency"),
    ("end_to_end_latency_ms", "end-to-end latency"),
    ("send_delay_ms", "send delay"),
)


class Command(BaseCommand):
    help = "Run one demo scenario now (no worker needed) and print its metrics."

    def add_arguments(self, parser):
        parser.add_argument("--scenario", required=True, help="durability, exactly_once, ...")
        parser.add_argument("--engine", default="embedded")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="A parameter within its bounds; repeat for several.",
        )
        parser.add_argument("--format", choices=["json", "text"], default="text")

    def handle(self, *args, **options):
        raw = {}
        for item in options["param"]:
            name, equals, value = item.partition("=")
            if not equals or not name.strip():
                raise CommandError(BAD_PARAM.format(raw=item), returncode=2)
            raw[name.strip()] = value
        try:
            get_scenario(options["scenario"])
            parameters = validate_parameters(options["scenario"], raw)
            get_driver(options["engine"])
        except ParameterError as error:
            raise CommandError(
                f"{error.field}: {error.message}" if error.field else error.message, returncode=2
            ) from None
        except DriverError as error:
            raise CommandError(f"engine: {error}", returncode=2) from None
        show_progress = options["format"] == "text" and sys.stderr.isatty()
        try:
            metrics = run_scenario(
                options["scenario"],
                parameters,
                engine=options["engine"],
                progress=self.progress if show_progress else None,
            )
        except (DriverError, Cancelled) as error:
            raise CommandError(f"the run failed: {error}", returncode=2) from None
        except KeyboardInterrupt:
            raise CommandError("interrupted", returncode=2) from None
        if show_progress:
            sys.stderr.write("\r\033[K")
        if options["format"] == "json":
            self.stdout.write(json.dumps(metrics, indent=2, ensure_ascii=False))
        else:
            self.stdout.write(render_text(metrics))

    def progress(self, fraction: float, message: str) -> None:
        sys.stderr.write(f"\r\033[K{round(fraction * 100):3d}% {message[:70]}")
        sys.stderr.flush()


def _number(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    if value is None:
        return "-"
    if isinstance(value, list) and all(isinstance(v, int | float) for v in value):
        return ", ".join(_number(v) for v in value)
    return str(value)


def render_text(metrics: dict) -> str:
    """Both sides as a table (one column each), then the run's one-sentence summary."""
    sides = metrics["sides"]
    names = list(sides)
    rows: list[tuple[str, list[str]]] = [
        ("model", [sides[s].get("label", s) for s in names]),
        ("publish rate (msgs/s)", [_number(sides[s].get("publish_rate")) for s in names]),
        ("consume rate (msgs/s)", [_number(sides[s].get("consume_rate")) for s in names]),
    ]
    for key, label in LATENCIES:
        for percentile in ("p50", "p99", "p99.9", "max"):
            values = [sides[s].get(key, {}).get(percentile) for s in names]
            rows.append((f"{label} {percentile} (ms)", [_number(v) for v in values]))
    shared = set.intersection(*(set(sides[s]) for s in names))
    for key in sorted(shared):
        values = [sides[s][key] for s in names]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values) or (
            all(isinstance(v, list) and len(v) <= 6 for v in values) and key.endswith("reads")
        ):
            if key in {"publish_rate", "consume_rate"}:
                continue
            rows.append((key.replace("_", " "), [_number(v) for v in values]))
    # Percentiles per hop count or per node (clustering), where a side has them.
    for key in ("latency_by_hops", "latency_by_leader_node"):
        groups = sorted({g for s in names for g in sides[s].get(key, {})}, key=int)
        for group in groups:
            values = [sides[s].get(key, {}).get(group, {}).get("p50") for s in names]
            label = (
                f"p50 at {group} hops (ms)"
                if key.endswith("hops")
                else f"p50 via node {group} (ms)"
            )
            rows.append((label, [_number(v) for v in values]))
    label_width = max(len(label) for label, _ in rows)
    widths = [max(len(cells[i]) for _, cells in rows) for i in range(len(names))]
    header = " ".join(
        [" " * label_width, *(n.ljust(w) for n, w in zip(names, widths, strict=True))]
    )
    lines = [
        f"{metrics['scenario']} on the {metrics['engine']} engine "
        f"({metrics['duration_s']} s; {metrics['machine'].get('cpu_count')} CPUs, "
        f"{metrics['machine'].get('filesystem')} file system)",
        "parameters: " + ", ".join(f"{k}={v}" for k, v in metrics["parameters"].items()),
        "",
        header.rstrip(),
    ]
    for label, cells in rows:
        line = " ".join(
            [label.ljust(label_width), *(c.ljust(w) for c, w in zip(cells, widths, strict=True))]
        )
        lines.append(line.rstrip())
    lines += ["", metrics["summary"]]
    return "\n".join(lines)
