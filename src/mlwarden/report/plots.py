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
