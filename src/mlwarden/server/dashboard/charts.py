"""Plotly figures of the model page, as plain ``{"data": [...], "layout": {...}}`` dicts.

The page embeds each as JSON (``<script type="application/json">``, escaped by Jinja's ``tojson``) and
``static/dashboard.js`` draws it with the ``plotly.min.js`` bundled in the ``plotly`` package, served by
mlwarden itself. Plotly reads a few HTML tags and entities in label text, so every label from the data
passes through :func:`label` first: ``<script>`` is drawn as those characters, never parsed.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote

from mlwarden.server.dashboard.queries import drift_matrix, performance_series
from mlwarden.store.schema import Alert, Window

SEVERITY_COLOURS = {"info": "#1c7ed6", "warning": "#f59f00", "critical": "#e03131"}
# score / threshold: pale below half the threshold, amber at it, red at twice
DRIFT_SCALE = [[0.0, "#f1f3f5"], [0.25, "#d3f9d8"], [0.5, "#ffd43b"], [0.75, "#fd7e14"], [1.0, "#c92a2a"]]
LOWER_IS_BETTER = ("mae", "rmse", "mape")
BASE_LAYOUT: dict[str, Any] = {
    "margin": {"l": 60, "r": 20, "t": 36, "b": 50},
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "paper_bgcolor": "#fff",
    "plot_bgcolor": "#fff",
    "hovermode": "closest",
}


def label(text: object) -> str:
    """``text`` safe as a Plotly label: its HTML-like tags and entities shown literally."""
    return escape(str(text), quote=False)


def window_url(model: str, start: datetime) -> str:
    return f"/models/{quote(model, safe='')}/windows/{quote(start.isoformat(), safe='')}"


def drift_heatmap(windows: list[Window]) -> dict[str, Any] | None:
    """Column × window heatmap of drift score / threshold (the raw score in ``customdata``); the page
    opens a clicked cell's window from its x value (the window's start)."""
    names, ratio, score = drift_matrix(windows)
    if not names:
        return None
    data = [
        {
            "type": "heatmap",
            "x": [w.start.isoformat() for w in windows],
            "y": [label(n) for n in names],
            "z": ratio,
            "customdata": score,
            "zmin": 0,
            "zmax": 2,
            "colorscale": DRIFT_SCALE,
            "colorbar": {"title": {"text": "score /<br>threshold"}, "tickvals": [0, 0.5, 1, 1.5, 2]},
            "hovertemplate": "%{y}<br>%{x}<br>score %{customdata:.3g} (%{z:.2f}× threshold)"
            "<extra>click: window report</extra>",
            "xgap": 1,
            "ygap": 1,
        }
    ]
    layout = {
        **BASE_LAYOUT,
        "title": {"text": "Drift: score relative to its threshold (≥ 1: drifted)"},
        "height": max(220, 60 + 18 * len(names)),
        "xaxis": {"title": {"text": "window start (UTC)"}, "type": "date"},
        "yaxis": {"automargin": True, "title": {"text": "column"}, "autorange": "reversed"},
        "margin": {**BASE_LAYOUT["margin"], "l": 120},
    }
    return {"data": data, "layout": layout}


def performance(windows: list[Window], slos: dict[str, float]) -> list[tuple[str, dict[str, Any]]]:
    """One figure per metric: the estimated value with its confidence band, the realized value once labels
    arrived, and the SLO as a horizontal line."""
    figures = []
    series = performance_series(windows)
    for metric in sorted(series, key=lambda m: m not in slos):  # metrics with an SLO first
        s = series[metric]
        band_x = [x for x, lo in zip(s["x"], s["lower"], strict=True) if lo is not None]
        lower = [lo for lo in s["lower"] if lo is not None]
        upper = [up for up in s["upper"] if up is not None]
        data: list[dict[str, Any]] = []
        if band_x:
            data += [
                {
                    "type": "scatter",
                    "x": band_x,
                    "y": upper,
                    "mode": "lines",
                    "line": {"width": 0},
                    "hoverinfo": "skip",
                    "showlegend": False,
                },
                {
                    "type": "scatter",
                    "x": band_x,
                    "y": lower,
                    "mode": "lines",
                    "line": {"width": 0},
                    "fill": "tonexty",
                    "fillcolor": "rgba(28,126,214,0.18)",
                    "name": "confidence band",
                },
            ]
        data.append(
            {
                "type": "scatter",
                "x": s["x"],
                "y": s["estimated"],
                "mode": "lines+markers",
                "name": "estimated (no labels)",
                "line": {"color": "#1c7ed6", "dash": "dot"},
            }
        )
        data.append(
            {
                "type": "scatter",
                "x": s["x"],
                "y": s["realized"],
                "mode": "lines+markers",
                "name": "realized (labels)",
                "line": {"color": "#2b8a3e"},
            }
        )
        bound = slos.get(metric)
        if bound is not None and s["x"]:
            side = "max" if metric in LOWER_IS_BETTER else "min"
            data.append(
                {
                    "type": "scatter",
                    "x": [s["x"][0], s["x"][-1]],
                    "y": [bound, bound],
                    "mode": "lines",
                    "name": f"SLO ({side} {bound:g})",
                    "line": {"color": "#e03131", "dash": "dash"},
                }
            )
        layout = {
            **BASE_LAYOUT,
            "title": {"text": f"{label(metric)}: estimated vs realized"},
            "height": 300,
            "xaxis": {"title": {"text": "window start (UTC)"}, "type": "date"},
            "yaxis": {"title": {"text": label(metric)}},
            "legend": {"orientation": "h", "y": -0.3},
        }
        figures.append((metric, {"data": data, "layout": layout}))
    return figures


def quality(counts: list[tuple[datetime, str, str, int]]) -> dict[str, Any] | None:
    """Data-quality findings per window, stacked by check."""
    if not counts:
        return None
    by_check: dict[str, dict[str, int]] = defaultdict(dict)
    for start, check, _severity, count in counts:
        key = start.isoformat()
        by_check[check][key] = by_check[check].get(key, 0) + count
    data = [
        {"type": "bar", "name": label(check), "x": list(values), "y": list(values.values())}
        for check, values in sorted(by_check.items())
    ]
    layout = {
        **BASE_LAYOUT,
        "title": {"text": "Data-quality findings per window"},
        "barmode": "stack",
        "height": 280,
        "xaxis": {"title": {"text": "window start (UTC)"}, "type": "date"},
        "yaxis": {"title": {"text": "findings"}, "rangemode": "tozero"},
        "legend": {"orientation": "h", "y": -0.35},
    }
    return {"data": data, "layout": layout}


def alert_timeline(alerts: list[Alert], now: datetime) -> dict[str, Any] | None:
    """Each alert as a bar from first seen to resolved (or now, while open), one line per check and
    column, coloured by severity."""
    if not alerts:
        return None
    traces: dict[str, dict[str, list[Any]]] = {}
    for a in alerts:
        name = label(f"{a.check} {a.column}".strip())
        end = a.resolved_at or (now if a.status != "resolved" else a.last_seen)
        t = traces.setdefault(a.severity, {"x": [], "y": [], "text": []})
        t["x"] += [a.first_seen.isoformat(), end.isoformat(), None]
        t["y"] += [name, name, None]
        t["text"] += [label(a.message), label(a.message), None]
    data = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": severity,
            "x": t["x"],
            "y": t["y"],
            "text": t["text"],
            "hovertemplate": "%{y}<br>%{x}<br>%{text}<extra></extra>",
            "line": {"color": SEVERITY_COLOURS.get(severity, "#868e96"), "width": 10},
            "marker": {"size": 10},
        }
        for severity, t in traces.items()
    ]
    lines = len({f"{a.check} {a.column}" for a in alerts})
    layout = {
        **BASE_LAYOUT,
        "title": {"text": "Alert timeline (open alerts run to now)"},
        "height": max(200, 80 + 26 * lines),
        "xaxis": {"title": {"text": "time (UTC)"}, "type": "date"},
        "yaxis": {"automargin": True},
        "margin": {**BASE_LAYOUT["margin"], "l": 160},
    }
    return {"data": data, "layout": layout}
