"""Vectorised summaries of one numeric column: moments, quantile edges, histogram, KLL sketch."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from datasketches import kll_doubles_sketch

DEFAULT_BINS = 100  # equal-mass histogram bins per numeric column
KLL_K = 200  # KLL accuracy parameter: ~1.3 % normalised rank error, a few KB per sketch
EDGE_SAMPLE = 65_536  # quantile edges are taken from an evenly strided subsample of at most this many values


SAFE_EXPONENT = 256  # values within 2**±256 in magnitude: squared deviations cannot over- or underflow


def scale_exponent(lo: float, hi: float) -> int:
    """The power of two that moments of values in ``[lo, hi]`` are computed at: 0 (unscaled) for everyday
    magnitudes, else the binary exponent of the largest magnitude (columns of values near 1e±300)."""
    largest = max(abs(lo), abs(hi))
    if not math.isfinite(largest) or largest == 0 or 2.0**-SAFE_EXPONENT <= largest <= 2.0**SAFE_EXPONENT:
        return 0
    return math.frexp(largest)[1]


@dataclass(slots=True)
class Moments:
    """Count, mean and sum of squared deviations (M2) of the finite values — merged with Chan's formula
    (Chan, Golub & LeVeque, "Algorithms for computing the sample variance", The American Statistician, 1983).

    M2 is held as ``scaled_m2 · 4**exponent``: values of magnitude near 1e±300 have squared deviations far
    outside the float range, so their moments are computed on the values divided by ``2**exponent`` (exact:
    a power of two) and a merge rescales both sides to the larger exponent before Chan's formula. Everyday
    data has ``exponent`` 0, where ``scaled_m2`` is M2 itself.
    """

    n: int = 0
    mean: float = float("nan")
    scaled_m2: float = 0.0
    exponent: int = 0

    @classmethod
    def of(cls, finite: np.ndarray, lo: float | None = None, hi: float | None = None) -> Moments:
        """Moments of an array of finite values; ``lo``/``hi`` (its min and max) pick the scale if given."""
        n = int(finite.size)
        if n == 0:
            return cls()
        if lo is None or hi is None:
            lo, hi = float(finite.min()), float(finite.max())
        exponent = scale_exponent(lo, hi)
        x = finite if exponent == 0 else np.ldexp(finite, -exponent)
        mean = float(x.mean())
        if n > 1:
            deviations = x - mean
            m2 = float(np.einsum("i,i->", deviations, deviations))  # np.dot: threaded BLAS, slow under load
        else:
            m2 = 0.0
        return cls(n, math.ldexp(mean, exponent), m2, exponent)

    @classmethod
    def of_rows(cls, block: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> list[Moments]:
        """:meth:`of` for each row of a 2-D block of finite values (row minima ``lo``, maxima ``hi``), in one
        vectorised pass; rows of extreme magnitude are done one by one."""
        n = block.shape[1]
        if n == 0:
            return [cls() for _ in range(block.shape[0])]
        means = block.mean(axis=1)
        deviations = block - means[:, None]
        m2 = np.einsum("ij,ij->i", deviations, deviations)
        out = [cls(n, float(mean), float(sq)) for mean, sq in zip(means, m2, strict=True)]
        largest = np.maximum(np.abs(lo), np.abs(hi))
        extreme = (largest > 2.0**SAFE_EXPONENT) | ((largest < 2.0**-SAFE_EXPONENT) & (largest > 0))
        for row in np.flatnonzero(extreme):
            out[row] = cls.of(block[row], float(lo[row]), float(hi[row]))
        return out

    @property
    def m2(self) -> float:
        """The sum of squared deviations (``inf`` when it exceeds the float range)."""
        return _ldexp(self.scaled_m2, 2 * self.exponent)

    @property
    def variance(self) -> float:
        """Population variance (ddof=0); NaN without values, ``inf`` beyond the float range."""
        return _ldexp(self.scaled_m2 / self.n, 2 * self.exponent) if self.n else float("nan")

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0), computed in the scaled form; NaN without values."""
        return _ldexp(math.sqrt(self.scaled_m2 / self.n), self.exponent) if self.n else float("nan")

    def merge(self, other: Moments) -> Moments:
        if self.n == 0:
            return replace(other)
        if other.n == 0:
            return replace(self)
        n = self.n + other.n
        exponent = max(self.exponent, other.exponent)  # rescaling only shrinks: no overflow
        mine, theirs = math.ldexp(self.mean, -exponent), math.ldexp(other.mean, -exponent)
        delta = theirs - mine
        mean = mine + delta * other.n / n
        m2 = (
            math.ldexp(self.scaled_m2, 2 * (self.exponent - exponent))
            + math.ldexp(other.scaled_m2, 2 * (other.exponent - exponent))
            + delta * delta * self.n * other.n / n
        )
        return Moments(n, math.ldexp(mean, exponent), m2, exponent)


def _ldexp(x: float, exponent: int) -> float:
    try:
        return math.ldexp(x, exponent)
    except OverflowError:
        return math.copysign(math.inf, x)


def edge_step(n: int) -> int:
    """The stride of the subsample quantile edges are taken from, for ``n`` finite values: the largest power
    of two keeping at least ``EDGE_SAMPLE`` values (1 below ``2 * EDGE_SAMPLE``). A power of two, so that a
    stream of chunks can keep every ``s``-th value and thin to every ``2s``-th as it grows
    (:class:`EdgeSampler`), ending with exactly the values an in-memory pass picks."""
    return 1 << max(0, (n // EDGE_SAMPLE).bit_length() - 1)


def quantile_edges(finite: np.ndarray, bins: int, lo: float, hi: float) -> np.ndarray:
    """Sorted unique bin edges at ``bins`` equal-mass quantiles, pinned to the exact ``lo`` and ``hi``.

    Large columns are subsampled with an even stride (deterministic, :func:`edge_step`), which is accurate
    to well under one bin's mass; ties (discrete or constant columns) collapse to fewer edges, with midpoints
    added between them so that each distinct value has its own bin.
    """
    return edges_of_sample(finite[:: edge_step(finite.size)], bins, lo, hi)


def edges_of_sample(sample: np.ndarray, bins: int, lo: float, hi: float) -> np.ndarray:
    """:func:`quantile_edges` from the strided subsample (``lo``/``hi``: the whole column's min/max)."""
    inner = np.quantile(sample, np.linspace(0.0, 1.0, bins + 1)[1:-1]) if bins > 1 else np.empty(0)
    edges = np.unique(np.concatenate(([lo], inner, [hi])))
    edges = edges[(edges >= lo) & (edges <= hi)]
    if 1 < edges.size <= bins // 2:
        # Few distinct edges: a discrete column, whose values sit *on* the edges. Midpoints between them give
        # every value a bin of its own; otherwise 0 and 1 would share the closed last bin [0, 1].
        edges = np.unique(np.concatenate((edges, edges[:-1] / 2 + edges[1:] / 2)))  # halves: no overflow
    return edges


class EdgeSampler:
    """The subsample :func:`quantile_edges` takes, gathered from a column that arrives in chunks.

    Keeps every ``s``-th finite value by position in the whole column (``s`` a power of two, doubled — and
    the kept values thinned — once the column is long enough that the final stride is at least ``2s``), so
    memory stays under ``2 * EDGE_SAMPLE`` values plus one chunk; :meth:`edges` then equals
    ``quantile_edges`` of the whole column exactly.
    """

    def __init__(self) -> None:
        self.seen = 0
        self.stride = 1
        self.kept: list[np.ndarray] = []
        self.lo, self.hi = math.inf, -math.inf

    def add(self, finite: np.ndarray) -> None:
        """Add the next chunk's finite values (in column order)."""
        if not finite.size:
            return
        self.lo, self.hi = min(self.lo, float(finite.min())), max(self.hi, float(finite.max()))
        first = -self.seen % self.stride  # the chunk's first position that is a multiple of the stride
        self.kept.append(finite[first :: self.stride].copy())
        self.seen += finite.size
        while self.seen >= 2 * self.stride * EDGE_SAMPLE:  # the final stride will be at least twice this
            self.kept = [np.concatenate(self.kept)[::2]]
            self.stride *= 2

    def edges(self, bins: int) -> np.ndarray | None:
        """The column's quantile edges (``None`` when it had no finite value)."""
        if not self.seen:
            return None
        kept = np.concatenate(self.kept)
        return edges_of_sample(kept[:: edge_step(self.seen) // self.stride], bins, self.lo, self.hi)


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
    with np.errstate(over="ignore", divide="ignore"):
        scale = cells / (hi - lo)  # edges spanning more than the float range, or very close: no grid
    if not 0 < scale < np.inf:
        return _histogram_by_sort(finite, edges)
    # first_bin[c + 1]: edges <= left boundary of cell c; cell -1 is underflow, cell `cells` overflow
    first_bin = np.empty(cells + 2, dtype=np.intp)
    first_bin[0] = 0
    first_bin[1:] = np.searchsorted(edges, lo + np.arange(cells + 1) / scale, side="right")
    first_bin[-1] = k
    steps = int(np.diff(first_bin[1:]).max()) + 1
    if steps > _MAX_FIXUP_STEPS:
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


def merge_sketches(sketches: list[kll_doubles_sketch | None]) -> kll_doubles_sketch | None:
    """A new sketch holding all inputs (``None`` when any part has none: its data would be missing)."""
    if any(s is None for s in sketches):
        return None
    merged = kll_doubles_sketch.deserialize(sketches[0].serialize())
    for sketch in sketches[1:]:
        merged.merge(sketch)
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
