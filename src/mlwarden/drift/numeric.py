"""Drift statistics for numeric columns, computed from histograms on the reference's bin edges.

Both profiles count values in the same bins, so every statistic costs O(bins), whatever the row count.
Values are divided by the column's magnitude before any arithmetic, so columns near 1e±300 neither overflow
nor underflow. Discrete columns (every value in a bin of its own) are also compared on their value
frequencies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import comb
from scipy.stats import kstwo, kstwobign

from mlwarden.drift import distances
from mlwarden.drift.categorical import chi2_homogeneity
from mlwarden.profile import ColumnProfile

EXACT_KS_LIMIT = 10_000  # n·m up to which the KS p-value is the exact two-sample one
KSTWO_LIMIT = 10_000  # above it, n_eff up to which the one-sample distribution is evaluated exactly


@dataclass(frozen=True, slots=True)
class NumericScores:
    wasserstein: float  # W1 divided by the scale (see ``scale``)
    ks: float
    ks_p_value: float
    psi: float
    jensenshannon: float
    hellinger: float
    # discrete columns only: chi-square test of homogeneity over the per-value bins, and the value
    # frequencies' Jensen–Shannon distance
    chi2_p_value: float | None = None
    frequency_jensenshannon: float | None = None

    def as_dict(self) -> dict[str, float]:
        out = {
            "wasserstein": self.wasserstein,
            "ks": self.ks,
            "psi": self.psi,
            "jensenshannon": self.jensenshannon,
            "hellinger": self.hellinger,
        }
        if self.chi2_p_value is not None and self.frequency_jensenshannon is not None:
            out["chi2"] = self.chi2_p_value
            out["frequency_jensenshannon"] = self.frequency_jensenshannon
        return out


@dataclass(frozen=True, slots=True)
class Bins:
    """One side's histogram on the shared edges, in units of ``unit`` (the column's magnitude).

    Bin b holds ``counts[b]`` values, all in [low[b], high[b]] (``low`` excluded for the overflow bin,
    ``high`` excluded where it is an open upper edge), summing to ``sums[b]`` (``None``: unknown).
    """

    low: np.ndarray
    high: np.ndarray
    low_open: np.ndarray
    high_open: np.ndarray
    counts: np.ndarray
    sums: np.ndarray | None

    @property
    def n(self) -> float:
        return float(self.counts.sum())


def unit(ref: ColumnProfile, cur: ColumnProfile) -> float:
    """A power of two near the columns' largest magnitude: dividing by it is exact and keeps values O(1)."""
    values = [ref.min, ref.max, cur.min, cur.max, *ref.edges[[0, -1]]]
    top = max((abs(v) for v in values if np.isfinite(v)), default=0.0)
    return float(2.0 ** np.frexp(top)[1]) if top > 0 else 1.0


def bins(col: ColumnProfile, u: float) -> Bins:
    """``col``'s occupied bins as :class:`Bins`, scaled by ``u``: of (-inf, e0), [e0, e1), …,
    [e_{k-2}, e_{k-1}], (e_{k-1}, inf), those holding values, each clipped to the column's own [min, max]."""
    edges = col.edges / u
    lo, hi = col.min / u, col.max / u
    k = edges.size
    natural_low, natural_high = np.concatenate(([-np.inf], edges)), np.concatenate((edges, [np.inf]))
    low, high = np.maximum(natural_low, lo), np.minimum(natural_high, hi)
    # Open upper edges: every bin before the last inner one (which is closed; with a single edge, values
    # equal to it fall in the upper bin). Open lower edge: the overflow bin, (e_{k-1}, inf), when k > 1.
    # An edge moved in to the column's own min/max is closed.
    high_open = (np.arange(k + 1) < max(k - 1, 1)) & (natural_high <= hi)
    low_open = (np.arange(k + 1) == k) & (k > 1) & (natural_low >= lo)
    sums = None if col.bin_sums is None else col.bin_sums[col.hist > 0] / u
    occupied = col.hist > 0  # empty bins bound nothing; without them the bins are disjoint and ordered
    counts = col.hist[occupied].astype(float)
    return Bins(low[occupied], high[occupied], low_open[occupied], high_open[occupied], counts, sums)


def cdf_knots(col: ColumnProfile) -> tuple[np.ndarray, np.ndarray]:
    """Knots ``(x, F(x))`` of the column's piecewise-linear CDF read off its histogram (values spread evenly
    inside each bin): what re-binning a profile onto other edges assumes."""
    edges, hist = col.edges, col.hist
    x = np.concatenate(([min(col.min, edges[0])], edges, [max(col.max, edges[-1])]))
    f = np.concatenate(([0.0], np.cumsum(hist) / hist.sum()))
    return x, f


def eval_cdf(x: np.ndarray, f: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The piecewise-linear CDF with knots ``(x, f)`` at ``at``; right-continuous at a repeated knot."""
    idx = np.searchsorted(x, at, side="right")
    out = np.empty(at.size)
    below, above = idx == 0, idx >= x.size
    inner = ~(below | above)
    i = idx[inner]
    x0, x1, f0, f1 = x[i - 1], x[np.minimum(i, x.size - 1)], f[i - 1], f[np.minimum(i, x.size - 1)]
    width = x1 - x0
    with np.errstate(divide="ignore", invalid="ignore"):
        out[inner] = np.where(width > 0, f0 + (f1 - f0) * ((at[inner] - x0) / width), f0)
    out[below], out[above] = 0.0, 1.0
    return out


def count_bounds(b: Bins, at: np.ndarray, *, strict: bool) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds on the number of values < ``at`` (``strict``) or <= ``at``, per point.

    A bin entirely on one side of a point counts fully or not at all; a bin straddling it contributes
    between 0 and its count, narrowed by Markov's inequality when the bin's sum is known: with bin mean μ in
    [l, u], at most c·(μ − l)/(x − l) values reach x and at most c·(u − μ)/(u − x) stay at or below it.
    Exact wherever the histogram determines the CDF (edges, both sides' extremes, bins holding one value).
    The bins are disjoint and ordered, so those below a point are a prefix and those above a suffix: a
    binary search finds both, and the one or two bins in between are bounded individually.
    """
    low, high, c = b.low, b.high, b.counts
    if strict:  # values < x: bins with high < x, or high == x open, lie below; bins with low >= x above
        first_not_below = np.searchsorted(high, at, side="left")
        edge = np.minimum(first_not_below, high.size - 1)
        first_not_below += (high[edge] == at) & b.high_open[edge] & (first_not_below < high.size)
        first_above = np.searchsorted(low, at, side="left")
    else:  # values <= x: bins with high <= x below; bins with low > x, or low == x open, above
        first_not_below = np.searchsorted(high, at, side="right")
        first_above = np.searchsorted(low, at, side="right")
        last = low.size - 1
        first_above = np.where(
            (low[last] == at) & b.low_open[last], np.minimum(first_above, last), first_above
        )
    cumulative = np.concatenate(([0.0], np.cumsum(c)))
    lower = cumulative[first_not_below].copy()
    upper = lower.copy()
    for offset in range(int(np.max(first_above - first_not_below, initial=0))):
        k = first_not_below + offset
        inside = k < first_above
        k = np.minimum(k, c.size - 1)
        ck, lk, hk = c[k], low[k], high[k]
        part_low, part_high = np.zeros(at.size), ck.copy()
        if b.sums is not None:
            mean = np.clip(b.sums[k] / ck, lk, hk)
            with np.errstate(divide="ignore", invalid="ignore"):
                reach = np.where(at > lk, ck * ((mean - lk) / (at - lk)), ck)  # values >= x (or > x)
                stay = np.where(hk > at, ck * ((hk - mean) / (hk - at)), ck)  # values <= x
            part_low, part_high = np.clip(ck - reach, 0.0, ck), np.clip(stay, 0.0, ck)
        lower += np.where(inside, part_low, 0.0)
        upper += np.where(inside, part_high, 0.0)
    return lower, upper


def ks_statistic(ref: Bins, cur: Bins) -> float:
    """The largest CDF gap the two histograms *prove*: a lower bound of the exact two-sample KS statistic.

    At every edge and both sides' minimum and maximum, each side's P(X < x) and P(X <= x) are bounded by
    :func:`count_bounds`; the gap counted is the distance between the two sides' intervals. Ties and point
    masses (discrete columns, a constant reference) are handled exactly — no interpolation inside a bin.
    """
    points = np.unique(np.concatenate((ref.low, ref.high, cur.low, cur.high)))
    points = points[np.isfinite(points)]
    n, m = ref.n, cur.n
    gap = 0.0
    for strict in (True, False):
        r_lo, r_hi = count_bounds(ref, points, strict=strict)
        c_lo, c_hi = count_bounds(cur, points, strict=strict)
        gap = max(gap, float(np.max(np.maximum(r_lo / n - c_hi / m, c_lo / m - r_hi / n), initial=0.0)))
    return min(gap, 1.0)


def square_sf(h: int, n: int) -> float:
    """P(D ≥ h/n) for two samples of ``n`` values each (1 ≤ h ≤ n): the reflection-principle sum
    2 Σ_{k ≥ 1} (−1)^(k−1) C(2n, n − k·h) / C(2n, n) (Hodges 1958, see :func:`ks_exact_sf`; scipy's
    ``_compute_prob_outside_square``). The ratios are one cumulative product of (n − t)/(n + t + 1), so no
    binomial is formed; the terms fall geometrically once the sum is small, so it keeps its precision.
    """
    ratios = np.cumprod((n - np.arange(n)) / (n + 1.0 + np.arange(n)))  # [t − 1]: C(2n, n − t)/C(2n, n)
    terms = ratios[h - 1 :: h]
    return float(min(1.0, 2.0 * np.sum(terms[::2]) - 2.0 * np.sum(terms[1::2])))


def ks_exact_sf(d: float, n: int, m: int) -> float:
    """P(D ≥ d) for the two-sample KS statistic D of samples of ``n`` and ``m`` values from one continuous
    distribution: the exact null distribution (all C(n + m, n) orderings equally likely).

    D lives on the lattice of multiples of 1/L, L = lcm(n, m); ``d`` is a *lower bound* of an observed D,
    so D ≥ h/L with h = ⌈d·L − 10⁻⁶⌉: float noise around a lattice point stays on it (there this equals
    scipy's rounding of d·L), and a fractional Markov bound (see :func:`count_bounds`) moves up to the next
    lattice point, which it proves.

    Lattice-path counting (J. L. Hodges, "The significance probability of the Smirnov two-sample test",
    Arkiv för Matematik 3 (1958) 469–486; as scipy's ``_compute_outer_prob_inside_method``): after i of the
    n and j of the m values, the CDF gap is |i·m − j·n| / (n·m). W(i, j), the number of paths to (i, j)
    that have reached a gap ≥ h/L, is C(i + j, i) on such cells and W(i − 1, j) + W(i, j − 1) inside; each
    row's inside cells are one run of j, so a row is one cumulative sum. All terms are non-negative —
    no 1 − P(inside) cancellation, so tiny p-values keep full relative precision. Counts are floats:
    C(n + m, n) ≤ C(200, 100) ≈ 9e58 for n·m ≤ ``EXACT_KS_LIMIT``, far from overflow. Cost O(n·m), a
    Python loop over the min(n, m) + 1 rows; O(n) and no loop for n = m (:func:`square_sf`). Raises
    ValueError for n or m < 1.
    """
    if n < 1 or m < 1:
        raise ValueError(f"sample sizes must be at least 1, got n={n}, m={m}")
    if n > m:  # symmetric: loop over the shorter side
        n, m = m, n
    g = math.gcd(n, m)
    step_i, step_j = m // g, n // g  # the gap is |i·step_i − j·step_j| / L
    h = math.ceil(d * (n // g) * m - 1e-6)
    if h <= 0:
        return 1.0
    if n == m:
        return square_sf(h, n)
    i = np.arange(n + 1)
    lo = np.maximum((i * step_i - h) // step_j + 1, 0).tolist()  # inside: lo ≤ j < hi
    hi = np.minimum(-((-(i * step_i + h)) // step_j), m + 1).tolist()
    paths = np.ones(m + 1)  # C(i + j, i) along row i
    outside = np.zeros(m + 1)  # row i − 1 of W; row −1 is empty
    for row, a, b in zip(range(n + 1), lo, hi, strict=True):
        if row:
            np.cumsum(paths, out=paths)
        band = np.cumsum(outside[a:b])
        if a:
            band += paths[a - 1]
        outside = paths.copy()
        outside[a:b] = band
    return float(min(1.0, outside[m] / paths[m]))


def ks(ref: ColumnProfile, cur: ColumnProfile) -> tuple[float, float]:
    """Two-sample Kolmogorov–Smirnov statistic (a lower bound, see :func:`ks_statistic`) and its p-value.

    For n·m ≤ ``EXACT_KS_LIMIT`` the p-value is the exact two-sample one (:func:`ks_exact_sf`); the
    one-sample distribution at n_eff = n·m/(n + m) it replaced was anti-conservative there: 0.0056 against
    0.012 for 10 rows against 10 at statistic 0.7, 0.00083 against 0.0082 for 7 against 7 at 6/7. Above,
    it is that one-sample distribution, as scipy's ``ks_2samp`` in asymptotic mode: exact in n_eff up to
    n_eff = ``KSTWO_LIMIT``, Kolmogorov's limit beyond. A lower-bound statistic and ties both make the
    test conservative.

    The asymptotic p-value is never below 2 / C(n + m, n), the exact chance that exchangeable samples
    separate completely (statistic 1; Hodges 1958, see :func:`ks_exact_sf`): the one-sample distribution
    puts no mass there, which gave one row against 10,001 rows a p-value of 0 instead of 2/10,002. Below
    the limit the exact p-value at statistic 1 *is* that floor, so it is applied above the limit only.
    """
    u = unit(ref, cur)
    r, c = bins(ref, u), bins(cur, u)
    stat = ks_statistic(r, c)
    if stat == 0:
        return stat, 1.0
    n, m = round(r.n), round(c.n)
    if n * m <= EXACT_KS_LIMIT:
        return stat, ks_exact_sf(stat, n, m)
    n_eff = round(n * m / (n + m))
    separated = min(1.0, 2.0 / float(comb(n + m, n)))  # 0 once C overflows: far below any alpha
    if n_eff > KSTWO_LIMIT:  # the exact distribution is slow to evaluate and no more accurate here
        return stat, max(separated, float(kstwobign.sf(stat * np.sqrt(n_eff))))
    return stat, max(separated, float(kstwo.sf(stat, n_eff)))


def bin_integrals(col: ColumnProfile, u: float = 1.0) -> np.ndarray:
    """Per bin, the integral of the CDF F over the bin (of 1 - F, negated, for the overflow bin), in units
    of ``u``.

    For a bin [a, b) holding values x_i after ``before`` values: integral of F over [a, b] is
    (before·(b − a) + Σ (b − x_i)) / n — exact given the bin's count and sum. Profiles without bin sums take
    each bin's values as spread evenly (under/overflow out to the column's own min/max).
    """
    edges, hist = col.edges / u, col.hist.astype(float)
    n = hist.sum()
    if col.bin_sums is not None:
        sums = col.bin_sums / u
    else:
        lows = np.concatenate(([min(col.min / u, edges[0])], edges))
        highs = np.concatenate((edges, [max(col.max / u, edges[-1])]))
        sums = hist * (lows + highs) / 2
    before = np.concatenate(([0.0], np.cumsum(hist)[:-1]))
    out = np.empty(hist.size)
    out[0] = hist[0] * edges[0] - sums[0]  # (-inf, e0): sum of (e0 - x)
    out[1:-1] = before[1:-1] * np.diff(edges) + hist[1:-1] * edges[1:] - sums[1:-1]
    out[-1] = edges[-1] * hist[-1] - sums[-1]  # (e_max, inf): minus the sum of (x - e_max)
    return out / n


def wasserstein(ref: ColumnProfile, cur: ColumnProfile, u: float = 1.0) -> float:
    """W1 = integral of |F_ref − F_cur| dx (in units of ``u``), summed bin by bin on the reference's edges.

    Per bin the integral of F_ref − F_cur is exact (see :func:`bin_integrals`); its absolute value equals the
    bin's share of W1 unless the two CDFs cross inside the bin, so the result is exact up to the few bins
    where they cross (and never larger than the true distance).
    """
    return float(np.abs(bin_integrals(ref, u) - bin_integrals(cur, u)).sum())


def histogram_std(col: ColumnProfile, u: float) -> float:
    """Standard deviation of the bin means (in units of ``u``): a lower bound of the column's std, used
    when the profile's moments over- or underflowed."""
    if col.bin_sums is None or col.hist is None or col.hist.sum() == 0:
        return 0.0
    counts = col.hist.astype(float)
    filled = counts > 0
    means = col.bin_sums[filled] / u / counts[filled]
    weights = counts[filled] / counts.sum()
    centre = float(np.dot(weights, means))
    return float(np.sqrt(np.dot(weights, (means - centre) ** 2)))


def scale(ref: ColumnProfile, cur: ColumnProfile, u: float = 1.0) -> float:
    """What W1 is divided by (in units of ``u``): the reference std; if the reference is constant, the
    current std; if both are constant, max(|reference value|, 1) — so a constant that moves is measured
    relative to its size. A std that over- or underflowed in the profile (magnitudes near 1e±300) is
    replaced by the std of the histogram's bin means."""
    for col in (ref, cur):
        s = col.std / u
        if not (np.isfinite(s) and s > 0):
            s = histogram_std(col, u)
        if np.isfinite(s) and s > 0:
            return float(s)
    return max(abs(ref.mean) / u, 1.0 / u) if np.isfinite(ref.mean) else 1.0 / u


MAX_FREQUENCY_BINS = 50  # a reference occupying at most this many bins has few distinct values
MIN_PER_VALUE = 5  # ... provided its values repeat: at least this many per occupied bin on average


def has_few_values(col: ColumnProfile) -> bool:
    """Whether ``col`` (a reference) occupies at most 50 bins, none of them under/overflow, with at least 5
    values per occupied bin on average: a column of few distinct, repeated values (codes, counts, flags),
    whose profile gives (nearly) every value a bin of its own."""
    hist = col.hist
    if hist is None or hist.size < 3 or hist[0] or hist[-1]:
        return False
    occupied = int(np.count_nonzero(hist))
    return 1 < occupied <= MAX_FREQUENCY_BINS and hist.sum() >= MIN_PER_VALUE * occupied


DISTANCE_GROUPS = 10  # PSI, Jensen–Shannon and Hellinger compare the reference's deciles


def decile_counts(ref_hist: np.ndarray, cur_hist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both histograms pooled into the reference's ``DISTANCE_GROUPS`` equal-mass groups with open ends
    (under/overflow bins join the first/last group): the binning of the textbook PSI. Each bin joins the
    group holding its middle reference mass. On 100 bins these distances measure mostly sampling noise
    (PSI ≈ 99 (1/n + 1/m) under no change: 0.2 at 1,000 rows a side); on deciles 9 (1/n + 1/m)."""
    total = ref_hist.sum()
    if not total:
        return ref_hist, cur_hist
    middle = (np.cumsum(ref_hist) - ref_hist / 2) / total
    groups = np.minimum((middle * DISTANCE_GROUPS).astype(int), DISTANCE_GROUPS - 1)
    pooled = [
        np.bincount(groups, weights=h.astype(float), minlength=DISTANCE_GROUPS) for h in (ref_hist, cur_hist)
    ]
    return pooled[0], pooled[1]


def numeric_scores(ref: ColumnProfile, cur: ColumnProfile) -> NumericScores:
    """Every numeric drift statistic for two profiles binned on the same (the reference's) edges.

    PSI, Jensen–Shannon and Hellinger compare the reference's deciles (:func:`decile_counts`), or every
    value for a reference with few values. For such a reference (see :func:`has_few_values`) the chi-square
    test of homogeneity over the bins — one per value, plus any bin where current values fall — and the
    Jensen–Shannon distance of the bin frequencies are added: they see a value that vanishes or doubles,
    which moves the CDF little.
    """
    u = unit(ref, cur)
    stat, p = ks(ref, cur)
    chi2_p = frequency_js = None
    few = has_few_values(ref)
    if few:
        chi2_p = chi2_homogeneity(ref.hist.astype(float), cur.hist.astype(float))[1]
        frequency_js = distances.jensen_shannon(ref.hist.astype(float), cur.hist.astype(float))
    ref_counts, cur_counts = (ref.hist, cur.hist) if few else decile_counts(ref.hist, cur.hist)
    return NumericScores(
        wasserstein=wasserstein(ref, cur, u) / scale(ref, cur, u),
        ks=stat,
        ks_p_value=p,
        psi=distances.psi(ref_counts, cur_counts),
        jensenshannon=distances.jensen_shannon(ref_counts, cur_counts),
        hellinger=distances.hellinger(ref_counts, cur_counts),
        chi2_p_value=chi2_p,
        frequency_jensenshannon=frequency_js,
    )
