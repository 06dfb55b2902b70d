"""Merging histograms binned on different edges: parts of one dataset profiled each on its own edges (daily
files, partitions, hourly windows before a reference exists) merge into one histogram.

The merged edges are the union of the parts' edges, thinned — when there are more than ``max_edges`` — to
the union edges nearest the merged CDF's equal-mass quantiles (always keeping the outermost two). Each part's
bins are spread onto the union's bins: a bin holding ``c`` values whose mean is ``m`` (from its bin sum) is
taken as ``c`` values spread evenly over the widest interval inside the bin centred on ``m`` — the whole bin
when ``m`` is its midpoint, a single point when ``m`` sits on one of its edges (the values of a discrete
column sit on its edges, so their point masses move exactly). Counts and sums within the part's bin are
therefore kept, and a value never moves outside its own bin.

Error bound. A part's CDF is exact at its own edges and off by at most the mass of its bin containing ``x``
anywhere else, so the merged CDF differs from the CDF of all the values together by at most the largest
single-bin mass of any part (about 1/bins of that part's values for equal-mass bins), plus the rounding of
fractional counts to integers (under one value per part, cumulatively). With equal edges the histograms
simply add (exact), and a part without finite values contributes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mlwarden.profile.column import ColumnProfile

_SNAP = 1e-9  # a bin mean within this fraction of the bin's width from an edge sits on that edge


def merge_binnings(
    parts: list[ColumnProfile], max_edges: int
) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
    """``(edges, hist, bin_sums)`` of all ``parts``' finite values together; see the module docstring.

    ``parts`` are numeric column profiles of one column; ``None``s when a part with values has no
    histogram (nothing to rebuild it from).
    """
    binned = [p for p in parts if p.hist is not None]
    if len(binned) == len(parts) and _same_edges(binned):
        return binned[0].edges, _sum(p.hist for p in binned), _sum_or_none([p.bin_sums for p in binned])
    valued = [p for p in parts if p.moments.n > 0]
    if not valued or any(p.hist is None for p in valued):
        return None, None, None
    if _same_edges(valued):
        return valued[0].edges, _sum(p.hist for p in valued), _sum_or_none([p.bin_sums for p in valued])
    valued.sort(key=_canonical)  # the result must not depend on the order of the parts
    union = np.unique(np.concatenate([p.edges for p in valued]))
    spread = [_spread(p, union) for p in valued]
    counts = _sum(c for c, _ in spread)
    sums = _sum(s for _, s in spread)
    edges, starts = union, None
    if union.size > max_edges:
        keep = _equal_mass_edges(counts, max_edges)
        edges, starts = union[keep], np.concatenate(([0], keep + 1))
        counts, sums = np.add.reduceat(counts, starts), np.add.reduceat(sums, starts)
    hist = _sum(
        _round_keeping_total(c if starts is None else np.add.reduceat(c, starts), int(p.hist.sum()))
        for (c, _), p in zip(spread, valued, strict=True)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / counts, 0.0)  # each bin keeps its mean; empty bins sum to 0
    return edges, hist, means * hist


def _same_edges(parts: list[ColumnProfile]) -> bool:
    return all(np.array_equal(p.edges, parts[0].edges) for p in parts[1:])


def _sum(arrays: Iterable[np.ndarray]) -> np.ndarray:
    it = iter(arrays)
    total = next(it).copy()
    for a in it:
        total += a
    return total


def _sum_or_none(arrays: list[np.ndarray | None]) -> np.ndarray | None:
    present = [a for a in arrays if a is not None]
    return _sum(present) if len(present) == len(arrays) else None


def _canonical(p: ColumnProfile) -> tuple:
    return (p.moments.n, p.min, p.max, p.edges.tobytes(), p.hist.tobytes())


def _spread(p: ColumnProfile, union: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Part ``p``'s counts and value sums on the bins of ``union`` (fractional counts), ``union`` ⊇ its
    edges. Bins: (-inf, u0), [u0, u1), …, [u_{k-2}, u_{k-1}], (u_{k-1}, +inf) as in ``numeric.histogram``."""
    e = p.edges
    lo = np.concatenate(([min(p.min, e[0])], e))  # bin j spans [lo_j, hi_j]; the outer bins end at min/max
    hi = np.concatenate((e, [max(p.max, e[-1])]))
    filled = p.hist > 0
    lo, hi, count = lo[filled], hi[filled], p.hist[filled].astype(float)
    mean = _midpoint(lo, hi) if p.bin_sums is None else np.clip(p.bin_sums[filled] / count, lo, hi)
    tolerance = _SNAP * (hi - lo)
    mean = np.where(mean - lo <= tolerance, lo, np.where(hi - mean <= tolerance, hi, mean))
    half = np.minimum(mean - lo, hi - mean)
    bins = union.size + 1
    counts, sums = np.zeros(bins), np.zeros(bins)

    point = half == 0  # all of the bin's values at one value (on an edge, or a constant column)
    at = mean[point]
    where = np.searchsorted(union, at, side="right")
    if union.size > 1:
        where[at == union[-1]] = union.size - 1  # the last inner bin is closed
    counts += np.bincount(where, weights=count[point], minlength=bins)
    sums += np.bincount(where, weights=count[point] * at, minlength=bins)

    spread = ~point  # rounding must not carry values past their own bin: clip to it
    u = np.maximum(mean[spread] - half[spread], lo[spread])
    v = np.minimum(mean[spread] + half[spread], hi[spread])
    c = count[spread]
    if u.size:
        breaks = np.unique(np.concatenate((u, v, union)))
        a, b = breaks[:-1], breaks[1:]  # elementary segments: each inside one part bin and one union bin
        j = np.clip(np.searchsorted(u, a, side="right") - 1, 0, u.size - 1)
        inside = (a >= u[j]) & (b <= v[j])
        a, b, j = a[inside], b[inside], j[inside]
        share = c[j] * _ratio(b - a, v[j] - u[j], a, b, u[j], v[j])
        where = np.searchsorted(union, a, side="right")  # the union bin holding the segment [a, b]
        counts += np.bincount(where, weights=share, minlength=bins)
        sums += np.bincount(where, weights=share * _midpoint(a, b), minlength=bins)
    return counts, sums


def _midpoint(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        width = b - a
        return np.where(np.isfinite(width), a + width / 2, a / 2 + b / 2)  # halves beyond the float range


def _ratio(
    part: np.ndarray, whole: np.ndarray, a: np.ndarray, b: np.ndarray, u: np.ndarray, v: np.ndarray
) -> np.ndarray:
    """``part / whole`` for the widths ``b - a`` and ``v - u``, also when the widths overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(np.isfinite(whole), part / whole, (b / 2 - a / 2) / (v / 2 - u / 2))


def _equal_mass_edges(counts: np.ndarray, max_edges: int) -> np.ndarray:
    """Indices of at most ``max_edges`` union edges: the first and last, and for each inner equal-mass level
    the first edge with at least that share of the values below it."""
    below = np.cumsum(counts)[:-1]  # below[i]: values before union edge i
    levels = np.arange(1, max_edges - 1) / (max_edges - 1) * counts.sum()
    inner = np.clip(np.searchsorted(below, levels, side="left"), 1, below.size - 2)
    return np.unique(np.concatenate(([0], inner, [below.size - 1])))


def _round_keeping_total(fractional: np.ndarray, total: int) -> np.ndarray:
    """Integer counts whose running totals are the rounded running totals of ``fractional`` (so each
    count is off by under one, and the sum is exactly ``total``)."""
    running = np.minimum(np.round(np.cumsum(fractional)), total)
    running[-1] = total
    return np.diff(running, prepend=0.0).astype(np.int64)
