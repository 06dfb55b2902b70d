"""Drift statistics for categorical and boolean columns, from category counts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

from mlwarden.drift import distances
from mlwarden.profile import ColumnProfile

OTHER = "\x00other"  # the bucket of values a capped profile did not keep
MIN_EXPECTED = 5.0  # chi-square needs expected counts of at least 5: sparser categories are pooled


@dataclass(frozen=True, slots=True)
class CategoricalScores:
    jensenshannon: float
    chi2: float  # the test statistic
    chi2_p_value: float
    psi: float
    total_variation: float
    hellinger: float
    unseen: list[str]  # categories in current that the (uncapped) reference never saw
    unseen_share: float  # share of current values in unseen categories

    def as_dict(self) -> dict[str, float]:
        return {
            "jensenshannon": self.jensenshannon,
            "chi2": self.chi2_p_value,
            "psi": self.psi,
            "total_variation": self.total_variation,
            "hellinger": self.hellinger,
        }


def aligned_counts(ref: ColumnProfile, cur: ColumnProfile) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Both sides' counts over the categories whose count is known on both sides, plus an "other" bucket.

    A capped profile knows the counts of its most frequent categories only: a category one side kept and the
    other folded into its "other" is pooled into "other" on both sides, so the comparison is over the most
    frequent values plus the rest. Uncapped sides know every count (0 for a category they never saw).
    """
    names = [c for c in ref.categories if not cur.capped or c in cur.categories]
    if not ref.capped:
        names += [c for c in cur.categories if c not in ref.categories]
    r = np.array([ref.categories.get(c, 0) for c in names], dtype=float)
    c = np.array([cur.categories.get(c, 0) for c in names], dtype=float)
    rest_ref, rest_cur = ref.count - r.sum(), cur.count - c.sum()
    if rest_ref or rest_cur:
        names.append(OTHER)
        r, c = np.append(r, rest_ref), np.append(c, rest_cur)
    return names, r, c


def chi2_homogeneity(ref: np.ndarray, cur: np.ndarray) -> tuple[float, float]:
    """Pearson chi-square test that both samples come from one distribution (2 × k contingency table).

    Both sides are samples — the reference proportions are not treated as exact. Categories whose expected
    count falls below 5 on either side are pooled into one, so the chi-square approximation holds.
    """
    n, m = ref.sum(), cur.sum()
    if n == 0 or m == 0:
        return 0.0, 1.0
    total = ref + cur
    keep = total > 0
    ref, cur, total = ref[keep], cur[keep], total[keep]
    sparse = np.minimum(total * n, total * m) / (n + m) < MIN_EXPECTED
    if sparse.any():
        ref = np.append(ref[~sparse], ref[sparse].sum())
        cur = np.append(cur[~sparse], cur[sparse].sum())
        total = ref + cur
        keep = total > 0
        ref, cur, total = ref[keep], cur[keep], total[keep]
    if total.size < 2:
        return 0.0, 1.0
    exp_ref, exp_cur = total * n / (n + m), total * m / (n + m)
    stat = float(np.sum((ref - exp_ref) ** 2 / exp_ref + (cur - exp_cur) ** 2 / exp_cur))
    return stat, float(chi2.sf(stat, total.size - 1))


def categorical_scores(ref: ColumnProfile, cur: ColumnProfile) -> CategoricalScores:
    """Every categorical drift statistic, plus unseen categories."""
    _, r, c = aligned_counts(ref, cur)
    stat, p = chi2_homogeneity(r, c)
    unseen = [] if ref.capped else [k for k in cur.categories if k not in ref.categories]
    unseen_count = sum(cur.categories[k] for k in unseen)
    return CategoricalScores(
        jensenshannon=distances.jensen_shannon(r, c),
        chi2=stat,
        chi2_p_value=p,
        psi=distances.psi(r, c),
        total_variation=distances.total_variation(r, c),
        hellinger=distances.hellinger(r, c),
        unseen=sorted(unseen, key=lambda k: -cur.categories[k]),
        unseen_share=unseen_count / cur.count if cur.count else 0.0,
    )
