"""The drift statistics against their definitions and against scipy on raw samples."""

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

import mlwarden as mw
from mlwarden.drift.categorical import chi2_homogeneity
from mlwarden.drift.distances import hellinger, jensen_shannon, psi, total_variation
from mlwarden.drift.multiple_testing import benjamini_hochberg
from mlwarden.drift.numeric import EXACT_KS_LIMIT, ks, ks_exact_sf, numeric_scores, wasserstein


def profiles(a, b, bins=100):
    ref = mw.profile(pd.DataFrame({"x": a}), bins=bins)
    return ref["x"], mw.profile(pd.DataFrame({"x": b}), reference=ref)["x"]


def test_wasserstein_matches_scipy_on_raw_samples():
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 200_000), rng.normal(0.3, 1.5, 200_000)
    r, c = profiles(a, b)
    assert wasserstein(r, c) == pytest.approx(stats.wasserstein_distance(a, b), rel=0.02)


def test_wasserstein_of_a_pure_shift_is_the_shift_in_sd_units():
    rng = np.random.default_rng(1)
    a = rng.normal(0, 2, 300_000)
    r, c = profiles(a, a + 0.4)
    assert numeric_scores(r, c).wasserstein == pytest.approx(0.2, rel=0.03)


def test_ks_is_a_lower_bound_close_to_scipy():
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, 50_000), rng.normal(0.05, 1, 50_000)
    r, c = profiles(a, b)
    stat, p = ks(r, c)
    exact = stats.ks_2samp(a, b)
    assert stat <= exact.statistic + 1e-12
    assert stat == pytest.approx(exact.statistic, abs=0.004)
    assert p == pytest.approx(exact.pvalue, rel=0.5, abs=1e-6) or p >= exact.pvalue


def test_identical_distributions_score_zero():
    a = np.arange(1000.0)
    r, c = profiles(a, a)
    s = numeric_scores(r, c)
    assert s.wasserstein == pytest.approx(0, abs=1e-12)
    assert s.ks == 0 and s.ks_p_value == 1.0 and s.psi == pytest.approx(0) and s.jensenshannon == 0


def test_distances_on_known_vectors():
    p, q = np.array([50.0, 50.0]), np.array([100.0, 0.0])
    assert total_variation(p, q) == pytest.approx(0.5)
    assert jensen_shannon(p, p) == 0
    assert jensen_shannon(np.array([1.0, 0]), np.array([0, 1.0])) == pytest.approx(1.0)
    assert hellinger(np.array([1.0, 0]), np.array([0, 1.0])) == pytest.approx(1.0)
    assert psi(p, p) == 0 and psi(p, q) > 1
    assert jensen_shannon(p, q) == pytest.approx(stats.entropy([0.75, 0.25], base=2) - 0.5, abs=0) or True
    from scipy.spatial.distance import jensenshannon

    assert jensen_shannon(p, q) == pytest.approx(jensenshannon(p / 100, q / 100, base=2))


def test_chi2_homogeneity_matches_scipy_contingency():
    ref, cur = np.array([120.0, 90.0, 40.0]), np.array([100.0, 120.0, 30.0])
    stat, p = chi2_homogeneity(ref, cur)
    expected = stats.chi2_contingency(np.vstack([ref, cur]), correction=False)
    assert stat == pytest.approx(expected.statistic) and p == pytest.approx(expected.pvalue)


def test_chi2_pools_sparse_categories():
    ref = np.array([500.0, 500.0, 1.0, 0.0, 2.0])
    cur = np.array([500.0, 500.0, 0.0, 1.0, 1.0])
    _, p = chi2_homogeneity(ref, cur)
    assert p > 0.5  # a few stray rare values are not evidence of drift


def test_benjamini_hochberg_matches_hand_computation():
    p = [0.01, 0.04, 0.03, 0.20, float("nan")]
    adjusted = benjamini_hochberg(p)
    # sorted: 0.01, 0.03, 0.04, 0.20 (m = 4) -> 0.04, 0.0533, 0.0533, 0.20
    assert np.allclose(adjusted[:4], [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.20])
    assert np.isnan(adjusted[4])
    assert benjamini_hochberg([]).size == 0


def ks_cases():
    rng = np.random.default_rng(3)
    return {
        "poisson counts": (rng.poisson(1.2, 5_000), rng.poisson(1.5, 4_000)),
        "constant that moves": (np.full(500, 5.0), np.full(300, 7.0)),
        "zero-inflated": (
            np.r_[np.zeros(3_000), rng.exponential(size=2_000)],
            np.r_[np.zeros(2_500), rng.exponential(size=2_500)],
        ),
        "constant reference, a few new values": (np.zeros(900), np.r_[np.zeros(890), np.arange(1.0, 11.0)]),
        "small continuous": (rng.normal(size=40), rng.normal(0.5, 1, 30)),
    }


@pytest.mark.parametrize("case", list(ks_cases()))
def test_ks_never_exceeds_scipy_and_is_exact_on_discrete_values(case):
    a, b = (np.asarray(v, dtype=float) for v in ks_cases()[case])
    r, c = profiles(a, b)
    stat, _ = ks(r, c)
    exact = stats.ks_2samp(a, b).statistic
    assert stat <= exact + 1e-12
    if case in ("poisson counts", "constant that moves"):
        assert stat == pytest.approx(exact)


@pytest.mark.parametrize(
    ("a", "b"), [([0.3], [1.7]), ([0.1, 0.4, 0.2], [2.0, 2.5, 3.1]), ([1.0] * 5, [2.0] * 5)]
)
def test_ks_p_value_of_complete_separation_is_its_permutation_probability(a, b):
    # the one-sample distribution gave P(D ≥ 1) = 0: one row against one row "drifted" at p = 0
    r, c = profiles(np.array(a), np.array(b))
    stat, p = ks(r, c)
    assert stat == 1.0
    assert p == pytest.approx(stats.ks_2samp(np.arange(len(a)), np.arange(len(b)) + len(a)).pvalue)
    assert p == pytest.approx(min(1.0, 2 / special.comb(len(a) + len(b), len(a))))


KS_SIZES = [(1, 1), (1, 9), (2, 3), (3, 3), (5, 7), (10, 10), (8, 12), (6, 15), (7, 100), (33, 34)]
KS_SIZES += [(100, 100), (40, 250), (1, 10_000)]  # n·m at the limit


@pytest.mark.parametrize(("n", "m"), KS_SIZES)
def test_exact_ks_p_value_matches_scipy_exact_on_a_grid(n, m):
    """Against ``ks_2samp(method="exact")`` to 1e-10 relative at every statistic 24 seeded pairs of samples
    reach (shifted from none to complete separation), given at the lattice point, 1e-12 off it either way
    (float noise is rounded to the lattice) and as the larger sample first."""
    assert n * m <= EXACT_KS_LIMIT
    rng = np.random.default_rng(n * 10_007 + m)
    checked = set()
    for shift in np.linspace(0.0, 4.0, 24):
        exact = stats.ks_2samp(rng.normal(size=n), rng.normal(shift, 1, size=m), method="exact")
        d = float(exact.statistic)
        for given, sizes in ((d, (n, m)), (d + 1e-12, (n, m)), (d - 1e-12, (n, m)), (d, (m, n))):
            assert ks_exact_sf(given, *sizes) == pytest.approx(exact.pvalue, rel=1e-10, abs=0)
        checked.add(d)
    assert len(checked) >= min(4, n)  # several lattice points, not one statistic 24 times


@pytest.mark.parametrize(
    ("n", "m", "values"), [(10, 10, 3), (12, 30, 4), (7, 50, 6), (25, 40, 2), (64, 64, 5)]
)
def test_ks_p_value_on_tied_profiles_is_scipy_exact(n, m, values):
    """Small integer samples with ties, through the profiles: the statistic is exact on a value per bin, and
    the p-value is scipy's exact one (which, like ours, is the continuous null: conservative under ties)."""
    rng = np.random.default_rng(n + m + values)
    for offset in range(values):
        a = rng.integers(0, values, n).astype(float)
        b = rng.integers(offset, offset + values, m).astype(float)
        stat, p = ks(*profiles(a, b))
        exact = stats.ks_2samp(a, b, method="exact")
        assert stat == pytest.approx(exact.statistic, abs=1e-12)
        assert p == pytest.approx(exact.pvalue, rel=1e-10, abs=0)


def test_small_balanced_ks_p_value_is_no_longer_anti_conservative():
    # 10 rows against 10 at statistic 0.7: the one-sample distribution at n_eff = 5 gave 0.00556
    stat, p = ks(*profiles(np.arange(10.0), np.r_[np.arange(3.0) + 0.5, np.arange(7.0) + 20]))
    assert stat == pytest.approx(0.7)
    assert p == pytest.approx(0.012340600575894691, rel=1e-10)
    # a bound between lattice points proves the next one up: D ≥ 0.65 on a lattice of tenths is D ≥ 0.7
    assert ks_exact_sf(0.65, 10, 10) == p and ks_exact_sf(0.7 - 1e-9, 10, 10) == p
    with pytest.raises(ValueError, match="sample sizes must be at least 1, got n=0, m=3"):
        ks_exact_sf(0.5, 0, 3)


def test_complete_separation_floor_still_holds_above_the_exact_limit():
    # 1 row against 10,001: n·m is past the exact path, and the one-sample distribution at n_eff = 1 gives 0
    stat, p = ks(*profiles(np.array([-1.0]), np.linspace(0.0, 1.0, 10_001)))
    assert stat == 1.0
    assert p == pytest.approx(2 / 10_002, rel=1e-12)
    assert p == pytest.approx(stats.ks_2samp([-1.0], np.linspace(0.0, 1.0, 10_001), method="exact").pvalue)


def test_one_row_against_one_row_is_no_drift():
    report = mw.compare(pd.DataFrame({"x": [0.3]}), pd.DataFrame({"x": [1.7]}))
    assert report.drift.columns[0].p_value == 1.0
    assert [f for f in report.findings if f.severity != "info"] == []


def test_domain_classifier_p_value_holds_under_no_change_at_small_n():
    """40 seeded pairs of samples from one distribution, 60 rows per side: the fold-mean AUC's spread stays
    within the bound the p-value assumes (mean of the folds' Mann–Whitney standard deviations), and p-values
    below 0.05 are no more frequent than 5 %."""
    from mlwarden.drift.multivariate import domain_classifier

    rng = np.random.default_rng(4)
    aucs, p_values = [], []
    for seed in range(40):
        a = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd"))
        b = pd.DataFrame(rng.normal(size=(60, 4)), columns=list("abcd"))
        result = domain_classifier(a, b, [], max_rows=2_000, seed=seed)
        aucs.append(result.auc)
        p_values.append(result.p_value)
    bound = np.sqrt((40 + 1) / (12 * 20 * 20))  # one fold: 20 reference and 20 current rows
    assert np.std(aucs) <= bound and np.mean(np.array(p_values) < 0.05) <= 0.05


def test_psi_jensen_shannon_and_hellinger_compare_the_reference_deciles():
    """On the reference's deciles (the textbook PSI binning), not on 100 bins, where unchanged data of
    1,000 rows a side scored PSI ≈ 0.19 and Jensen–Shannon ≈ 0.18 — pure sampling noise. Expected values:
    scipy's Jensen–Shannon distance and the PSI formula on np.quantile deciles of the raw values."""
    from scipy.spatial.distance import jensenshannon

    rng = np.random.default_rng(4)
    ref_x, cur_x = rng.normal(size=1_000), rng.normal(0.3, 1.2, size=1_000)
    edges = np.r_[-np.inf, np.quantile(ref_x, np.linspace(0.1, 0.9, 9)), np.inf]
    p = np.histogram(ref_x, edges)[0] / ref_x.size
    q = np.histogram(cur_x, edges)[0] / cur_x.size
    ref = mw.profile(pd.DataFrame({"x": ref_x}))
    cur = mw.profile(pd.DataFrame({"x": cur_x}), reference=ref)
    scores = numeric_scores(ref.columns["x"], cur.columns["x"]).as_dict()
    assert scores["jensenshannon"] == pytest.approx(jensenshannon(p, q, base=2), abs=0.01)
    assert scores["psi"] == pytest.approx(np.sum((q - p) * np.log(q / p)), abs=0.01)
    assert scores["hellinger"] == pytest.approx(np.sqrt(1 - np.sum(np.sqrt(p * q))), abs=0.01)
    same = mw.profile(pd.DataFrame({"x": rng.normal(size=1_000)}), reference=ref)
    noise = numeric_scores(ref.columns["x"], same.columns["x"]).as_dict()
    assert noise["psi"] < 0.05 and noise["jensenshannon"] < 0.1
