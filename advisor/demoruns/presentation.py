"""What the demo-run pages show: the section on report pages, each run, charts and exports.

Charts are plain Plotly figure dicts in the manner of ``advisor.charts``: horizontal bars
with text labels, sides told apart by pattern or dash as well as colour, readable on phones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from advisor.charts import CONFIG, base_layout, wrap_label
from advisor.demoruns.forms import DemoQueueForm
from advisor.demoruns.models import DemoRun
from advisor.demos.metrics import PERCENTILES, format_ms
from advisor.demos.scenarios import SCENARIOS, Display, side_names
from advisor.engine.knowledge import citations
from advisor.reports.models import Report
from advisor.reports.sections import ReportSection

SIDE_STYLE = {
    "broker": {"color": "#b3261e", "pattern": "", "dash": "solid", "symbol": "circle"},
    "log": {"color": "#1f5fa8", "pattern": "/", "dash": "dash", "symbol": "square"},
    "naive": {"color": "#5a6275", "pattern": "x", "dash": "dot", "symbol": "diamond"},
    # Live runs: other settings beside the headline sides; failover on a replicated pair
    # darker, the weaker settings in lighter shades.
    "broker_failover": {
        "color": "#7a1712",
        "pattern": "\\",
        "dash": "longdash",
        "symbol": "triangle-up",
    },
    "broker_nondurable": {"color": "#e3928b", "pattern": ".", "dash": "dot", "symbol": "circle"},
    "log_acks1": {"color": "#6f9fd8", "pattern": "-", "dash": "dot", "symbol": "square"},
    "log_acks0": {"color": "#a9c6ea", "pattern": "+", "dash": "dashdot", "symbol": "square"},
}
PERCENTILE_KEYS = [key for key, _ in PERCENTILES] + ["max"]


def _side_name(metrics: Mapping, side: str) -> str:
    return metrics["sides"][side].get("label", side)


def _display(metrics: Mapping) -> Display:
    return SCENARIOS[metrics["scenario"]].display


def _layout(height: int, *, x_title: str = "", y_title: str = "", **extra) -> dict:
    return base_layout(
        height,
        # The legend sits above the plot, clear of the axis title, one entry per line on phones.
        margin={"l": 10, "r": 10, "t": 70, "b": 40},
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        xaxis={"title": {"text": x_title}, "fixedrange": True, "automargin": True},
        yaxis={"title": {"text": y_title}, "fixedrange": True, "automargin": True},
        **extra,
    )


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
    key = _display(metrics).latency_metric
    data = [
        _bar(
            _side_name(metrics, side),
            side,
            PERCENTILE_KEYS,
            [metrics["sides"][side][key][p] for p in PERCENTILE_KEYS],
            " ms",
        )
        for side in side_names(metrics)
    ]
    for trace in data:  # 10.5 µs, 3.93 ms, 1,237 ms: as the summaries say them
        trace["text"] = [format_ms(value) for value in trace["x"]]
    layout = _layout(130 + 24 * len(PERCENTILE_KEYS) * len(data), x_title="milliseconds")
    layout.update(barmode="group")
    layout["yaxis"]["autorange"] = "reversed"
    _log_axis_if_wide(layout, [value for trace in data for value in trace["x"]])
    return {"data": data, "layout": layout, "config": CONFIG}


def _line(name: str, side: str, points: list[list[float]]) -> dict:
    style = SIDE_STYLE[side]
    return {
        "type": "scatter",
        # Markers only where they stay readable; a sawtooth has two points a tooth.
        "mode": "lines+markers" if len(points) <= 60 else "lines",
        "name": wrap_label(name, 30),
        "x": [point[0] for point in points],
        "y": [point[1] for point in points],
        "line": {"color": style["color"], "dash": style["dash"], "width": 2},
        "marker": {"symbol": style["symbol"], "size": 5, "color": style["color"]},
        "hovertemplate": "%{x:.2f} s: %{y:,.0f}<extra>" + name + "</extra>",
    }


def over_time_chart(metrics: Mapping, series: str, y_title: str) -> dict:
    """One series (``backlog`` or ``publish_rate_series``) of each side over time."""
    share = _display(metrics).time_as_share
    data = []
    for side in side_names(metrics):
        points = metrics["sides"][side].get(series)
        if not points:
            continue
        if share:  # each side against its own run, 0-100 %
            span = max(points[-1][0], 1e-9)
            points = [[round(100 * at / span, 2), value] for at, value in points]
        data.append(_line(_side_name(metrics, side), side, points))
    x_title = "share of each side's run (%)" if share else "seconds since the side started"
    layout = _layout(340, x_title=x_title, y_title=y_title)
    layout["xaxis"]["rangemode"] = "tozero"
    layout["yaxis"]["rangemode"] = "tozero"
    if share:
        for trace in data:
            trace["hovertemplate"] = trace["hovertemplate"].replace("%{x:.2f} s", "%{x:.0f} %")
    return {"data": data, "layout": layout, "config": CONFIG}


def counts_chart(metrics: Mapping) -> dict | None:
    """The counts that tell the scenario's story (duplicates, losses, at-risk messages...)."""
    display = _display(metrics)
    rows = display.counts(metrics)
    if not rows:
        return None
    unit = display.counts_unit
    labels = [wrap_label(label, 16) for label, _ in rows]
    data = []
    for side in side_names(metrics):
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
    for side in side_names(metrics):
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
    """[{id, caption, figure}] for a succeeded run, in reading order, as its scenario declares."""
    metrics = run.metrics
    if run.status != DemoRun.Status.SUCCEEDED or not metrics:
        return []
    display = _display(metrics)
    charts = []
    counts = counts_chart(metrics)
    if counts:
        charts.append(("counts", display.counts_caption, counts))
    if display.latency_caption:
        caption = f"{display.latency_caption}, percentiles"
        charts.append(("latency", caption, latency_chart(metrics)))
    more = {
        "nodes": lambda: (
            "Throughput as the cluster grows",
            throughput_by_nodes_chart(metrics),
        ),
        "rate": lambda: (
            "Publish rate over time (messages per second)",
            over_time_chart(metrics, "publish_rate_series", "messages per second"),
        ),
        "backlog": lambda: (
            _backlog_caption(metrics, display),
            over_time_chart(metrics, "backlog", "messages"),
        ),
    }
    charts += [(name, *more[name]()) for name in display.more_charts]
    return [
        {"id": f"demo-{run.pk}-{name}", "caption": caption, "figure": figure}
        for name, caption, figure in charts
    ]


def _backlog_caption(metrics: Mapping, display: Display) -> str:
    """The scenario's caption; a live run says what its backlog counted (it may differ)."""
    if metrics.get("engine") == "live":
        for side in side_names(metrics):
            meaning = metrics["sides"][side].get("meaning", {}).get("backlog")
            if meaning:
                return f"{meaning[0].upper()}{meaning[1:]}, over time"
    return display.backlog_caption


def key_figures(metrics: Mapping) -> dict:
    """The numbers a reader of an export needs, per side: rates, p99 latency, counts."""
    latency_key = _display(metrics).latency_metric
    figures = {}
    for side in side_names(metrics):
        values = metrics["sides"][side]
        figures[side] = {
            "label": values.get("label", side),
            "publish_rate": values.get("publish_rate"),
            "consume_rate": values.get("consume_rate"),
            f"{latency_key.removesuffix('_ms')}_p99_ms": values.get(latency_key, {}).get("p99"),
        }
    for label, per_side in _display(metrics).counts(metrics):
        for side, value in per_side.items():
            figures[side][label] = value
    return figures


def run_products(metrics: Mapping) -> list[str]:
    """A live run's products as the page names them: "Apache Kafka 4.2.0 (local Kafka)"."""
    return [
        f"{product.get('product', key)} {product.get('version', '')} ({product.get('target', '')})"
        for key, product in sorted(metrics.get("products", {}).items())
    ]


def run_context(run: DemoRun, *, is_owner: bool) -> dict:
    """What the run partial shows."""
    scenario = SCENARIOS.get(run.scenario)
    metrics = run.metrics or {}
    return {
        "run": run,
        "is_owner": is_owner,
        "title": scenario.title if scenario else run.scenario,
        "claims": citations(metrics.get("claims") or (scenario.claims if scenario else ())),
        "percent": round(100 * (run.progress or 0)),
        "charts": run_charts(run),
        "summary": metrics.get("summary", ""),
        "products": run_products(metrics),
        "caveats": _display(metrics).caveats(metrics) if metrics.get("sides") else [],
        "machine": metrics.get("machine", {}),
        "duration_s": metrics.get("duration_s"),
        "polling": is_owner and not run.is_finished,
    }


RUNS_SHOWN = 20


def demo_section_context(
    report: Report, *, is_owner: bool, queue_form: DemoQueueForm | None = None
) -> dict:
    """Context for templates/demoruns/section.html.

    The owner sees every run of the assessment, with progress and the form to queue more;
    anyone else (a shared report) sees only the runs that succeeded, read-only.
    """
    runs = DemoRun.objects.filter(assessment_id=report.assessment_id)
    if not is_owner:
        runs = runs.succeeded()
    # The newest RUNS_SHOWN: each run draws its charts, and runs accumulate over time.
    shown = list(runs.order_by("-created_at", "-pk")[:RUNS_SHOWN])
    section = {
        "report": report,
        "is_owner": is_owner,
        "runs": [run_context(run, is_owner=is_owner) for run in shown],
        "older_runs": runs.count() - len(shown) if len(shown) == RUNS_SHOWN else 0,
    }
    if is_owner:
        section["queue_form"] = queue_form or DemoQueueForm(report.answers)
    return section


def demo_runs_export(report: Report) -> list[dict]:
    """The succeeded runs of a report's assessment for its exports, oldest first."""
    exported = []
    runs = DemoRun.objects.filter(assessment_id=report.assessment_id).succeeded()
    for run in runs.order_by("finished_at"):
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
                "products": run_products(metrics),
                "claims": list(metrics.get("claims", [])),
                "machine": {
                    key: metrics.get("machine", {}).get(key)
                    for key in ("cpu_count", "filesystem", "python")
                },
                "key_figures": key_figures(metrics) if metrics.get("sides") else {},
            }
        )
    return exported


# The report page's "Measured on this machine" section and the exports' "demo_runs" key.
REPORT_SECTION = ReportSection(
    name="demo_runs",
    template="demoruns/section.html",
    page_context=demo_section_context,
    export=demo_runs_export,
    adr_template="demoruns/adr_section.md",
)
