"""Drift settings: which method decides, and the thresholds it decides with (globally and per column)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from mlwarden.errors import InputError

if TYPE_CHECKING:
    from mlwarden.schema import ColumnMapping

NumericMethod = Literal["wasserstein", "ks", "psi", "jensenshannon", "hellinger"]
CategoricalMethod = Literal["jensenshannon", "chi2", "psi", "total_variation", "hellinger"]

NUMERIC_METHODS = ("wasserstein", "ks", "psi", "jensenshannon", "hellinger")
CATEGORICAL_METHODS = ("jensenshannon", "chi2", "psi", "total_variation", "hellinger")
# Per column, a numeric column also takes the histogram-based categorical methods (over its bins).
COLUMN_NUMERIC_METHODS = (*NUMERIC_METHODS, "chi2", "total_variation")
ALL_METHODS = tuple(dict.fromkeys((*NUMERIC_METHODS, *CATEGORICAL_METHODS)))
ROLES = ("feature", "target", "prediction", "score")

# Default minimum effect sizes, each on its method's own scale (see docs/drift.md for the reasoning).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "wasserstein": 0.05,  # W1 / reference std: a mean shift of 5 % of a standard deviation
    "ks": 0.03,  # sup |F_ref - F_cur|
    "psi": 0.02,  # population stability index on the reference's bins
    "jensenshannon": 0.03,  # JS distance, log base 2, in [0, 1]
    "hellinger": 0.02,  # Hellinger distance in [0, 1]
    "total_variation": 0.03,  # half the L1 distance of the two distributions, in [0, 1]
    "chi2": 0.01,  # p-value method: BH-adjusted p below this is drift on its own
}


@dataclass(slots=True)
class DriftConfig:
    """How drift is decided.

    A column is drifted when one of its tests is statistically significant — Benjamini–Hochberg-adjusted
    p-value below ``alpha`` across every test of the run (KS for numeric columns, plus a chi-square test of
    the value frequencies for numeric columns with few distinct values; chi-square test of homogeneity for
    categorical ones) — *and* that test's effect size reaches its threshold. Significance alone flags
    negligible shifts at a million rows; effect size alone flags noise at a hundred rows.

    ``column_methods`` / ``column_thresholds`` override the method and threshold of single columns (see
    :meth:`from_mapping`). Raises :class:`~mlwarden.errors.InputError` naming the setting on bad values.
    """

    alpha: float = 0.01
    numeric_method: NumericMethod = "wasserstein"
    categorical_method: CategoricalMethod = "jensenshannon"
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    column_thresholds: dict[str, float] = field(default_factory=dict)  # overrides per column
    column_methods: dict[str, str] = field(default_factory=dict)  # overrides per column
    include_datetime: bool = False  # timestamps move forward by nature; drift on them is no news
    max_identifier_ratio: float = 0.9  # categorical columns at least this unique are identifiers: not tested
    multivariate: bool = True
    multivariate_threshold: float = 0.55  # cross-validated ROC AUC of the domain classifier
    multivariate_alpha: float = 0.01  # ... and its p-value below this (see mlwarden.drift.multivariate)
    multivariate_sample: int = 2_000  # rows per side, at most (bounded by the profiles' samples)
    multivariate_columns: int = 50  # feature columns the classifier sees, at most: the most drifted ones

    def __post_init__(self) -> None:
        for name in ("alpha", "multivariate_alpha"):
            if not 0 < getattr(self, name) < 1:
                raise InputError(f"{name} must lie in (0, 1), got {getattr(self, name)}")
        if self.numeric_method not in NUMERIC_METHODS:
            raise InputError(
                f"numeric_method must be one of {', '.join(NUMERIC_METHODS)}, got {self.numeric_method!r}"
            )
        if self.categorical_method not in CATEGORICAL_METHODS:
            allowed = ", ".join(CATEGORICAL_METHODS)
            raise InputError(f"categorical_method must be one of {allowed}, got {self.categorical_method!r}")
        unknown = [k for k in self.thresholds if k not in DEFAULT_THRESHOLDS]
        if unknown:
            raise InputError(
                f"thresholds: unknown method {unknown[0]!r}; expected one of {', '.join(ALL_METHODS)}"
            )
        self.thresholds = {**DEFAULT_THRESHOLDS, **self.thresholds}
        for column, method in self.column_methods.items():
            if method not in ALL_METHODS:
                raise InputError(
                    f"drift.{column}.method: expected one of {', '.join(ALL_METHODS)}, got {method!r}"
                )
        for column, value in self.column_thresholds.items():
            if not value >= 0:
                raise InputError(f"drift.{column}.threshold: expected a number >= 0, got {value!r}")
        if self.multivariate_columns < 2:
            raise InputError(f"multivariate_columns must be at least 2, got {self.multivariate_columns}")
        if not 0.5 <= self.multivariate_threshold < 1:
            raise InputError(
                f"multivariate_threshold must lie in [0.5, 1), got {self.multivariate_threshold}"
            )

    @classmethod
    def from_mapping(cls, mapping: ColumnMapping, base: DriftConfig | None = None) -> DriftConfig:
        """``base`` (default settings when ``None``) with the per-column ``method``/``threshold`` of
        ``mapping.drift`` on top. Raises InputError naming ``drift.<column>.method`` for an unknown method."""
        from dataclasses import replace

        base = base or cls()
        methods = dict(base.column_methods)
        thresholds = dict(base.column_thresholds)
        for column, spec in mapping.drift.items():
            if spec.method is not None:
                methods[column] = spec.method
            if spec.threshold is not None:
                thresholds[column] = spec.threshold
        return replace(base, column_methods=methods, column_thresholds=thresholds)

    def method(self, column: str, *, numeric: bool) -> str:
        """The deciding method of ``column``; InputError when its override does not fit the column's kind."""
        default = self.numeric_method if numeric else self.categorical_method
        method = self.column_methods.get(column, default)
        allowed = COLUMN_NUMERIC_METHODS if numeric else CATEGORICAL_METHODS
        if method not in allowed:
            kind = "numeric" if numeric else "categorical"
            raise InputError(
                f"drift.{column}.method: {method!r} does not apply to a {kind} column; "
                f"expected one of {', '.join(allowed)}"
            )
        return method

    def threshold(self, column: str, method: str) -> float:
        return self.column_thresholds.get(column, self.thresholds[method])
