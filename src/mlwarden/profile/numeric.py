"""Vectorised summaries of one numeric column: moments, quantile edges, histogram, KLL sketch."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from datasketches import kll_doubles_sketch

KLL_K = 200  # KLL accuracy parameter: ~1.3 % normalised rank error, a few KB per sketch
EDGE_SAMPLE = 65_536  # quantile edges are taken from an evenly strided subsample of at most this many values


@dataclass(slots=True)
class Moments:
    """Count, mean and sum of squared deviations of the finite values — merged with Chan's formula."""

    n: int = 0
    mean: float = float("nan")
    m2: float = 0.0

    @classmethod
    def of(cls, finite: np.ndarray) -> Moments:
        n = int(finite.size)
        if n == 0:
            return cls()
        mean = float(finite.mean())
        if n > 1:
            deviations = finite - mean
            m2 = float(np.dot(deviations, deviations))
        else:
            m2 = 0.0
        return cls(n, mean, m2)

    @classmethod
    def of_rows(cls, block: np.ndarray) -> list[Moments]:
        """:meth:`of` for each row of a 2-D block of finite values, in one vectorised pass."""
        n = block.shape[1]
        if n == 0:
            return [cls() for _ in range(block.shape[0])]
        means = block.mean(axis=1)
        deviations = block - means[:, None]
        m2 = np.einsum("ij,ij->i", deviations, deviations)
        return [cls(n, float(mean), float(sq)) for mean, sq in zip(means, m2, strict=True)]

    def merge(self, other: Moments) -> Moments:
        if self.n == 0:
            return Moments(other.n, other.mean, other.m2)
        if other.n == 0:
            return Moments(self.n, self.mean, self.m2)
        n = self.n + other.n
        delta = other.mean - self.mean
        mean = self.mean + delta * other.n / n
        m2 = self.m2 + other.m2 + delta * delta * self.n * other.n / n
        return Moments(n, mean, m2)


def quantile_edges(finite: np.ndarray, bins: int, lo: float, hi: float) -> np.ndarray:
    """Sorted unique bin edges at ``bins`` equal-mass quantiles, pinned to the exact ``lo`` and ``hi``.

    Large columns are subsampled with an even stride (deterministic), which is accurate to well under one
    bin's mass; ties (discrete or constant columns) collapse to fewer edges, with midpoints added between
    them so that each distinct value has its own bin.
    """
    step = max(1, finite.size // EDGE_SAMPLE)
    sample = finite[::step]
    inner = np.quantile(sample, np.linspace(0.0, 1.0, bins + 1)[1:-1]) if bins > 1 else np.empty(0)
    edges = np.unique(np.concatenate(([lo], inner, [hi])))
    edges = edges[(edges >= lo) & (edges <= hi)]
    if 1 < edges.size <= bins // 2:
        # Few distinct edges: a discrete column, whose values sit *on* the edges. Midpoints between them give
        # every value a bin of its own; otherwise 0 and 1 would share the closed last bin [0, 1].
        edges = np.unique(np.concatenate((edges, (edges[:-1] + edges[1:]) / 2)))
    return edges


def histogram(finite: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts and value sums per bin; ``len(edges) + 1`` bins: (-inf, e0), [e0, e1), …, (e_{k-1}, +inf).

    The sums make integrals of the CDF over each bin exact (``mlwarden.drift`` uses them for Wasserstein).
    The last inner bin is closed so that a reference's maximum falls inside the range, not in the overflow.
    Large arrays: equivalent to ``np.searchsorted(edges, finite, "right")`` followed by a bincount, but about
    six times faster on typical columns: a uniform grid of cells over [e0, e_{k-1}] maps each value to the bin
    of its cell's left boundary in O(1), then a few vectorised comparisons against the true edges make the bin
    exact.
    Small arrays, and columns whose edges crowd into a few cells (heavy tails), are sorted instead.
    """
    k = edges.size
    if k < 2 or finite.size < 4 * _CELLS_PER_BIN * k:  # small arrays: building the table costs more
        return _histogram_by_sort(finite, edges)
    lo, hi = float(edges[0]), float(edges[-1])
    cells = _CELLS_PER_BIN * k
    scale = cells / (hi - lo)
    # first_bin[c + 1]: edges <= left boundary of cell c; cell -1 is underflow, cell `cells` overflow
    first_bin = np.empty(cells + 2, dtype=np.intp)
    first_bin[0] = 0
    first_bin[1:] = np.searchsorted(edges, lo + np.arange(cells + 1) / scale, side="right")
    first_bin[-1] = k
    steps = int(np.diff(first_bin[1:]).max()) + 1
    if steps > _MAX_FIXUP_STEPS or not np.isfinite(scale):
        return _histogram_by_sort(finite, edges)
    upper = np.append(edges, np.inf)  # upper[b]: first value that belongs to a bin after b
    lower = np.append(-np.inf, edges)  # lower[b]: first value that belongs to bin b
    counts = np.zeros(k + 1, dtype=np.int64)
    sums = np.zeros(k + 1)
    buffer = np.empty(min(_CHUNK, finite.size))
    for start in range(0, finite.size, _CHUNK):  # chunks stay in cache across the passes below
        x = finite[start : start + _CHUNK]
        cell = buffer[: x.size]
        np.subtract(x, lo, out=cell)
        cell *= scale
        np.clip(cell, -1.0, cells, out=cell)
        cell += 1.0  # now >= 0, so truncation is floor
        b = first_bin[cell.astype(np.intp)]
        for _ in range(steps):  # step forward over edges <= x missed by rounding or inside the cell
            b += x >= upper[b]
        b -= x < lower[b]  # and back over one edge > x
        counts += np.bincount(b, minlength=k + 1)
        sums += np.bincount(b, weights=x, minlength=k + 1)
    at_max = np.count_nonzero(finite == hi)
    counts[k] -= at_max
    counts[k - 1] += at_max
    sums[k] -= at_max * hi
    sums[k - 1] += at_max * hi
    return counts, sums


_CELLS_PER_BIN = 16
_MAX_FIXUP_STEPS = 4
_CHUNK = 1 << 15


def _histogram_by_sort(finite: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort the values, then find each edge among them: a binary search per *edge* rather than per value,
    3-4× faster than ``np.searchsorted(edges, finite)`` below ~10,000 values (no branch mispredictions)."""
    return histogram_of_sorted(np.sort(finite), edges)


def histogram_of_sorted(ordered: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`histogram` of values already sorted ascending."""
    k = edges.size
    cuts = np.empty(k + 2, dtype=np.intp)  # cuts[b]: values before bin b
    cuts[0], cuts[-1] = 0, ordered.size
    cuts[1:-1] = np.searchsorted(ordered, edges, side="left")
    if k > 1:
        cuts[-2] = np.searchsorted(ordered, edges[-1], side="right")  # the last inner bin is closed
    counts = np.diff(cuts).astype(np.int64)
    sums = np.zeros(k + 1)
    filled = counts > 0
    if filled.any():
        sums[filled] = np.add.reduceat(ordered, cuts[:-1][filled])
    return counts, sums


def new_sketch(finite: np.ndarray) -> kll_doubles_sketch:
    sketch = kll_doubles_sketch(KLL_K)
    if finite.size:
        sketch.update(np.require(finite, dtype=np.float64, requirements=["C", "W"]))
    return sketch


def merge_sketches(a: kll_doubles_sketch | None, b: kll_doubles_sketch | None) -> kll_doubles_sketch | None:
    """A new sketch holding both inputs (``None`` when either side has none: its data would be missing)."""
    if a is None or b is None:
        return None
    merged = kll_doubles_sketch.deserialize(a.serialize())
    merged.merge(b)
    return merged


def histogram_quantiles(
    edges: np.ndarray, hist: np.ndarray, lo: float, hi: float, qs: np.ndarray
) -> np.ndarray:
    """Quantiles read off a histogram, assuming values spread evenly inside each bin.

    Under/overflow bins span [lo, e0) and (e_{k-1}, hi] where ``lo``/``hi`` are the column's own min/max.
    """
    total = hist.sum()
    if total == 0:
        return np.full(qs.shape, np.nan)
    points = np.concatenate(([min(lo, edges[0])], edges, [max(hi, edges[-1])]))
    cdf = np.concatenate(([0.0], np.cumsum(hist) / total))
    # A flat step in the CDF (an empty bin) must not make np.interp ambiguous: keep the last point per level.
    keep = np.append(np.diff(cdf) > 0, True)
    keep[0] = True
    return np.interp(qs, cdf[keep], points[keep])
