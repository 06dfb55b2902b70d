"""Corrections for testing many hypotheses at once: Benjamini–Hochberg (false discovery rate) and Holm
(family-wise error rate)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def benjamini_hochberg(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (false discovery rate); NaN entries stay NaN and are not counted.

    adjusted_(i) = min over j >= i of p_(j) · m / j, for p sorted ascending, capped at 1.
    """

    def adjust(ranked: np.ndarray) -> np.ndarray:
        m = len(ranked)
        scaled = ranked * m / np.arange(1, m + 1)
        return np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)

    return _adjusted(p_values, adjust)


def holm(p_values: np.ndarray | list[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (family-wise error rate; Holm, "A simple sequentially rejective
    multiple test procedure", Scand. J. Statist. 1979); NaN entries stay NaN and are not counted.

    adjusted_(i) = max over j <= i of min(1, (m − j + 1) · p_(j)), for p sorted ascending. Valid whatever the
    dependence between the tests.
    """

    def adjust(ranked: np.ndarray) -> np.ndarray:
        m = len(ranked)
        return np.maximum.accumulate(np.minimum(ranked * (m - np.arange(m)), 1.0))

    return _adjusted(p_values, adjust)


def _adjusted(p_values: np.ndarray | list[float], adjust: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """``adjust`` applied to the non-NaN p-values sorted ascending (stable), put back in their places."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if not ok.any():
        return out
    order = np.argsort(p[ok], kind="stable")
    result = np.empty(int(ok.sum()))
    result[order] = adjust(p[ok][order])
    out[ok] = result
    return out
