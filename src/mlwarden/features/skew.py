"""Distributional training/serving skew: the drift engine with thresholds half as large as drift's.

Skew compares the features a model was trained on with the features serving computed for the *same*
population (the same entities, the same period). Unlike drift, where the world is allowed to move a little,
any real difference here is a bug in one of the two pipelines, so the minimum effect sizes are half of
drift's defaults (``SKEW_FACTOR``) and a column is critical at ``critical_factor`` times its threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from mlwarden.drift.config import DEFAULT_THRESHOLDS, DriftConfig
from mlwarden.drift.engine import detect_drift
from mlwarden.drift.result import ColumnDrift, DriftResult
from mlwarden.errors import InputError
from mlwarden.findings import Finding, Severity, finite_or_none
from mlwarden.profile import DatasetProfile, profile

SKEW_FACTOR = 0.5  # skew thresholds are this fraction of drift's default thresholds
SKEW_THRESHOLDS: dict[str, float] = {
    method: (threshold if method == "chi2" else threshold * SKEW_FACTOR)
    for method, threshold in DEFAULT_THRESHOLDS.items()
}


@dataclass(slots=True)
class SkewConfig:
    """How distributional skew is decided.

    A column is skewed when the drift decision rule holds with ``thresholds`` (half of drift's effect-size
    thresholds; chi2 is a p-value and keeps drift's level): Benjamini–Hochberg-adjusted p-value below
    ``alpha`` and effect size at least the threshold. It is critical when its effect size is at least
    ``critical_factor`` × its threshold (wasserstein: 0.1 sd), else a warning. The multivariate
    domain classifier flags skew at a cross-validated ROC AUC of ``multivariate_threshold``.
    """

    alpha: float = 0.05
    thresholds: dict[str, float] = field(default_factory=lambda: dict(SKEW_THRESHOLDS))
    column_thresholds: dict[str, float] = field(default_factory=dict)
    critical_factor: float = 4.0
    multivariate: bool = True
    multivariate_threshold: float = 0.525
    columns: list[str] | None = None

    def __post_init__(self) -> None:
        if self.critical_factor < 1:
            raise InputError(f"critical_factor must be at least 1, got {self.critical_factor}")

    def drift_config(self) -> DriftConfig:
        return DriftConfig(
            alpha=self.alpha,
            thresholds={**SKEW_THRESHOLDS, **self.thresholds},
            column_thresholds=dict(self.column_thresholds),
            multivariate=self.multivariate,
            multivariate_threshold=self.multivariate_threshold,
        )


def check_skew(
    training: pd.DataFrame | DatasetProfile,
    serving: pd.DataFrame | DatasetProfile,
    *,
    config: SkewConfig | None = None,
) -> list[Finding]:
    """Distributional skew of ``serving`` features against ``training`` features (DataFrames or profiles).

    Findings: ``skew`` per skewed column, ``skew.missing_column`` / ``skew.kind_mismatch`` (critical) for
    columns serving lacks or types differently, ``skew.unseen_categories`` (warning) for categories serving
    produces that training never did, ``skew.multivariate`` (warning) for a joint difference.
    """
    return skew_result(training, serving, config=config)[1]


def skew_result(
    training: pd.DataFrame | DatasetProfile,
    serving: pd.DataFrame | DatasetProfile,
    *,
    config: SkewConfig | None = None,
) -> tuple[DriftResult, list[Finding]]:
    """The underlying per-column comparison and the skew findings drawn from it."""
    config = config or SkewConfig()
    ref = _as_profile(training, None, "training", config.columns)
    cur = _as_profile(serving, ref, "serving", list(config.columns or ref.columns))
    result = detect_drift(ref, cur, columns=config.columns, config=config.drift_config())
    findings = [_renamed(f) for f in result.problems]
    for entry in result.columns:
        if entry.drifted:
            findings.append(_column_finding(entry, config))
    findings += result.unseen_findings("skew", "training", "serving")
    findings += result.multivariate_findings("skew", "training", "serving")
    return result, findings


def _column_finding(entry: ColumnDrift, config: SkewConfig) -> Finding:
    assert entry.score is not None
    critical = entry.method != "chi2" and entry.score >= config.critical_factor * entry.threshold
    return Finding(
        check="skew",
        severity=Severity.CRITICAL if critical else Severity.WARNING,
        message=f"{entry.column}: serving differs from training, {entry.drift_reason()}",
        column=entry.column,
        value=finite_or_none(entry.score),
        threshold=entry.threshold,
        evidence={
            "method": entry.method,
            "p_value": finite_or_none(entry.p_value),
            "scores": {k: finite_or_none(v) for k, v in entry.scores.items()},
        },
    )


def _renamed(problem: Finding) -> Finding:
    from dataclasses import replace

    return replace(problem, check=problem.check.replace("drift.", "skew.", 1))


def _as_profile(
    data: pd.DataFrame | DatasetProfile,
    reference: DatasetProfile | None,
    role: str,
    columns: list[str] | None,
) -> DatasetProfile:
    if isinstance(data, DatasetProfile):
        return data
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{role}: expected a DataFrame or a DatasetProfile, got {type(data).__name__}")
    if columns is not None:
        columns = [c for c in columns if c in data.columns]  # absent ones are reported as missing
    return profile(data, reference=reference, columns=columns, seed=0)
