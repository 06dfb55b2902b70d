"""The gate's decision record: one self-contained HTML page (inline CSS, no scripts, no external files).

The template (``mlwarden/report/templates/decision.html.j2``, shipped with the report templates) is rendered
with ``autoescape=True``: column names, slice values and reasons from the data are shown as text, never
markup.
"""

from __future__ import annotations

from importlib.resources import files
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader

if TYPE_CHECKING:
    from mlwarden.retrain.result import GateResult

_TEMPLATES = files("mlwarden") / "report" / "templates"
_env = Environment(loader=FileSystemLoader(str(_TEMPLATES)), autoescape=True)


def render_html(result: GateResult, *, source: str | None = None) -> str:
    """The decision record of ``result``: decision, overall comparison, slices, reasons and the gate's
    settings. ``source`` names the data (a file name) in the header."""
    return _env.get_template("decision.html.j2").render(r=result, s=result.settings, source=source, fmt=_fmt)


def _fmt(value: float | None, digits: int = 4) -> str:
    if value is None:
        return "–"
    return f"{value:.{digits}g}"
