"""Plotly figures for the recommendation, as the JSON plotly.js draws.

Built as plain figure dicts (the Plotly schema) rather than `plotly.graph_objects`,
whose validation costs milliseconds per chart on every page view. Bars carry text
labels and the sides differ by pattern as well as colour, so no chart relies on
colour alone; horizontal bars keep long labels readable in a narrow window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

SIDE_STYLE = {
    "artemis": {"name": "Broker (Artemis)", "color": "#b3261e", "pattern": ""},
    "kafka": {"name": "Kafka", "color": "#1f5fa8", "pattern": "/"},
}
CONFIG = {"displayModeBar": False, "responsive": True}


def _layout(height: int, **extra) -> dict:
    return {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 30, "b": 30},
        "barmode": "group",
        "legend": {"orientation": "h", "y": 1.12, "x": 0},
        "xaxis": {"title": {"text": "points of 100"}, "rangemode": "tozero", "fixedrange": True},
        "yaxis": {"automargin": True, "autorange": "reversed", "fixedrange": True},
        "font": {"family": "system-ui, sans-serif", "size": 13},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        **extra,
    }


def dimension_chart(
    dimensions: Mapping[str, Mapping[str, float]], titles: Mapping[str, str]
) -> dict:
    """Per-dimension scores of both sides, as grouped horizontal bars."""
    names = [name for name, sides in dimensions.items() if any(sides.values())]
    labels = [titles.get(name, name) for name in names]
    data = []
    for side, style in SIDE_STYLE.items():
        values = [dimensions[name][side] for name in names]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": style["name"],
                "y": labels,
                "x": values,
                "text": [f"{value:g}" if value else "" for value in values],
                "textposition": "outside",
                "cliponaxis": False,
                "marker": {"color": style["color"], "pattern": {"shape": style["pattern"]}},
                "hovertemplate": "%{y}: %{x:.1f} points<extra>" + style["name"] + "</extra>",
            }
        )
    return {"data": data, "layout": _layout(80 + 56 * len(names)), "config": CONFIG}


def contribution_chart(reasons: Sequence[Mapping]) -> dict:
    """Each fired rule's contribution, strongest first, labelled with its side."""
    data = []
    for side, style in SIDE_STYLE.items():
        side_reasons = [reason for reason in reasons if reason["favours"] == side]
        data.append(
            {
                "type": "bar",
                "orientation": "h",
                "name": style["name"],
                "y": [reason["title"] for reason in side_reasons],
                "x": [reason["points"] for reason in side_reasons],
                "text": [f"+{reason['points']:g} {style['name']}" for reason in side_reasons],
                "textposition": "auto",
                "marker": {"color": style["color"], "pattern": {"shape": style["pattern"]}},
                "hovertemplate": "%{y}: %{x:.1f} points<extra>" + style["name"] + "</extra>",
            }
        )
    ordered = [reason["title"] for reason in sorted(reasons, key=lambda r: -r["points"])]
    layout = _layout(60 + 30 * len(reasons), barmode="relative")
    layout["yaxis"].update({"categoryorder": "array", "categoryarray": ordered})
    return {"data": data, "layout": layout, "config": CONFIG}
