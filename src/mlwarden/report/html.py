"""Render a Report as one self-contained HTML page (inline CSS and SVG, autoescaped)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from mlwarden.report.plots import categorical_svg, numeric_svg

if TYPE_CHECKING:
    from mlwarden.report.report import Report

_env = Environment(
    loader=PackageLoader("mlwarden.report", "templates"), autoescape=select_autoescape(["html"])
)


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "–"
    if float(value).is_integer() and abs(value) >= 1:
        return f"{value:,.0f}"
    if abs(value) >= 1e4 or (value != 0 and abs(value) < 1e-3):
        return f"{value:.2e}"
    return f"{value:.{digits}g}"


def render_html(report: Report) -> str:
    """The report as an HTML document."""
    columns = []
    ordered = sorted(report.drift.columns, key=lambda c: (not c.drifted, c.score is None, -(c.score or 0)))
    for entry in ordered:
        ref = report.reference.columns[entry.column]
        cur = report.current.columns.get(entry.column)
        plot = numeric_svg(ref, cur) if ref.is_numeric else categorical_svg(ref, cur)
        columns.append({"entry": entry, "plot": Markup(plot), "ref": ref, "cur": cur})
    return _env.get_template("report.html.j2").render(
        report=report,
        counts=report.counts(),
        columns=columns,
        problems=report.drift.problems,
        fmt=_fmt,
    )
