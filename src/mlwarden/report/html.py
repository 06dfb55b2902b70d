"""Render a Report as one self-contained HTML page (inline CSS and SVG).

Every template is autoescaped (``autoescape=True``: ``select_autoescape(["html"])`` would leave the
``.html.j2`` template unescaped), so column names, category values and sources from the data are shown as
text; the only markup passed through is the SVG built in :mod:`mlwarden.report.plots`, which escapes every
string it embeds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from mlwarden.report.plots import categorical_svg, numeric_svg
from mlwarden.report.report import COUNT_LABELS

if TYPE_CHECKING:
    from mlwarden.drift import ColumnDrift
    from mlwarden.findings import Finding
    from mlwarden.report.report import Report

_env = Environment(loader=PackageLoader("mlwarden.report", "templates"), autoescape=True)


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "–"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{value:,.0f}"
    if abs(value) >= 1e4 or (value != 0 and abs(value) < 1e-3):
        return f"{value:.2e}"
    return f"{value:.{digits}g}"


def render_html(report: Report) -> str:
    """The report as an HTML document: findings by column, performance, then feature, target and output
    drift."""
    return _env.get_template("report.html.j2").render(**report_context(report))


def report_context(report: Report, sections: list[tuple[str, list[dict]]] | None = None) -> dict[str, Any]:
    """What ``_report_body.html.j2`` renders: the report, its counts, findings grouped by column (the
    columns with the worst findings first; findings about no column last), metric names and drift cards —
    ``sections``, when given, the report's :func:`drift_sections` rendered already."""
    metric_names, count_names = report.performance_names()
    groups: dict[str, list[Finding]] = {}
    for finding in report.findings:  # sorted worst first: a group's place is its worst finding's
        groups.setdefault(finding.column or "", []).append(finding)
    by_column = sorted(groups.items(), key=lambda item: item[0] == "")
    return {
        "report": report,
        "counts": report.counts(),
        "findings_by_column": by_column,
        "metric_names": metric_names,
        "count_names": count_names,
        "count_labels": COUNT_LABELS,
        "sections": drift_sections(report) if sections is None else sections,
        "segment_metrics": [n for n in metric_names if n in ("roc_auc", "accuracy", "mae", "rmse")][:2],
        "fmt": _fmt,
    }


def drift_sections(report: Report) -> list[tuple[str, list[dict]]]:
    """``(title, cards)`` of the report's feature, target and output drift, the sections without a column
    left out; the plots (SVG) are the rendering's main cost and depend on the drift and profiles only."""
    sections = [
        ("Feature drift", _cards(report, report.drift.features)),
        ("Target drift", _cards(report, report.drift.target)),
        ("Prediction and score drift", _cards(report, report.drift.outputs)),
    ]
    return [(title, cards) for title, cards in sections if cards]


def _cards(report: Report, entries: list[ColumnDrift]) -> list[dict]:
    """One card per column, drifted first: the verdict, both sides' profiles and an SVG plot."""
    cards = []
    for entry in sorted(entries, key=lambda c: (not c.drifted, c.score is None, -(c.score or 0))):
        ref = report.reference.columns[entry.column]
        cur = report.current.columns.get(entry.column)
        plot = numeric_svg(ref, cur) if ref.is_numeric else categorical_svg(ref, cur)
        # Markup: the plots escape every string they embed
        cards.append({"entry": entry, "plot": Markup(plot), "ref": ref, "cur": cur})
    return cards
