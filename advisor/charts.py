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


def base_layout(height: int, **extra) -> dict:
    """What every chart of the app shares: the font, a transparent background, fixed axes."""
    return {
        "height": height,
        "font": {"family": "system-ui, sans-serif", "size": 13},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        **extra,
    }


def _layout(height: int, **extra) -> dict:
    defaults = {
        "margin": {"l": 10, "r": 34, "t": 40, "b": 30},
        "barmode": "group",
        # At the top of the chart whatever its height (y=1.12 of a tall plot left a gap).
        "legend": {"orientation": "h", "x": 0, "y": 1, "yref": "container", "yanchor": "top"},
        "xaxis": {"rangemode": "tozero", "fixedrange": True},
        "yaxis": {"automargin": True, "autorange": "reversed", "fixedrange": True},
    }
    return base_layout(height, **{**defaults, **extra})


def plotly_text(text: str) -> str:
    """Text shown as it is: plotly.js reads tags (<a href>, <b>) and entities in labels.

    A visitor's title such as '<a href="https://evil.example">click</a>' would otherwise
    become a live link on an administrator's page; escaped, it reads as typed.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def wrap_label(text: str, width: int = 26) -> str:
    """Break a long axis label over lines (<br>) so it fits a phone screen."""
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(lines)


def _padded_max(values) -> float:
    """An axis end with room for the text labels outside the longest bar."""
    return max([*values, 1.0]) * 1.2


def dimension_chart(
    dimensions: Mapping[str, Mapping[str, float]], titles: Mapping[str, str]
) -> dict:
    """Per-dimension scores of both sides, as grouped horizontal bars."""
    names = [name for name, sides in dimensions.items() if any(sides.values())]
    labels = [wrap_label(titles.get(name, name), 16) for name in names]
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
    layout = _layout(80 + 56 * len(names))
    layout["xaxis"]["range"] = [0, _padded_max(value for d in data for value in d["x"])]
    return {"data": data, "layout": layout, "config": CONFIG}


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
                "y": [wrap_label(reason["title"]) for reason in side_reasons],
                "x": [reason["points"] for reason in side_reasons],
                "text": [f"+{reason['points']:g}" for reason in side_reasons],
                "textposition": "outside",
                "cliponaxis": False,
                "marker": {"color": style["color"], "pattern": {"shape": style["pattern"]}},
                "hovertemplate": "%{y}: %{x:.1f} points<extra>" + style["name"] + "</extra>",
            }
        )
    ordered = [wrap_label(r["title"]) for r in sorted(reasons, key=lambda r: -r["points"])]
    layout = _layout(60 + 40 * len(reasons), barmode="relative")
    layout["yaxis"].update({"categoryorder": "array", "categoryarray": ordered})
    layout["xaxis"]["range"] = [0, _padded_max(reason["points"] for reason in reasons)]
    return {"data": data, "layout": layout, "config": CONFIG}
