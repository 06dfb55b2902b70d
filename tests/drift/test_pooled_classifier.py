"""The pooled domain classifier of many chunks: valid p-values under no change, the changed chunk found."""

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu

from mlwarden.drift.multivariate import _auc, pooled_domain_classifier


def test_auc_is_mann_whitney_u_over_a_b_ties_counting_half():
    rng = np.random.default_rng(0)
    negative, positive = rng.integers(0, 5, 40).astype(float), rng.integers(1, 6, 30).astype(float)
    u = mannwhitneyu(positive, negative).statistic
    assert _auc(negative, positive) == u / (40 * 30)


def test_p_values_hold_under_no_change_across_seeds_and_chunks():
    """30 seeded runs of 5 unchanged chunks (150 p-values): below 0.05 no more often than 5 %."""
    rng = np.random.default_rng(1)
    p_values = []
    for seed in range(30):
        ref = pd.DataFrame(rng.normal(size=(400, 3)), columns=list("abc"))
        chunks = [pd.DataFrame(rng.normal(size=(300, 3)), columns=list("abc")) for _ in range(5)]
        results = pooled_domain_classifier(ref, chunks, [], max_rows=400, seed=seed)
        assert [r.n_current for r in results] == [220] * 5  # 80 rows of each chunk trained the classifier
        p_values += [r.p_value for r in results]
    assert np.mean(np.array(p_values) < 0.05) <= 0.05


def test_a_correlation_flip_in_one_chunk_of_five_is_found_there_only():
    rng = np.random.default_rng(2)
    cov, flipped = [[1, 0.8], [0.8, 1]], [[1, -0.8], [-0.8, 1]]

    def sample(c: list, n: int) -> pd.DataFrame:
        return pd.DataFrame(rng.multivariate_normal([0, 0], c, n), columns=["u", "v"])

    chunks = [sample(flipped if i == 3 else cov, 2000) for i in range(5)]
    results = pooled_domain_classifier(sample(cov, 2000), chunks, [], max_rows=2000)
    assert results[3].auc > 0.6 and results[3].p_value < 1e-6
    assert all(r.auc < 0.55 and r.p_value > 0.01 for i, r in enumerate(results) if i != 3)


def test_a_chunk_too_small_to_hold_rows_out_gets_a_note():
    rng = np.random.default_rng(3)
    ref = pd.DataFrame(rng.normal(size=(500, 2)), columns=["u", "v"])
    chunks = [pd.DataFrame(rng.normal(size=(n, 2)), columns=["u", "v"]) for n in (500, 20)]
    big, small = pooled_domain_classifier(ref, chunks, [], max_rows=500)
    assert np.isfinite(big.auc) and np.isnan(small.auc) and "besides those pooled" in small.note
