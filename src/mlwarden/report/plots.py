"""Small inline SVG plots of reference vs current distributions (no plotting library, no network)."""

from __future__ import annotations

from html import escape

import numpy as np

from mlwarden.profile import ColumnProfile

WIDTH, HEIGHT, PAD = 360, 120, 4
REF_STYLE = 'fill="#9db4d0" fill-opacity="0.55" stroke="#4a6a94" stroke-width="1"'
CUR_STYLE = 'fill="none" stroke="#d9480f" stroke-width="1.6"'
MAX_CATEGORIES = 10


def numeric_svg(ref: ColumnProfile, cur: ColumnProfile | None) -> str:
    """Densities of both sides on the reference's bins, over the reference's range."""
    if ref.edges is None or ref.edges.size < 2 or ref.hist is None:
        return _empty("no distribution to plot")
    edges = ref.edges
    widths = np.diff(edges)
    densities = [_density(ref.hist, widths)]
    if cur is not None and cur.hist is not None and np.array_equal(cur.edges, edges):
        densities.append(_density(cur.hist, widths))
    top = max(float(d.max()) for d in densities) or 1.0
    x = PAD + (edges - edges[0]) / (edges[-1] - edges[0]) * (WIDTH - 2 * PAD)

    def path(density: np.ndarray) -> str:
        y = HEIGHT - PAD - density / top * (HEIGHT - 2 * PAD)
        points = [(x[0], HEIGHT - PAD)]
        for i, yi in enumerate(y):
            points += [(x[i], yi), (x[i + 1], yi)]
        points.append((x[-1], HEIGHT - PAD))
        return " ".join(f"{px:.1f},{py:.1f}" for px, py in points)

    shapes = [f'<polygon points="{path(densities[0])}" {REF_STYLE}/>']
    if len(densities) > 1:
        shapes.append(f'<polyline points="{path(densities[1])}" {CUR_STYLE}/>')
    labels = (
        f'<text x="{PAD}" y="{HEIGHT + 12}" class="axis">{_fmt(edges[0])}</text>'
        f'<text x="{WIDTH - PAD}" y="{HEIGHT + 12}" class="axis" text-anchor="end">{_fmt(edges[-1])}</text>'
    )
    return _svg("".join(shapes) + labels, HEIGHT + 16)


def categorical_svg(ref: ColumnProfile, cur: ColumnProfile | None) -> str:
    """Shares of the most frequent categories, reference and current side by side."""
    ref_share = _shares(ref)
    cur_share = _shares(cur) if cur is not None else {}
    names = sorted(
        set(ref_share) | set(cur_share), key=lambda k: -(ref_share.get(k, 0) + cur_share.get(k, 0))
    )
    names = names[:MAX_CATEGORIES]
    if not names:
        return _empty("no values to plot")
    top = max(max(ref_share.values(), default=0), max(cur_share.values(), default=0)) or 1.0
    row, label_w = 16, 110
    bar_w = WIDTH - label_w - 50
    parts = []
    for i, name in enumerate(names):
        y = i * row
        r, c = ref_share.get(name, 0.0), cur_share.get(name, 0.0)
        shown = escape(name if len(name) <= 16 else name[:15] + "…")
        parts.append(f'<text x="{label_w - 4}" y="{y + 11}" class="axis" text-anchor="end">{shown}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y + 1}" width="{r / top * bar_w:.1f}" height="6" {REF_STYLE}/>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 8}" width="{c / top * bar_w:.1f}" height="6" fill="#d9480f"/>'
            f'<text x="{label_w + bar_w + 4}" y="{y + 11}" class="axis">{c:.1%}</text>'
        )
    return _svg("".join(parts), len(names) * row + 4)


def _density(hist: np.ndarray, widths: np.ndarray) -> np.ndarray:
    inner = hist[1:-1].astype(float)
    total = hist.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(widths > 0, inner / (total * widths), 0.0) if total else np.zeros_like(widths)
    return np.nan_to_num(d)


def _shares(col: ColumnProfile) -> dict[str, float]:
    total = col.count
    return {k: v / total for k, v in col.categories.items()} if total else {}


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def _svg(body: str, height: int) -> str:
    return f'<svg width="100%" viewBox="0 0 {WIDTH} {height}" role="img">{body}</svg>'


def _empty(text: str) -> str:
    return _svg(f'<text x="{WIDTH / 2}" y="20" class="axis" text-anchor="middle">{escape(text)}</text>', 30)


SERIES_HEIGHT = 140
BAND_STYLE = 'fill="#9db4d0" fill-opacity="0.45" stroke="none"'
LINE_STYLES = (
    'fill="none" stroke="#4a6a94" stroke-width="1.6"',
    'fill="none" stroke="#d9480f" stroke-width="1.6"',
)
RULE_STYLES = {
    "threshold": 'stroke="#c92a2a" stroke-dasharray="5,3"',
    "reference": 'stroke="#868e96" stroke-dasharray="2,3"',
}
Point = float | None


def series_svg(
    keys: list[str],
    lines: list[list[Point]],
    *,
    band: tuple[list[Point], list[Point]] | None = None,
    rules: list[tuple[str, float, str]] = (),
    flagged: list[bool] | None = None,
) -> str:
    """Values over chunks: up to two ``lines`` (first blue, second orange; ``None`` leaves a gap), the
    first line's ``band`` (lower, upper) shaded, horizontal ``rules`` ``(label, value, "threshold" |
    "reference")`` dashed, and ``flagged`` points ringed in red. ``keys`` label the first and last chunk."""
    n = len(keys)
    values = [v for line in lines for v in line if v is not None]
    values += [v for side in band or () for v in side if v is not None] + [r[1] for r in rules]
    values = [v for v in values if np.isfinite(v)]
    if not n or not values:
        return _empty("nothing to plot")
    low, high = min(values), max(values)
    pad = (high - low) * 0.08 or abs(high) * 0.1 or 1.0
    low, high = low - pad, high + pad
    plot_h = SERIES_HEIGHT - 2 * PAD

    def x(i: int) -> float:
        return PAD + (i + 0.5) * (WIDTH - 2 * PAD) / n

    def y(v: float) -> float:
        return PAD + (high - v) / (high - low) * plot_h

    shapes = []
    if band is not None:
        for run in _runs([i for i in range(n) if band[0][i] is not None and band[1][i] is not None]):
            upper = [f"{x(i):.1f},{y(band[1][i]):.1f}" for i in run]
            lower = [f"{x(i):.1f},{y(band[0][i]):.1f}" for i in reversed(run)]
            shapes.append(f'<polygon points="{" ".join(upper + lower)}" {BAND_STYLE}/>')
    for label, value, kind in rules:
        shapes.append(
            f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y(value):.1f}" y2="{y(value):.1f}" '
            f"{RULE_STYLES[kind]}/>"
            f'<text x="{WIDTH - PAD}" y="{y(value) - 2:.1f}" class="axis" text-anchor="end">'
            f"{escape(label)} {_fmt(value)}</text>"
        )
    for line, style in zip(lines, LINE_STYLES, strict=False):
        for run in _runs([i for i, v in enumerate(line) if v is not None and np.isfinite(v)]):
            points = " ".join(f"{x(i):.1f},{y(line[i]):.1f}" for i in run)
            shapes.append(f'<polyline points="{points}" {style}/>')
            shapes += [f'<circle cx="{x(i):.1f}" cy="{y(line[i]):.1f}" r="1.8" {style}/>' for i in run]
    for i, flag in enumerate(flagged or []):
        if flag and lines and lines[0][i] is not None:
            shapes.append(
                f'<circle cx="{x(i):.1f}" cy="{y(lines[0][i]):.1f}" r="4" fill="none" stroke="#c92a2a"/>'
            )
    shapes.append(
        f'<text x="{PAD}" y="{SERIES_HEIGHT + 12}" class="axis">{escape(keys[0])}</text>'
        f'<text x="{WIDTH - PAD}" y="{SERIES_HEIGHT + 12}" class="axis" text-anchor="end">'
        f"{escape(keys[-1])}</text>"
        f'<text x="{PAD}" y="{PAD + 8}" class="axis">{_fmt(high)}</text>'
        f'<text x="{PAD}" y="{SERIES_HEIGHT - PAD}" class="axis">{_fmt(low)}</text>'
    )
    return _svg("".join(shapes), SERIES_HEIGHT + 16)


def _runs(indices: list[int]) -> list[list[int]]:
    """Consecutive runs of ``indices`` (a gap in the chunks breaks a line)."""
    runs: list[list[int]] = []
    for i in indices:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs
