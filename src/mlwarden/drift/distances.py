"""Distances between two discrete distributions given as aligned count vectors."""

from __future__ import annotations

import numpy as np

# Proportions are floored at this value inside logarithms (PSI), so an empty bin costs a finite penalty.
PSI_FLOOR = 1e-4


def proportions(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else np.zeros_like(counts, dtype=float)


def psi(ref: np.ndarray, cur: np.ndarray) -> float:
    """Population stability index: sum over bins of (q - p) * ln(q / p), proportions floored at 1e-4."""
    p = np.maximum(proportions(ref), PSI_FLOOR)
    q = np.maximum(proportions(cur), PSI_FLOOR)
    return float(np.sum((q - p) * np.log(q / p)))


def jensen_shannon(ref: np.ndarray, cur: np.ndarray) -> float:
    """Jensen–Shannon distance with log base 2: the square root of the JS divergence, in [0, 1]."""
    p, q = proportions(ref), proportions(cur)
    m = (p + q) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        kl_p = np.where(p > 0, p * np.log2(p / m), 0.0).sum()
        kl_q = np.where(q > 0, q * np.log2(q / m), 0.0).sum()
    return float(np.sqrt(max((kl_p + kl_q) / 2, 0.0)))


def hellinger(ref: np.ndarray, cur: np.ndarray) -> float:
    """Hellinger distance sqrt(1 - sum sqrt(p q)), in [0, 1]."""
    bc = np.sum(np.sqrt(proportions(ref) * proportions(cur)))
    return float(np.sqrt(max(1.0 - bc, 0.0)))


def total_variation(ref: np.ndarray, cur: np.ndarray) -> float:
    """Total variation distance: half the L1 distance between the proportions, in [0, 1]."""
    return float(np.abs(proportions(ref) - proportions(cur)).sum() / 2)
