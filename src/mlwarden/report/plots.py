"""Small inline SVG plots of reference vs current distributions (no plotting library, no network)."""

from __future__ import annotations

from html import escape

import numpy as np

from mlwarden.drift.numeric import has_few_values
from mlwarden.profile import ColumnProfile

WIDTH, HEIGHT, PAD = 360, 120, 4
LEFT, BOTTOM = 50, 28  # room for the y-axis tick labels, and for the x-axis tick labels and title
REF_STYLE = 'fill="#9db4d0" fill-opacity="0.55" stroke="#4a6a94" stroke-width="1"'
CUR_STYLE = 'fill="none" stroke="#d9480f" stroke-width="1.6"'
CUR_FILL = 'fill="#d9480f"'
AXIS_STYLE = 'stroke="#adb5bd" stroke-width="1"'
MAX_CATEGORIES = 10
MAX_VALUES = 24  # a discrete column's bars: at most this many values
TICKS = 5


def numeric_svg(ref: ColumnProfile, cur: ColumnProfile | None) -> str:
    """A numeric column of both sides: bars of each value's share for a column of few distinct values
    (flags, codes, counts), else densities on the reference's bins. Current values outside the
    reference's range are drawn: the x axis extends to them and their share is spread over the extension.
    Both axes carry ticks and labels."""
    if ref.edges is None or ref.edges.size < 2 or ref.hist is None:
        return _empty("no distribution to plot")
    same_bins = cur is not None and cur.hist is not None and np.array_equal(cur.edges, ref.edges)
    if has_few_values(ref):
        return _discrete_svg(ref, cur if same_bins else None)
    edges = ref.edges.astype(float)
    widths = np.diff(edges)
    ref_density = _density(ref.hist, widths)
    low, high = float(edges[0]), float(edges[-1])
    cur_parts: list[tuple[np.ndarray, np.ndarray]] = []  # (edges, densities) of the current side
    if same_bins:
        total = float(cur.hist.sum()) or 1.0
        cur_parts.append((edges, _density(cur.hist, widths)))
        if cur.hist[0] and np.isfinite(cur.min) and cur.min < low:  # below the reference's range
            cur_parts.insert(0, (np.array([cur.min, low]), np.array([cur.hist[0] / total / (low - cur.min)])))
            low = float(cur.min)
        if cur.hist[-1] and np.isfinite(cur.max) and cur.max > high:  # above it
            cur_parts.append((np.array([high, cur.max]), np.array([cur.hist[-1] / total / (cur.max - high)])))
            high = float(cur.max)
    top = max([float(ref_density.max())] + [float(d.max()) for _, d in cur_parts]) or 1.0
    span = (high - low) or 1.0
    plot_w, plot_h = WIDTH - LEFT - PAD, HEIGHT - PAD

    def px(values: np.ndarray) -> np.ndarray:
        return LEFT + (values - low) / span * plot_w

    def path(bin_edges: np.ndarray, density: np.ndarray) -> str:
        x = px(bin_edges)
        y = HEIGHT - density / top * (plot_h - PAD)
        points = [(x[0], HEIGHT)]
        for i, yi in enumerate(y):
            points += [(x[i], yi), (x[i + 1], yi)]
        points.append((x[-1], HEIGHT))
        return " ".join(f"{a:.1f},{b:.1f}" for a, b in points)

    shapes = [f'<polygon points="{path(edges, ref_density)}" {REF_STYLE}/>']
    shapes += [f'<polyline points="{path(e, d)}" {CUR_STYLE}/>' for e, d in cur_parts]
    if low < edges[0] or high > edges[-1]:  # mark the reference's range
        for edge in (edges[0], edges[-1]):
            x = px(np.array([edge]))[0]
            shapes.append(
                f'<line x1="{x:.1f}" y1="{PAD}" x2="{x:.1f}" y2="{HEIGHT}" stroke="#4a6a94" '
                'stroke-dasharray="3,2"/>'
            )
    ticks = np.linspace(low, high, TICKS)
    return _svg(
        "".join(shapes) + _axes(px(ticks), [_fmt(t) for t in ticks], top, "value", "density"), HEIGHT + BOTTOM
    )


def _discrete_svg(ref: ColumnProfile, cur: ColumnProfile | None) -> str:
    """Bars of each value's share, reference and current side by side (a value is its bin's mean)."""
    hists = [ref.hist.astype(float)] + ([cur.hist.astype(float)] if cur is not None else [])
    sums = [ref.bin_sums] + ([cur.bin_sums] if cur is not None else [])
    occupied = np.flatnonzero(sum(hists) > 0)[:MAX_VALUES]
    shares = [h / (h.sum() or 1.0) for h in hists]
    values = []
    for i in occupied:
        side = next(k for k, h in enumerate(hists) if h[i] > 0)
        values.append(float(sums[side][i] / hists[side][i]) if sums[side] is not None else float(i))
    top = max(float(s[occupied].max()) for s in shares) or 1.0
    slot = (WIDTH - LEFT - PAD) / len(occupied)
    bar = slot * 0.4
    parts = []
    for k, i in enumerate(occupied):
        x = LEFT + k * slot + slot * 0.1
        for side, style in enumerate((REF_STYLE, CUR_FILL)[: len(shares)]):
            h = shares[side][i] / top * (HEIGHT - 2 * PAD)
            parts.append(
                f'<rect x="{x + side * bar:.1f}" y="{HEIGHT - h:.1f}" width="{bar:.1f}" '
                f'height="{h:.1f}" {style}/>'
            )
    centres = LEFT + (np.arange(len(occupied)) + 0.5) * slot
    return _svg(
        "".join(parts) + _axes(centres, [_fmt(v) for v in values], top, "value", "share"), HEIGHT + BOTTOM
    )


def _axes(x_ticks: np.ndarray, x_labels: list[str], top: float, x_title: str, y_title: str) -> str:
    """Both axes: x ticks with labels and a title under the plot, three y ticks with labels at its left."""
    parts = [
        f'<line x1="{LEFT}" y1="{HEIGHT}" x2="{WIDTH - PAD}" y2="{HEIGHT}" {AXIS_STYLE}/>',
        f'<line x1="{LEFT}" y1="{PAD}" x2="{LEFT}" y2="{HEIGHT}" {AXIS_STYLE}/>',
    ]
    step = max(1, -(-len(x_labels) // 8))  # at most 8 labels: the rest would overlap
    for k, (x, text) in enumerate(zip(x_ticks, x_labels, strict=True)):
        parts.append(f'<line x1="{x:.1f}" y1="{HEIGHT}" x2="{x:.1f}" y2="{HEIGHT + 3}" {AXIS_STYLE}/>')
        if k % step == 0:  # the outermost labels end at the plot's edges, not beyond them
            anchor = "start" if k == 0 else ("end" if k == len(x_labels) - 1 else "middle")
            parts.append(
                f'<text x="{x:.1f}" y="{HEIGHT + 12}" class="axis" text-anchor="{anchor}">{text}</text>'
            )
    for frac in (0.0, 0.5, 1.0):
        y = HEIGHT - frac * (HEIGHT - 2 * PAD)
        parts.append(f'<line x1="{LEFT - 3}" y1="{y:.1f}" x2="{LEFT}" y2="{y:.1f}" {AXIS_STYLE}/>')
        parts.append(
            f'<text x="{LEFT - 5}" y="{y + 3:.1f}" class="axis" text-anchor="end">{frac * top:.2g}</text>'
        )
    parts.append(
        f'<text x="{(LEFT + WIDTH) / 2:.0f}" y="{HEIGHT + 24}" class="axis" '
        f'text-anchor="middle">{x_title}</text>'
        f'<text x="10" y="{HEIGHT / 2:.0f}" class="axis" text-anchor="middle" '
        f'transform="rotate(-90 10 {HEIGHT / 2:.0f})">{y_title}</text>'
    )
    return "".join(parts)


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
    total = hist.sum()  # under/overflow count in the total: a share outside the range is drawn there
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
