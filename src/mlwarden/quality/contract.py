"""Input/output contracts: inferred from a reference, saved as editable YAML, checked on every batch.

A contract lists each column's kind, whether it may be missing, a numeric range (the reference's, widened
by a tolerance) or a set of allowed categories, and for the model's outputs the class set and score range.
``validate`` reports each broken rule once per column, with the count and share of offending rows and up to
five example values. Missing or extra columns and changed kinds are critical; other violations warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mlwarden.errors import InputError
from mlwarden.findings import Finding, Severity
from mlwarden.profile import DatasetProfile, column_kind, profile

FORMAT_VERSION = 1
KINDS = ("numeric", "categorical", "boolean", "datetime")
EXAMPLES = 5


@dataclass(slots=True)
class ColumnRule:
    """What one column must look like."""

    kind: str
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    allowed: list[str] | None = None  # None: any category

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "nullable": self.nullable}
        if self.min is not None:
            out["min"], out["max"] = self.min, self.max
        if self.allowed is not None:
            out["allowed"] = self.allowed
        return out


@dataclass(slots=True)
class Contract:
    """Rules for a model's inputs and outputs; see the module docstring."""

    columns: dict[str, ColumnRule]
    prediction: str | None = None
    scores: list[str] = field(default_factory=list)
    allow_extra_columns: bool = False

    @classmethod
    def infer(
        cls,
        reference: DatasetProfile | pd.DataFrame,
        *,
        prediction: str | None = None,
        scores: list[str] | tuple[str, ...] = (),
        range_tolerance: float = 0.1,
        max_categories: int = 100,
    ) -> Contract:
        """Learn a contract from reference data: ranges widened by ``range_tolerance`` × their width, the
        category set when it has at most ``max_categories`` values, nullability from whether any value was
        missing. Score columns whose reference lies in [0, 1] must stay there."""
        ref = reference if isinstance(reference, DatasetProfile) else profile(reference)
        rules: dict[str, ColumnRule] = {}
        for name, col in ref.columns.items():
            rule = ColumnRule(kind=col.kind, nullable=col.missing > 0)
            if col.is_numeric and col.moments.n:
                slack = range_tolerance * (col.max - col.min)
                rule.min, rule.max = col.min - slack, col.max + slack
                if name in scores and col.min >= 0 and col.max <= 1:
                    rule.min, rule.max = 0.0, 1.0
            elif not col.is_numeric and not col.capped and col.distinct <= max_categories:
                rule.allowed = sorted(col.categories)
            rules[name] = rule
        for name in (prediction, *scores):
            if name is not None and name not in rules:
                raise InputError(f"output column '{name}' is not in the reference")
        return cls(columns=rules, prediction=prediction, scores=list(scores))

    def to_yaml(self, path: str | Path | None = None) -> str:
        """The contract as YAML (written to ``path`` when given)."""
        data = {
            "version": FORMAT_VERSION,
            "allow_extra_columns": self.allow_extra_columns,
            "outputs": {"prediction": self.prediction, "scores": self.scores},
            "columns": {name: rule.to_dict() for name, rule in self.columns.items()},
        }
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_yaml(cls, source: str | Path) -> Contract:
        """Read a contract from a YAML file path or YAML text; errors name the offending key."""
        text = Path(source).read_text(encoding="utf-8") if _is_path(source) else str(source)
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"contract is not valid YAML: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
            raise InputError("contract: expected a mapping with a 'columns' mapping")
        if data.get("version", FORMAT_VERSION) > FORMAT_VERSION:
            raise InputError(
                f"contract: version {data['version']} is newer than supported ({FORMAT_VERSION})"
            )
        rules = {str(name): _rule(str(name), spec) for name, spec in data["columns"].items()}
        outputs = data.get("outputs") or {}
        return cls(
            columns=rules,
            prediction=outputs.get("prediction"),
            scores=list(outputs.get("scores") or []),
            allow_extra_columns=bool(data.get("allow_extra_columns", False)),
        )

    def validate(self, batch: pd.DataFrame) -> list[Finding]:
        """Every rule the batch breaks, as findings (vectorised per column)."""
        findings: list[Finding] = []
        present = set(map(str, batch.columns))
        for name in self.columns:
            if name not in present:
                findings.append(
                    _finding("contract.missing_column", name, "column is missing", Severity.CRITICAL)
                )
        if not self.allow_extra_columns:
            for name in sorted(present - set(self.columns)):
                findings.append(
                    _finding(
                        "contract.extra_column", name, "column is not in the contract", Severity.CRITICAL
                    )
                )
        rows = len(batch)
        for name, rule in self.columns.items():
            if name not in present or rows == 0:
                continue
            findings += _check_column(name, rule, batch[name], rows)
        return findings


def _is_path(source: str | Path) -> bool:
    return isinstance(source, Path) or ("\n" not in source and Path(source).suffix in (".yaml", ".yml"))


def _rule(name: str, spec: Any) -> ColumnRule:
    if not isinstance(spec, dict):
        raise InputError(f"contract: columns.{name} must be a mapping")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise InputError(f"contract: columns.{name}.kind must be one of {', '.join(KINDS)}, got {kind!r}")
    try:
        low, high = spec.get("min"), spec.get("max")
        low = None if low is None else float(low)
        high = None if high is None else float(high)
    except (TypeError, ValueError):
        raise InputError(f"contract: columns.{name}.min/max must be numbers") from None
    allowed = spec.get("allowed")
    if allowed is not None and not isinstance(allowed, list):
        raise InputError(f"contract: columns.{name}.allowed must be a list")
    return ColumnRule(
        kind=kind,
        nullable=bool(spec.get("nullable", True)),
        min=low,
        max=high,
        allowed=None if allowed is None else [str(a) for a in allowed],
    )


def _finding(check: str, column: str, message: str, severity: Severity, **extra: Any) -> Finding:
    return Finding(check=check, severity=severity, message=f"{column}: {message}", column=column, **extra)


def _violation(check: str, name: str, what: str, bad: np.ndarray, values: pd.Series, rows: int) -> Finding:
    count = int(bad.sum())
    examples = pd.unique(values[bad].astype(str))[:EXAMPLES].tolist()
    return _finding(
        check,
        name,
        f"{count:,} rows ({count / rows:.1%}) {what}; e.g. {', '.join(examples)}",
        Severity.WARNING,
        value=count / rows,
        threshold=0.0,
        evidence={"count": count, "rows": rows, "examples": examples},
    )


def _check_column(name: str, rule: ColumnRule, values: pd.Series, rows: int) -> list[Finding]:
    kind = column_kind(values, name)
    numeric_rule = rule.kind in ("numeric", "datetime")
    if kind != rule.kind and not (values.isna().all()):
        compatible = numeric_rule and kind in ("numeric", "datetime") and kind == rule.kind
        if not compatible:
            return [
                _finding(
                    "contract.kind",
                    name,
                    f"is {kind}, the contract says {rule.kind}",
                    Severity.CRITICAL,
                    evidence={"dtype": str(values.dtype)},
                )
            ]
    out = []
    missing = values.isna().to_numpy()
    if not rule.nullable and missing.any():
        count = int(missing.sum())
        out.append(
            _finding(
                "contract.nullable",
                name,
                f"{count:,} missing values ({count / rows:.1%}) in a required column",
                Severity.WARNING,
                value=count / rows,
                threshold=0.0,
                evidence={"count": count, "rows": rows},
            )
        )
    if numeric_rule and rule.min is not None and kind == "numeric":
        x = values.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            bad = (x < rule.min) | (x > rule.max)
        if bad.any():
            out.append(
                _violation(
                    "contract.range", name, f"outside [{rule.min:.4g}, {rule.max:.4g}]", bad, values, rows
                )
            )
    if rule.allowed is not None and not numeric_rule:
        text = values.astype(str)
        bad = ~missing & ~text.isin(rule.allowed).to_numpy()
        if bad.any():
            out.append(
                _violation("contract.category", name, "outside the allowed categories", bad, values, rows)
            )
    return out
