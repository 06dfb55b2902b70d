"""Input/output contracts: inferred from a reference, saved as editable YAML, checked on every batch.

A contract lists each column's kind, whether it may be missing, a range (the reference's, widened by a
tolerance; for datetimes in UTC) or a set of allowed categories, and which columns are the model's outputs
(prediction, scores) and its label (``target``, optional in a batch: labels arrive later). ``validate``
reports each broken rule once per column, with the count and share of offending rows and up to five example
values. Missing or extra columns and changed kinds are critical; other violations warnings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from mlwarden.errors import InputError
from mlwarden.findings import Finding, Severity
from mlwarden.profile import DatasetProfile, column_kind, is_profile_file, profile, read_table
from mlwarden.profile.dataset import numeric_values

FORMAT_VERSION = 1
KINDS = ("numeric", "categorical", "boolean", "datetime", "empty")  # empty: no value seen, any kind
RANGED_KINDS = ("numeric", "datetime")
EXAMPLES = 5
# Range and category violations by fewer than this share of a batch's rows are info, not warnings: an
# inferred range has only seen the reference's extremes, and one count of 8 where the reference stopped at 7
# is the tail, not a broken pipeline. A column that breaks its rule in earnest does so in many rows.
NOISE_SHARE = 0.001


@dataclass(slots=True)
class ColumnRule:
    """What one column must look like. ``min``/``max`` (either may be absent) are numbers for a numeric
    column and UTC epoch seconds for a datetime column (written to YAML as ISO-8601 timestamps)."""

    kind: str
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    allowed: list[str] | None = None  # None: any category

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "nullable": self.nullable}
        for key, value, rounding in (("min", self.min, math.floor), ("max", self.max, math.ceil)):
            if value is not None:
                out[key] = _timestamp_text(value, rounding) if self.kind == "datetime" else value
        if self.allowed is not None:
            out["allowed"] = self.allowed
        return out


@dataclass(slots=True)
class Contract:
    """Rules for a model's inputs and outputs; see the module docstring."""

    columns: dict[str, ColumnRule]
    prediction: str | None = None
    scores: list[str] = field(default_factory=list)
    target: str | None = None
    allow_extra_columns: bool = False

    @classmethod
    def infer(
        cls,
        reference: DatasetProfile | pd.DataFrame,
        *,
        prediction: str | None = None,
        scores: list[str] | tuple[str, ...] = (),
        target: str | None = None,
        range_tolerance: float = 0.1,
        max_categories: int = 100,
    ) -> Contract:
        """Learn a contract from reference data: numeric and datetime ranges widened by ``range_tolerance`` ×
        their width on each side, the category set when it has at most ``max_categories`` values,
        nullability from whether any value was missing. Score columns whose reference lies in [0, 1] must
        stay there. ``prediction``, ``scores`` and ``target`` must be reference columns."""
        if range_tolerance < 0:
            raise InputError(f"range_tolerance must be >= 0, got {range_tolerance}")
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
        for name in (prediction, *scores, target):
            if name is not None and name not in rules:
                raise InputError(f"output column '{name}' is not in the reference")
        return cls(columns=rules, prediction=prediction, scores=list(scores), target=target)

    def to_yaml(self, path: str | Path | None = None) -> str:
        """The contract as YAML (written to ``path`` when given)."""
        data = {
            "version": FORMAT_VERSION,
            "allow_extra_columns": self.allow_extra_columns,
            "outputs": {"prediction": self.prediction, "scores": self.scores, "target": self.target},
            "columns": {name: rule.to_dict() for name, rule in self.columns.items()},
        }
        text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_yaml(cls, source: str | Path) -> Contract:
        """Read a contract from a YAML file path or YAML text; errors name the offending key. Text from
        outside (a request body) goes to :meth:`from_yaml_text`, which never opens a file."""
        if _is_path(source):
            path = Path(source)
            if not path.is_file():
                raise InputError(f"{path}: no such contract file")
            return cls.from_yaml_text(path.read_text(encoding="utf-8"))
        return cls.from_yaml_text(str(source))

    @classmethod
    def from_yaml_text(cls, text: str) -> Contract:
        """Parse a contract from YAML text only (a path is just text here, and invalid); errors name the
        offending key."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"contract is not valid YAML: {exc}") from None
        if not isinstance(data, dict) or not isinstance(data.get("columns"), dict):
            raise InputError("contract: expected a mapping with a 'columns' mapping")
        version = data.get("version", FORMAT_VERSION)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise InputError(f"contract: version {version!r} is not supported (expected {FORMAT_VERSION})")
        rules = {str(name): _rule(str(name), spec) for name, spec in data["columns"].items()}
        outputs = data.get("outputs") or {}
        if not isinstance(outputs, dict):
            raise InputError("contract: outputs must be a mapping")
        scores = outputs.get("scores") or []
        if not isinstance(scores, list):
            scores = [scores]  # one score column, named alone
        contract = cls(
            columns=rules,
            prediction=_output_name("prediction", outputs.get("prediction")),
            scores=[_output_name("scores", name) for name in scores],
            target=_output_name("target", outputs.get("target")),
            allow_extra_columns=bool(data.get("allow_extra_columns", False)),
        )
        for key, name in (("prediction", contract.prediction), ("target", contract.target)):
            if name is not None and name not in rules:
                raise InputError(f"contract: outputs.{key} '{name}' has no entry under columns")
        for name in contract.scores:
            if name not in rules:
                raise InputError(f"contract: outputs.scores '{name}' has no entry under columns")
        return contract

    def validate(self, batch: pd.DataFrame) -> list[Finding]:
        """Every rule the batch breaks, as findings (vectorised per column; the ``target`` column may be
        absent, labels arrive later)."""
        if not isinstance(batch, pd.DataFrame):
            raise InputError(f"contract: expected a DataFrame to validate, got {type(batch).__name__}")
        if batch.columns.has_duplicates:
            dupes = sorted(set(map(str, batch.columns[batch.columns.duplicated()])))
            raise InputError(f"batch has duplicate columns: {', '.join(dupes)}")
        rows = len(batch)
        whole = {"value": 1.0 if rows else None, "threshold": 0.0, "evidence": {"count": rows, "rows": rows}}
        findings: list[Finding] = []
        present = {str(c): c for c in batch.columns}
        for name in self.columns:
            if name not in present and name != self.target:
                findings.append(
                    _finding("contract.missing_column", name, "column is missing", Severity.CRITICAL, **whole)
                )
        if not self.allow_extra_columns:
            for name in sorted(present.keys() - self.columns.keys()):
                findings.append(
                    _finding(
                        "contract.extra_column",
                        name,
                        "column is not in the contract",
                        Severity.CRITICAL,
                        **whole,
                    )
                )
        if not rows:
            return findings
        dtypes = batch.dtypes
        numbers, others = [], []
        for name, rule in self.columns.items():
            if name in present:
                plain = rule.kind == "numeric" and _is_plain_number(dtypes[present[name]])
                (numbers if plain else others).append((name, rule))
        if numbers:
            findings += _check_numbers(batch, present, numbers, rows)
        for name, rule in others:
            findings += _check_column(name, rule, batch[present[name]], rows)
        return findings


def read_batch(path: str | Path) -> pd.DataFrame:
    """The rows of a CSV/TSV/Parquet/Arrow file to validate (a saved profile has no rows to check)."""
    if is_profile_file(path):
        raise InputError(f"{path}: is a saved profile; a contract is validated on rows (CSV or Parquet)")
    return read_table(path)


def _is_path(source: str | Path) -> bool:
    return isinstance(source, Path) or ("\n" not in source and Path(source).suffix in (".yaml", ".yml"))


def _output_name(key: str, value: Any) -> Any:
    """A column named under ``outputs:`` (text; a YAML number is its text), or None when not given."""
    if value is None:
        return None
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)
    raise InputError(f"contract: outputs.{key} must be a column name, got {type(value).__name__}")


def _rule(name: str, spec: Any) -> ColumnRule:
    if not isinstance(spec, dict):
        raise InputError(f"contract: columns.{name} must be a mapping")
    kind = spec.get("kind")
    if kind not in KINDS:
        raise InputError(f"contract: columns.{name}.kind must be one of {', '.join(KINDS)}, got {kind!r}")
    low, high = (_bound(f"columns.{name}.{key}", kind, spec.get(key)) for key in ("min", "max"))
    if (low is not None or high is not None) and kind not in RANGED_KINDS:
        raise InputError(f"contract: columns.{name}: min/max apply to numeric and datetime columns only")
    if low is not None and high is not None and low > high:
        raise InputError(f"contract: columns.{name}.min is greater than its max")
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


def _bound(key: str, kind: str, value: Any) -> float | None:
    """A YAML bound as a float: a number, or for datetime columns also a timestamp (naive = UTC)."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if kind == "datetime" and isinstance(value, str | date):
        try:
            stamp = pd.Timestamp(value)
        except ValueError:
            stamp = pd.NaT
        if not pd.isna(stamp):
            stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
            return stamp.value / 1e9
    if kind == "datetime":
        raise InputError(f"contract: {key} must be an ISO-8601 timestamp or epoch seconds, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"contract: {key} must be a number, got {value!r}") from None


def _timestamp_text(seconds: float, rounding: Any) -> str:
    """UTC epoch seconds as ISO-8601, rounded outward to the microsecond so that the bound still holds."""
    return pd.Timestamp(rounding(seconds * 1e6), unit="us", tz="UTC").isoformat()


def _show(kind: str, value: float | None) -> str:
    if value is None:
        return "-inf" if kind == "numeric" else "…"
    return pd.Timestamp(value, unit="s", tz="UTC").isoformat() if kind == "datetime" else f"{value:.4g}"


def _finding(check: str, column: str, message: str, severity: Severity, **extra: Any) -> Finding:
    return Finding(check=check, severity=severity, message=f"{column}: {message}", column=column, **extra)


def _violation(
    check: str,
    name: str,
    what: str,
    bad: np.ndarray,
    values: pd.Series,
    rows: int,
    severity: Severity = Severity.WARNING,
    **evidence: Any,
) -> Finding:
    """A finding for the rows flagged in ``bad``: count, share of rows and up to five distinct examples."""
    count = int(np.count_nonzero(bad))
    examples = pd.unique(values[bad].astype(str))[:EXAMPLES].tolist()
    return _finding(
        check,
        name,
        f"{count:,} rows ({count / rows:.1%}) {what}; e.g. {', '.join(examples)}",
        severity,
        value=count / rows,
        threshold=0.0,
        evidence={"count": count, "rows": rows, "examples": examples, **evidence},
    )


def _soft_severity(bad: np.ndarray, rows: int) -> Severity:
    """Warning for a range or category rule broken by at least NOISE_SHARE of the rows, else info."""
    return Severity.WARNING if np.count_nonzero(bad) >= NOISE_SHARE * rows else Severity.INFO


def _parse_timestamps(values: pd.Series) -> pd.Series:
    """Strings as UTC timestamps (NaT where a value is not ISO-8601): CSV and JSON carry no datetime type."""
    return pd.to_datetime(values, errors="coerce", utc=True, format="ISO8601")


def _is_plain_number(dtype: Any) -> bool:
    """Integer or float columns (numpy or nullable), which can be checked together as one float matrix."""
    return not isinstance(dtype, pd.CategoricalDtype) and getattr(dtype, "kind", "") in ("i", "u", "f")


def _check_numbers(
    batch: pd.DataFrame, present: dict[str, Any], rules: list[tuple[str, ColumnRule]], rows: int
) -> list[Finding]:
    """Nullability and ranges of all plain numeric columns at once, on one (rows × columns) float matrix."""
    x = batch[[present[name] for name, _ in rules]].to_numpy(dtype=float, na_value=np.nan)
    low = np.array([-np.inf if r.min is None else r.min for _, r in rules])
    high = np.array([np.inf if r.max is None else r.max for _, r in rules])
    required = np.array([not r.nullable for _, r in rules])
    nulls = np.count_nonzero(np.isnan(x), axis=0) * required
    # Column extremes first (NaN-skipping reductions); the row masks are built only for offending columns.
    escaped = (np.fmin.reduce(x, axis=0) < low) | (np.fmax.reduce(x, axis=0) > high)
    out: list[Finding] = []
    for j in np.flatnonzero((nulls > 0) | escaped):
        name, rule = rules[j]
        if nulls[j]:
            out.append(_nullable(name, int(nulls[j]), rows))
        if escaped[j]:
            bad = (x[:, j] < low[j]) | (x[:, j] > high[j])
            out.append(_out_of_range(name, rule, bad, batch[present[name]], rows))
    return out


def _nullable(name: str, count: int, rows: int) -> Finding:
    return _finding(
        "contract.nullable",
        name,
        f"{count:,} missing values ({count / rows:.1%}) in a required column",
        Severity.WARNING,
        value=count / rows,
        threshold=0.0,
        evidence={"count": count, "rows": rows},
    )


def _out_of_range(name: str, rule: ColumnRule, bad: np.ndarray, values: pd.Series, rows: int) -> Finding:
    where = f"outside [{_show(rule.kind, rule.min)}, {_show(rule.kind, rule.max)}]"
    return _violation("contract.range", name, where, bad, values, rows, _soft_severity(bad, rows))


def _check_column(name: str, rule: ColumnRule, values: pd.Series, rows: int) -> list[Finding]:
    """The findings of one column. Its kind must equal the rule's, except that a datetime rule accepts a
    column of strings that all parse as ISO-8601 timestamps; a column that is entirely missing is exempt
    from the kind rule (only ``nullable`` applies)."""
    array = values.array
    missing = np.asarray(pd.isna(array))
    nulls = int(np.count_nonzero(missing))
    out = [_nullable(name, nulls, rows)] if nulls and not rule.nullable else []
    if nulls == rows or rule.kind == "empty":  # a column the reference never filled has no kind to keep
        return out
    kind, given = column_kind(values, name), values
    if kind != rule.kind:
        wrong, what = ~missing, f"are {kind}"
        if rule.kind == "datetime" and kind == "categorical":
            values = _parse_timestamps(given)
            wrong, what = values.isna().to_numpy() & ~missing, "are not ISO-8601 timestamps"
        if wrong.any():
            kind_finding = _violation(
                "contract.kind",
                name,
                f"{what}, the contract says {rule.kind}",
                wrong,
                given,
                rows,
                Severity.CRITICAL,
                kind=kind,
                dtype=str(given.dtype),
            )
            return [kind_finding, *out]
    if rule.kind in RANGED_KINDS and (rule.min is not None or rule.max is not None):
        x = numeric_values(values, rule.kind)
        low = -np.inf if rule.min is None else rule.min
        high = np.inf if rule.max is None else rule.max
        with np.errstate(invalid="ignore"):
            bad = (x < low) | (x > high)
        if bad.any():
            out.append(_out_of_range(name, rule, bad, given, rows))
    elif rule.allowed is not None and rule.kind not in RANGED_KINDS:
        # Hash each row once (factorize), then test only the distinct values: by their text, as the YAML
        # holds text (True matches "True"); code -1 (missing) maps to the appended ``True``.
        codes, uniques = pd.factorize(array)
        allowed = set(rule.allowed)
        known = np.array([str(u) in allowed for u in uniques] + [True], dtype=bool)
        bad = ~known[codes]
        if bad.any():
            out.append(
                _violation(
                    "contract.category",
                    name,
                    "outside the allowed categories",
                    bad,
                    values,
                    rows,
                    _soft_severity(bad, rows),
                )
            )
    return out
