"""``check_leakage``: target leakage, point-in-time violations, train/test contamination, identifiers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from mlwarden.errors import InputError
from mlwarden.features.contamination import identifier_findings, shared_ids_finding, shared_rows_finding
from mlwarden.features.point_in_time import as_utc, point_in_time_findings, timestamp_columns
from mlwarden.features.target_leakage import FeatureScore, single_feature_scores
from mlwarden.findings import Finding, Severity, finite_or_none, sort_findings


@dataclass(slots=True)
class LeakageConfig:
    """Thresholds of the leakage checks (scores are ROC AUC for classification, R² for regression).

    ``critical_score``: a single feature scoring at least this is critical target leakage. ``warning_score``
    and ``warning_margin``: a feature scoring at least ``warning_score`` *and* more than ``warning_margin``
    above the second-best feature is a warning — one feature far ahead of all others. ``max_rows`` bounds the
    seeded sample the models are fitted on, ``folds`` the cross-validation folds.
    """

    critical_score: float = 0.98
    warning_score: float = 0.95
    warning_margin: float = 0.15
    max_rows: int = 20_000
    folds: int = 3
    seed: int = 0
    examples: int = 5
    target_leakage: bool = True

    def __post_init__(self) -> None:
        if self.folds < 2:
            raise InputError(f"folds must be at least 2, got {self.folds}")
        if self.max_rows < 10 * self.folds:
            raise InputError(f"max_rows must be at least {10 * self.folds}, got {self.max_rows}")


@dataclass(slots=True)
class LeakageReport:
    """Everything ``check_leakage`` looked at: the single-feature scores and the findings."""

    target: str
    task: str | None
    metric: str | None
    scores: list[FeatureScore] = field(default_factory=list)
    feature_time_columns: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "task": self.task,
            "metric": self.metric,
            "scores": {s.column: finite_or_none(s.score) for s in self.scores},
            "feature_time_columns": self.feature_time_columns,
            "findings": [f.to_dict() for f in self.findings],
        }


def check_leakage(
    data: pd.DataFrame,
    *,
    target: str,
    time: str | None = None,
    split: str | None = None,
    id_column: str | None = None,
    feature_time_columns: list[str] | None = None,
    config: LeakageConfig | None = None,
) -> list[Finding]:
    """Leakage findings for a training table; see :func:`leakage_report` for the parameters."""
    return leakage_report(
        data,
        target=target,
        time=time,
        split=split,
        id_column=id_column,
        feature_time_columns=feature_time_columns,
        config=config,
    ).findings


def leakage_report(
    data: pd.DataFrame,
    *,
    target: str,
    time: str | None = None,
    split: str | None = None,
    id_column: str | None = None,
    feature_time_columns: list[str] | None = None,
    config: LeakageConfig | None = None,
) -> LeakageReport:
    """Check a training table for leakage.

    - ``leakage.target``: one feature alone predicts ``target`` (see :class:`LeakageConfig`).
    - ``leakage.point_in_time``: a feature-time column is after ``time`` (the prediction/label time) in
      some row. ``feature_time_columns=None`` uses every timestamp column besides ``time``; ``[]`` none.
    - ``leakage.contamination``: with ``split``, identical feature rows or the same ``id_column`` value in
      more than one split.
    - ``leakage.identifier``: a column unique per row (other than ``id_column``).

    Features are all columns except ``target``, ``time``, ``split``, ``id_column`` and timestamp columns.
    """
    config = config or LeakageConfig()
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"expected a DataFrame, got {type(data).__name__}")
    named = {"target": target, "time": time, "split": split, "id": id_column}
    for role, column in named.items():
        if column is not None and column not in data.columns:
            raise InputError(f"no {role} column '{column}' in the data")
    for column in feature_time_columns or []:
        if column not in data.columns:
            raise InputError(f"no feature-time column '{column}' in the data")
    if data[target].notna().sum() == 0:
        raise InputError(f"target column '{target}' has no values")
    if feature_time_columns and time is None:
        raise InputError("feature-time columns need the prediction time column (time=...)")
    if time is not None:
        as_utc(data[time], time)  # a wrong time column fails before any model is fitted
    reserved = {c for c in named.values() if c is not None}
    stamps = timestamp_columns(data, reserved)
    features = [c for c in data.columns if c not in reserved and c not in stamps]

    report = LeakageReport(target=target, task=None, metric=None)
    if config.target_leakage and features:
        task, scores = single_feature_scores(
            data, target, features, max_rows=config.max_rows, folds=config.folds, seed=config.seed
        )
        report.task, report.metric, report.scores = (
            task,
            ("roc_auc" if task == "classification" else "r2"),
            scores,
        )
        report.findings += _target_findings(scores, report.metric, target, config)
    if time is not None:
        report.feature_time_columns = stamps if feature_time_columns is None else list(feature_time_columns)
        report.findings += point_in_time_findings(
            data,
            time=time,
            columns=report.feature_time_columns,
            id_column=id_column,
            examples=config.examples,
        )
    if split is not None:
        hashed = [c for c in data.columns if c not in (split, target, id_column)]
        rows = shared_rows_finding(data, split=split, features=hashed, examples=config.examples)
        ids = (
            shared_ids_finding(data, split=split, id_column=id_column, examples=config.examples)
            if id_column
            else None
        )
        report.findings += [f for f in (rows, ids) if f is not None]
    report.findings += identifier_findings(data, features)
    report.findings = sort_findings(report.findings)
    return report


def _target_findings(
    scores: list[FeatureScore], metric: str, target: str, config: LeakageConfig
) -> list[Finding]:
    scored = sorted((s for s in scores if s.score is not None), key=lambda s: -float(s.score or 0))
    out = []
    label = "ROC AUC" if metric == "roc_auc" else "R²"
    for rank, s in enumerate(scored):
        score = float(s.score or 0)
        runner_up = float(scored[1 if rank == 0 else 0].score or 0) if len(scored) > 1 else None
        if score >= config.critical_score:
            severity, why = Severity.CRITICAL, f"≥ {config.critical_score}"
            threshold = config.critical_score
        elif (
            runner_up is not None
            and score >= config.warning_score
            and score > runner_up + config.warning_margin
        ):
            severity, why = Severity.WARNING, f"≥ {config.warning_score} and far above every other feature"
            threshold = config.warning_score
        else:
            continue
        out.append(
            Finding(
                check="leakage.target",
                severity=severity,
                message=f"{s.column}: alone predicts '{target}' with cross-validated {label} "
                f"{score:.3f} ({why}) — is it computed from the target or observed after it?",
                column=s.column,
                value=score,
                threshold=threshold,
                evidence={
                    "metric": metric,
                    "second_best": finite_or_none(runner_up),
                    "top_scores": {o.column: float(o.score or 0) for o in scored[:5]},
                },
            )
        )
    return out
