"""Data drift: reference vs current distributions per column, corrected for multiple testing, and jointly.

Numeric columns: normalised Wasserstein (default), Kolmogorov–Smirnov, PSI, Jensen–Shannon, Hellinger —
all from histograms on the reference's quantile edges. Categorical columns: Jensen–Shannon (default),
chi-square test of homogeneity, PSI, total variation, Hellinger, and unseen categories. A column drifts when
its change is significant after Benjamini–Hochberg correction *and* at least a minimum effect size.
"""

from mlwarden.drift.config import DriftConfig
from mlwarden.drift.engine import detect_drift
from mlwarden.drift.result import ColumnDrift, DriftResult, MultivariateDrift

__all__ = ["ColumnDrift", "DriftConfig", "DriftResult", "MultivariateDrift", "detect_drift"]
