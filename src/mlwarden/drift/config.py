"""Drift settings: which method decides, and the thresholds it decides with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from mlwarden.errors import InputError

NumericMethod = Literal["wasserstein", "ks", "psi", "jensenshannon", "hellinger"]
CategoricalMethod = Literal["jensenshannon", "chi2", "psi", "total_variation", "hellinger"]

NUMERIC_METHODS = ("wasserstein", "ks", "psi", "jensenshannon", "hellinger")
CATEGORICAL_METHODS = ("jensenshannon", "chi2", "psi", "total_variation", "hellinger")

# Default minimum effect sizes, each on its method's own scale (see docs/drift.md for the reasoning).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "wasserstein": 0.05,  # W1 / reference std: a mean shift of 5 % of a standard deviation
    "ks": 0.03,  # sup |F_ref - F_cur|
    "psi": 0.02,  # population stability index on the reference's bins
    "jensenshannon": 0.03,  # JS distance, log base 2, in [0, 1]
    "hellinger": 0.02,  # Hellinger distance in [0, 1]
    "total_variation": 0.03,  # half the L1 distance of the two distributions, in [0, 1]
    "chi2": 0.05,  # p-value method: BH-adjusted p below this is drift on its own
}


@dataclass(slots=True)
class DriftConfig:
    """How drift is decided.

    A column is drifted when its change is statistically significant — Benjamini–Hochberg-adjusted p-value
    (KS for numeric columns, chi-square test of homogeneity for categorical ones) below ``alpha`` across all
    columns tested together — *and* its effect size reaches the method's threshold. Significance alone
    flags negligible shifts at a million rows; effect size alone flags noise at a hundred rows.
    """

    alpha: float = 0.05
    numeric_method: NumericMethod = "wasserstein"
    categorical_method: CategoricalMethod = "jensenshannon"
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    column_thresholds: dict[str, float] = field(default_factory=dict)  # overrides per column
    include_datetime: bool = False  # timestamps move forward by nature; drift on them is no news
    max_identifier_ratio: float = 0.9  # categorical columns this unique are identifiers: not tested
    multivariate: bool = True
    multivariate_threshold: float = 0.55  # cross-validated ROC AUC of the domain classifier
    multivariate_sample: int = 2_000  # rows per side, at most (bounded by the profiles' samples)

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise InputError(f"alpha must lie in (0, 1), got {self.alpha}")
        if self.numeric_method not in NUMERIC_METHODS:
            raise InputError(
                f"numeric_method must be one of {', '.join(NUMERIC_METHODS)}, got {self.numeric_method!r}"
            )
        if self.categorical_method not in CATEGORICAL_METHODS:
            allowed = ", ".join(CATEGORICAL_METHODS)
            raise InputError(f"categorical_method must be one of {allowed}, got {self.categorical_method!r}")
        self.thresholds = {**DEFAULT_THRESHOLDS, **self.thresholds}
        if not 0.5 <= self.multivariate_threshold < 1:
            raise InputError(
                f"multivariate_threshold must lie in [0.5, 1), got {self.multivariate_threshold}"
            )

    def threshold(self, column: str, method: str) -> float:
        return self.column_thresholds.get(column, self.thresholds[method])
