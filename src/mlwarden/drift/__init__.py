"""Data drift: reference vs current distributions per column, corrected for multiple testing, and jointly.

Numeric columns: normalised Wasserstein (default), Kolmogorov–Smirnov, PSI, Jensen–Shannon, Hellinger —
all from histograms on the reference's quantile edges — plus, for columns with few distinct values, a
chi-square test of their value frequencies. Categorical columns: Jensen–Shannon (default), chi-square test
of homogeneity, PSI, total variation, Hellinger, and unseen categories; capped (high-cardinality) columns are
compared on their most frequent values plus "other", identifier-like ones left out. A column drifts when one
of its tests is significant after Benjamini–Hochberg correction across all tests *and* its effect size
reaches the test's threshold. See docs/drift.md.
"""

from mlwarden.drift.config import DriftConfig
from mlwarden.drift.engine import detect_drift, detect_drift_jointly
from mlwarden.drift.result import ColumnDrift, DriftResult, MultivariateDrift

__all__ = [
    "ColumnDrift",
    "DriftConfig",
    "DriftResult",
    "MultivariateDrift",
    "detect_drift",
    "detect_drift_jointly",
]
