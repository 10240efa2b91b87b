"""What the demo-run pages show: the section on report pages, each run, charts and exports.

Charts are plain Plotly figure dicts in the manner of ``advisor.charts``: horizontal bars
with text labels, sides told apart by pattern or dash as well as colour, readable on phones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from advisor.charts import CONFIG, wrap_label
from advisor.demo_forms import DemoQueueForm
from advisor.demos.metrics import PERCENTILES
from advisor.demos.scenarios import SCENARIOS
from advisor.knowledge import tradeoffs
from advisor.models import DemoRun, Report
from questionnaire.models import Assessment

SIDE_STYLE = {
    "broker": {"color": "#b3261e", "pattern": "", "dash": "solid", "symbol": "circle"},
    "log": {"color": "#1f5fa8", "pattern": "/", "dash": "dash", "symbol": "square"},
    "naive": {"color": "#5a6275", "pattern": "x", "dash": "dot", "symbol": "diamond"},
}
PERCENTILE_KEYS = [key for key, _ in PERCENTILES] + ["max"]
# Which latency tells each story: the ack for durability, delivery for the others.
LATENCY = {
    "durability": ("publish_latency_ms", "Ack latency (publish to acknowledgement)"),
    "exactly_once": ("end_to_end_latency_ms", "End-to-end latency (produce to result)"),
    "push_pull": ("end_to_end_latency_ms", "End-to-end latency (send to processed)"),
    "clustering": ("end_to_end_latency_ms", "End-to-end latency at the farthest node"),
    "replay": ("end_to_end_latency_ms", "End-to-end latency of the first consumer"),
}
BACKLOG_TITLES = {
    "durability": "Acknowledged but not yet on disk, over time",
    "push_pull": "Backlog over time (sent, not yet processed)",
}


def _side_name(metrics: Mapping, side: str) -> str:
    return metrics["sides"][side].get("label", side)


def _sides(metrics: Mapping) -> list[str]:
    return [side for side in ("broker", "log", "naive") if side in metrics.get("sides", {})]


def _layout(height: int, *, x_title: str = "", y_title: str = "", **extra) -> dict:
    return {
        "height": height,
        # The legend sits above the plot, clear of the axis title, one entry per line on phones.
        "margin": {"l": 10, "r": 10, "t": 70, "b": 40},
        "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        "xaxis": {"title": {"text": x_title}, "fixedrange": True, "automargin": True},
        "yaxis": {"title": {"text": y_title}, "fixedrange": True, "automargin": True},
        "font": {"family": "system-ui, sans-serif", "size": 13},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        **extra,
    }


def _figure_text(value: float) -> str:
    """4 significant digits for small values, whole thousands-separated numbers for big ones."""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.4g}"


def _bar(name: str, side: str, labels: list[str], values: list[float], unit: str) -> dict:
    style = SIDE_STYLE[side]
    return {
        "type": "bar",
        "orientation": "h",
        "name": wrap_label(name, 30),
        "y": labels,
        "x": values,
        "text": [f"{_figure_text(value)}{unit}" for value in values],
        "textposition": "outside",
        "cliponaxis": False,
        "marker": {"color": style["color"], "pattern": {"shape": style["pattern"]}},
        "hovertemplate": "%{y}: %{x:,.4g}" + unit + "<extra>" + name + "</extra>",
    }


def _log_axis_if_wide(layout: dict, values: list[float]) -> None:
    """A log axis when values span more than two decades, so small ones stay visible."""
    positive = [value for value in values if value > 0]
    if positive and max(positive) / min(positive) > 100:
        # Room on the right for the text label of the longest bar (log10 units).
        low, high = math.log10(min(positive)), math.log10(max(positive))
        layout["xaxis"].update(type="log", range=[low - 0.3, high + 0.6])
    else:
        layout["xaxis"]["range"] = [0, max([*values, 0.001]) * 1.35]


def latency_chart(metrics: Mapping) -> dict:
    """Latency percentiles of each side, side by side (p50 ... p99.9, max)."""
    key, _ = LATENCY.get(metrics["scenario"], LATENCY["push_pull"])
    data = [
        _bar(
            _side_name(metrics, side),
            side,
            PERCENTILE_KEYS,
            [metrics["sides"][side][key][p] for p in PERCENTILE_KEYS],
            " ms",
        )
        for side in _sides(metrics)
    ]
    layout = _layout(130 + 24 * len(PERCENTILE_KEYS) * len(data), x_title="milliseconds")
    layout.update(barmode="group")
    layout["yaxis"]["autorange"] = "reversed"
    _log_axis_if_wide(layout, [value for trace in data for value in trace["x"]])
    return {"data": data, "layout": layout, "config": CONFIG}


def _line(name: str, side: str, points: list[list[float]]) -> dict:
    style = SIDE_STYLE[side]
    return {
        "type": "scatter",
        "mode": "lines+markers",
        "name": wrap_label(name, 30),
        "x": [point[0] for point in points],
        "y": [point[1] for point in points],
        "line": {"color": style["color"], "dash": style["dash"], "width": 2},
        "marker": {"symbol": style["symbol"], "size": 5, "color": style["color"]},
        "hovertemplate": "%{x:.2f} s: %{y:,.0f}<extra>" + name + "</extra>",
    }


def over_time_chart(metrics: Mapping, series: str, y_title: str) -> dict:
    """One series (``backlog`` or ``publish_rate_series``) of each side over time."""
    data = [
        _line(_side_name(metrics, side), side, metrics["sides"][side].get(series, []))
        for side in _sides(metrics)
        if metrics["sides"][side].get(series)
    ]
    layout = _layout(340, x_title="seconds since the side started", y_title=y_title)
    layout["xaxis"]["rangemode"] = "tozero"
    layout["yaxis"]["rangemode"] = "tozero"
    return {"data": data, "layout": layout, "config": CONFIG}


def _count_rows(metrics: Mapping) -> list[tuple[str, dict[str, float]]]:
    """(what is counted, {side: count}) for the counts chart of each scenario."""
    sides = metrics["sides"]
    names = _sides(metrics)
    scenario = metrics["scenario"]

    def row(label: str, key: str) -> tuple[str, dict[str, float]]:
        return label, {side: sides[side][key] for side in names if key in sides[side]}

    if scenario == "durability":
        return [
            row("Acked, not on disk at the crash", "acked_not_durable_at_crash"),
            row("Most acked, not on disk at once", "max_acked_not_durable"),
        ]
    if scenario == "exactly_once":
        return [row("Duplicates processed", "duplicates"), row("Messages lost", "losses")]
    if scenario == "push_pull":
        return [row("Largest backlog (messages)", "max_backlog")]
    if scenario == "replay":
        reads = {side: sides[side]["late_consumer_reads"] for side in names}
        count = max((len(values) for values in reads.values()), default=0)
        return [
            (
                f"Read by late consumer {index + 1}",
                {side: values[index] for side, values in reads.items() if index < len(values)},
            )
            for index in range(count)
        ]
    if scenario == "clustering":
        hops = sides["broker"].get("latency_by_hops", {})
        leader = sides["log"].get("latency_by_leader_node", {})
        rows = []
        for hop in sorted(hops, key=int):
            values = {"broker": hops[hop]["p50"]}
            if hop in leader:
                values["log"] = leader[hop]["p50"]
            rows.append((f"Node {hop}: {hop} hops / leader", values))
        return rows
    return []


def counts_chart(metrics: Mapping) -> dict | None:
    """The counts that tell the scenario's story (duplicates, losses, at-risk messages...)."""
    rows = _count_rows(metrics)
    if not rows:
        return None
    unit = " ms" if metrics["scenario"] == "clustering" else ""
    labels = [wrap_label(label, 16) for label, _ in rows]
    data = []
    for side in _sides(metrics):
        if not any(side in values for _, values in rows):
            continue
        values = [values.get(side, 0) for _, values in rows]
        data.append(_bar(_side_name(metrics, side), side, labels, values, unit))
    layout = _layout(130 + 30 * len(rows) * len(data), barmode="group")
    layout["yaxis"]["autorange"] = "reversed"
    layout["xaxis"]["title"] = {"text": "p50 milliseconds" if unit else "messages"}
    layout["xaxis"]["range"] = [0, max([v for t in data for v in t["x"]] + [1]) * 1.35]
    return {"data": data, "layout": layout, "config": CONFIG}


def throughput_by_nodes_chart(metrics: Mapping) -> dict:
    """Clustering: messages per second as the cluster grows, both designs."""
    data = []
    for side in _sides(metrics):
        points = metrics["sides"][side].get("throughput_by_nodes", [])
        labels = [f"{int(nodes)} node{'s' if nodes != 1 else ''}" for nodes, _ in points]
        values = [rate for _, rate in points]
        data.append(_bar(_side_name(metrics, side), side, labels, values, "/s"))
    rows = max((len(trace["y"]) for trace in data), default=0)
    layout = _layout(130 + 26 * rows * len(data), barmode="group", x_title="messages per second")
    layout["yaxis"]["autorange"] = "reversed"
    layout["xaxis"]["range"] = [0, max([v for t in data for v in t["x"]] + [1]) * 1.35]
    return {"data": data, "layout": layout, "config": CONFIG}


def run_charts(run: DemoRun) -> list[dict]:
    """[{id, caption, figure, wide}] for a succeeded run, in reading order."""
    metrics = run.metrics
    if run.status != DemoRun.Status.SUCCEEDED or not metrics:
        return []
    prefix = f"demo-{run.pk}"
    scenario = metrics["scenario"]
    charts = []
    counts = counts_chart(metrics)
    if counts:
        caption = {
            "clustering": "Latency by hop count (p50): forwarded vs leader",
            "replay": "Messages each late consumer could still read",
        }.get(scenario, "What was counted")
        charts.append({"id": f"{prefix}-counts", "caption": caption, "figure": counts})
    _, latency_caption = LATENCY.get(scenario, LATENCY["push_pull"])
    charts.append(
        {
            "id": f"{prefix}-latency",
            "caption": f"{latency_caption}, percentiles",
            "figure": latency_chart(metrics),
        }
    )
    if scenario == "clustering":
        charts.append(
            {
                "id": f"{prefix}-nodes",
                "caption": "Throughput as the cluster grows",
                "figure": throughput_by_nodes_chart(metrics),
            }
        )
    if scenario == "clustering":
        return charts  # fixed-rate probes: rate and backlog over time would show nothing
    charts.append(
        {
            "id": f"{prefix}-rate",
            "caption": "Publish rate over time (messages per second)",
            "figure": over_time_chart(metrics, "publish_rate_series", "messages per second"),
        }
    )
    charts.append(
        {
            "id": f"{prefix}-backlog",
            "caption": BACKLOG_TITLES.get(scenario, "Backlog over time (messages)"),
            "figure": over_time_chart(metrics, "backlog", "messages"),
        }
    )
    return charts


def claims_of(names: list[str] | tuple[str, ...]) -> list[dict]:
    """[{id, title}] of trade-off entries (T1-T8, M1-M8), for links to /trade-offs/#id."""
    known = tradeoffs()
    return [{"id": c, "title": known[c].title if c in known else c} for c in names]


def key_figures(metrics: Mapping) -> dict:
    """The numbers a reader of an export needs, per side: rates, p99 latency, counts."""
    latency_key, _ = LATENCY.get(metrics["scenario"], LATENCY["push_pull"])
    figures = {}
    for side in _sides(metrics):
        values = metrics["sides"][side]
        figures[side] = {
            "label": values.get("label", side),
            "publish_rate": values.get("publish_rate"),
            "consume_rate": values.get("consume_rate"),
            f"{latency_key.removesuffix('_ms')}_p99_ms": values.get(latency_key, {}).get("p99"),
        }
    for label, per_side in _count_rows(metrics):
        for side, value in per_side.items():
            figures[side][label] = value
    return figures


def run_context(run: DemoRun, *, is_owner: bool) -> dict:
    """What the run partial shows."""
    scenario = SCENARIOS.get(run.scenario)
    metrics = run.metrics or {}
    return {
        "run": run,
        "is_owner": is_owner,
        "title": scenario.title if scenario else run.scenario,
        "claims": claims_of(metrics.get("claims") or (scenario.claims if scenario else ())),
        "percent": round(100 * (run.progress or 0)),
        "charts": run_charts(run),
        "summary": metrics.get("summary", ""),
        "machine": metrics.get("machine", {}),
        "duration_s": metrics.get("duration_s"),
        "polling": is_owner and not run.is_finished,
    }


def demo_section_context(
    report: Report, *, is_owner: bool, queue_form: DemoQueueForm | None = None
) -> dict:
    """Context for templates/advisor/demo_runs_section.html.

    The owner sees every run of the assessment, with progress and the form to queue more;
    anyone else (a shared report) sees only the runs that succeeded, read-only.
    """
    runs = DemoRun.objects.filter(assessment_id=report.assessment_id)
    if not is_owner:
        runs = runs.succeeded()
    section = {
        "report": report,
        "is_owner": is_owner,
        "runs": [run_context(run, is_owner=is_owner) for run in runs],
    }
    if is_owner:
        section["queue_form"] = queue_form or DemoQueueForm(report.assessment.answers)
    return section


def demo_runs_export(assessment: Assessment) -> list[dict]:
    """The succeeded runs of an assessment for the JSON and ADR exports, oldest first."""
    exported = []
    for run in assessment.demo_runs.succeeded().order_by("finished_at"):
        metrics = run.metrics or {}
        scenario = SCENARIOS.get(run.scenario)
        exported.append(
            {
                "scenario": run.scenario,
                "title": scenario.title if scenario else run.scenario,
                "engine": run.engine,
                "parameters": run.parameters,
                "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                "duration_s": metrics.get("duration_s"),
                "summary": metrics.get("summary", ""),
                "claims": list(metrics.get("claims", [])),
                "machine": {
                    key: metrics.get("machine", {}).get(key)
                    for key in ("cpu_count", "filesystem", "python")
                },
                "key_figures": key_figures(metrics) if metrics.get("sides") else {},
            }
        )
    return exported
