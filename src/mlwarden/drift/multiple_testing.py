"""Corrections for testing many hypotheses at once: Benjamini–Hochberg (false discovery rate) and Holm
(family-wise error rate)."""

from __future__ import annotations

import numpy as np


def benjamini_hochberg(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (false discovery rate); NaN entries stay NaN and are not counted.

    adjusted_(i) = min over j >= i of p_(j) · m / j, for p sorted ascending, capped at 1.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok])
    ranked = p[ok][order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    result = np.empty(m)
    result[order] = np.minimum(adjusted, 1.0)
    out[ok] = result
    return out


def holm(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error rate; Holm, "A simple sequentially rejective
    multiple test procedure", Scand. J. Statist. 1979); NaN entries stay NaN and are not counted.

    adjusted_(i) = max over j <= i of min(1, (m − j + 1) · p_(j)), for p sorted ascending. Valid whatever the
    dependence between the tests.
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    order = np.argsort(p[ok], kind="stable")
    ranked = np.minimum(p[ok][order] * (m - np.arange(m)), 1.0)
    result = np.empty(m)
    result[order] = np.maximum.accumulate(ranked)
    out[ok] = result
    return out
