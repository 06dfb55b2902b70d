"""What drift detection returns: one entry per column, the multivariate verdict, and their findings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mlwarden.findings import Finding, Severity, finite_or_none

METHOD_LABELS = {
    "wasserstein": "normalised Wasserstein",
    "ks": "Kolmogorov–Smirnov",
    "psi": "PSI",
    "jensenshannon": "Jensen–Shannon distance",
    "hellinger": "Hellinger distance",
    "total_variation": "total variation",
    "chi2": "chi-square p-value",
}


@dataclass(slots=True)
class ColumnDrift:
    """The drift verdict for one column. ``score`` and ``threshold`` are on ``method``'s own scale."""

    column: str
    kind: Literal["numeric", "categorical"]
    method: str
    score: float | None
    threshold: float
    p_value: float | None  # Benjamini–Hochberg adjusted across the tests run together (the column's smallest)
    drifted: bool
    role: str = "feature"  # feature, target, prediction or score
    # what made the column drift: its method's score, or (numeric columns with few values) the change in its
    # value frequencies — Jensen–Shannon distance ``frequency_score`` of at least ``frequency_threshold``
    decided_by: Literal["score", "frequencies"] | None = None
    frequency_score: float | None = None
    frequency_threshold: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    unseen_categories: list[str] = field(default_factory=list)
    unseen_share: float = 0.0
    reference_count: int = 0
    current_count: int = 0
    severity: Severity = Severity.WARNING
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "role": self.role,
            "kind": self.kind,
            "method": self.method,
            "score": finite_or_none(self.score),
            "threshold": finite_or_none(self.threshold),
            "p_value": finite_or_none(self.p_value),
            "drifted": self.drifted,
            "decided_by": self.decided_by,
            "scores": {k: finite_or_none(v) for k, v in self.scores.items()},
            "unseen_categories": self.unseen_categories[:20],
            "reference_count": self.reference_count,
            "current_count": self.current_count,
            "note": self.note,
        }

    def finding(self) -> Finding | None:
        """A finding when the column drifted or could not be compared."""
        if not self.drifted and self.note is None:
            return None
        message = f"{self.column}: {self.drift_reason() if self.drifted else self.note}"
        return Finding(
            check="drift",
            severity=self.severity if self.drifted else Severity.INFO,
            message=message,
            column=self.column,
            value=finite_or_none(self.score),
            threshold=self.threshold,
            evidence={
                "method": self.method,
                "role": self.role,
                "p_value": finite_or_none(self.p_value),
                "decided_by": self.decided_by,
                "note": self.note,
            },
        )

    def drift_reason(self) -> str:
        """Why the column drifted, every comparison stated the right way round."""
        p = f" (adjusted p-value {self.p_value:.2g})" if self.p_value is not None else ""
        if self.method == "chi2":
            return f"chi-square p-value {self.score:.2g} < {self.threshold:.2g}"
        if self.decided_by == "frequencies":
            return (
                f"value frequencies changed: Jensen–Shannon distance {self.frequency_score:.3g} "
                f"≥ {self.frequency_threshold:.3g}{p}"
            )
        return f"{METHOD_LABELS.get(self.method, self.method)} {self.score:.3g} ≥ {self.threshold:.3g}{p}"


@dataclass(slots=True)
class MultivariateDrift:
    """Domain-classifier verdict on the joint distribution of the sampled rows."""

    score: float | None  # cross-validated ROC AUC (mean over the folds)
    threshold: float
    drifted: bool
    p_value: float | None = None
    alpha: float = 0.01
    n_reference: int = 0
    n_current: int = 0
    method: str = "domain_classifier"
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "score": finite_or_none(self.score),
            "threshold": self.threshold,
            "drifted": self.drifted,
            "p_value": finite_or_none(self.p_value),
            "alpha": self.alpha,
            "n_reference": self.n_reference,
            "n_current": self.n_current,
            "note": self.note,
        }


@dataclass(slots=True)
class DriftResult:
    """Per-column verdicts (in data order), the multivariate verdict, and problems found on the way."""

    columns: list[ColumnDrift]
    multivariate: MultivariateDrift | None = None
    problems: list[Finding] = field(default_factory=list)  # missing columns, kind mismatches

    @property
    def drifted_columns(self) -> list[str]:
        """The drifted *features* — as ``drift.drifted_columns`` in the JSON report; the target's and the
        outputs' verdicts are in :attr:`target` and :attr:`outputs`."""
        return self.drifted_features

    def of_role(self, *roles: str) -> list[ColumnDrift]:
        """The entries of columns with one of ``roles`` (feature, target, prediction, score)."""
        return [c for c in self.columns if c.role in roles]

    @property
    def features(self) -> list[ColumnDrift]:
        return self.of_role("feature")

    @property
    def target(self) -> list[ColumnDrift]:
        """The target column's entry (a list: empty when no target was named)."""
        return self.of_role("target")

    @property
    def outputs(self) -> list[ColumnDrift]:
        """Prediction and score columns: the model's output drift."""
        return self.of_role("prediction", "score")

    @property
    def drifted_features(self) -> list[str]:
        return [c.column for c in self.features if c.drifted]

    @property
    def share_drifted(self) -> float:
        """Drifted features over features tested (0 when none was tested)."""
        tested = [c for c in self.features if c.score is not None]
        return len(self.drifted_features) / len(tested) if tested else 0.0

    def __getitem__(self, column: str) -> ColumnDrift:
        for c in self.columns:
            if c.column == column:
                return c
        raise KeyError(column)

    def findings(self) -> list[Finding]:
        out = list(self.problems)
        out += [f for c in self.columns if (f := c.finding()) is not None]
        return out + self.unseen_findings() + self.multivariate_findings()

    def unseen_findings(
        self, check: str = "drift", reference: str = "reference", current: str = "current"
    ) -> list[Finding]:
        """A warning per column with categories the reference never had (``{check}.unseen_categories``)."""
        out = []
        for c in self.columns:
            if not c.unseen_categories:
                continue
            shown = ", ".join(c.unseen_categories[:5])
            out.append(
                Finding(
                    check=f"{check}.unseen_categories",
                    severity=Severity.WARNING,
                    message=f"{c.column}: {len(c.unseen_categories)} categories unseen in the {reference} "
                    f"({c.unseen_share:.1%} of {current} values): {shown}",
                    column=c.column,
                    value=c.unseen_share,
                    threshold=0.0,
                    evidence={"categories": c.unseen_categories[:20]},
                )
            )
        return out

    def multivariate_findings(
        self, check: str = "drift", reference: str = "reference", current: str = "current"
    ) -> list[Finding]:
        """A warning when the domain classifier tells the two samples apart (``{check}.multivariate``)."""
        mv = self.multivariate
        if mv is None or not mv.drifted:
            return []
        return [
            Finding(
                check=f"{check}.multivariate",
                severity=Severity.WARNING,
                message=f"a classifier tells {current} rows from {reference} rows: ROC AUC {mv.score:.3f} "
                f"≥ {mv.threshold}, p-value {mv.p_value:.2g} < {mv.alpha}",
                value=mv.score,
                threshold=mv.threshold,
                evidence={
                    "p_value": finite_or_none(mv.p_value),
                    f"n_{reference}": mv.n_reference,
                    f"n_{current}": mv.n_current,
                },
            )
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "columns": [c.to_dict() for c in self.features],
            "drifted_columns": self.drifted_features,
            "share_drifted": self.share_drifted,
            "target": [c.to_dict() for c in self.target],
            "outputs": [c.to_dict() for c in self.outputs],
            "multivariate": None if self.multivariate is None else self.multivariate.to_dict(),
        }
