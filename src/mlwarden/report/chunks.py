"""Render a :class:`~mlwarden.chunks.ChunkedReport` as one self-contained HTML page (inline CSS and SVG):
each performance metric and each column's drift score over the chunks, bands and thresholds drawn."""

from __future__ import annotations

from typing import TYPE_CHECKING

from markupsafe import Markup

from mlwarden.findings import Severity
from mlwarden.report.html import _env, _fmt
from mlwarden.report.plots import series_svg

if TYPE_CHECKING:
    from mlwarden.chunks import ChunkedReport


def render_chunks_html(chunked: ChunkedReport) -> str:
    """The page: a row per chunk, performance over time, drift over time, then the findings per chunk."""
    keys = [c.key for c in chunked.chunks]
    return _env.get_template("chunks.html.j2").render(
        chunked=chunked,
        counts=chunked.counts(),
        performance=_performance_plots(chunked, keys),
        drift=_drift_plots(chunked, keys),
        findings=[
            (c.key, f) for c in chunked.chunks for f in c.report.findings if f.severity is not Severity.INFO
        ],
        fmt=_fmt,
    )


def _performance_plots(chunked: ChunkedReport, keys: list[str]) -> list[dict]:
    """One plot per metric: the estimate (blue, with its 95 % band), the realized value (orange), the
    reference's value and the SLO as dashed rules."""
    names = dict.fromkeys(
        name
        for c in chunked.chunks
        for side in c.report.performance.values()
        for name in side
        if not name.endswith(("_lower", "_upper")) and name != "n" and not name.startswith("n_")
    )
    plots = []
    for name in names:
        estimated, realized = chunked.series("estimated", name), chunked.series("realized", name)
        rules = []
        if chunked.reference_performance.get(name) is not None:
            rules.append(("reference", chunked.reference_performance[name], "reference"))
        if name in chunked.slo:
            rules.append(("SLO", chunked.slo[name], "threshold"))
        svg = series_svg(
            keys,
            [[v for v, _, _ in estimated], [v for v, _, _ in realized]],
            band=([lo for _, lo, _ in estimated], [hi for _, _, hi in estimated]),
            rules=rules,
        )
        plots.append({"name": name, "plot": Markup(svg)})  # Markup: series_svg escapes what it embeds
    return plots


def _drift_plots(chunked: ChunkedReport, keys: list[str]) -> list[dict]:
    """One plot per tested column, the columns drifting in most chunks first: its score, its threshold."""
    columns = dict.fromkeys(e.column for c in chunked.chunks for e in c.report.drift.columns)
    plots = []
    for column in columns:
        series = chunked.drift_series(column)
        thresholds = [t for _, t, _ in series if t is not None]
        drifted = sum(d for _, _, d in series)
        svg = series_svg(
            keys,
            [[s for s, _, _ in series]],
            rules=[("threshold", thresholds[0], "threshold")] if thresholds else [],
            flagged=[d for _, _, d in series],
        )
        plots.append({"column": column, "drifted": drifted, "plot": Markup(svg)})
    return sorted(plots, key=lambda p: -p["drifted"])
