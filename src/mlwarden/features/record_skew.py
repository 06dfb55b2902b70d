"""Record-level skew: the same entities' features as computed offline (training) and online (serving).

Both tables are joined on the key (and the time column when given) with one pandas merge. Per feature:
rows compared (keys on both sides), mismatches, mismatch rate = mismatches / rows compared, and for
numeric features the mean and max absolute difference over the rows where both values are finite.
Numeric values match when ``|online − offline| ≤ atol + rtol·|offline|`` (``numpy.isclose``); other values
match when equal; two missing values match. Keys present on one side only are counted and reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlwarden.errors import InputError
from mlwarden.features.jsonable import jsonable, jsonable_rows
from mlwarden.findings import Finding, Severity, finite_or_none

CRITICAL_RATE = 0.01  # a feature differing on at least 1 % of joined rows is critical; any mismatch warns
_SIDE = "__mlwarden_side__"
_SUFFIXES = ("__offline", "__online")


@dataclass(slots=True)
class FeatureRecordSkew:
    """How one feature differs between offline and online values of the same keys."""

    column: str
    numeric: bool
    compared: int
    mismatches: int
    mean_abs_diff: float | None = None
    max_abs_diff: float | None = None
    examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def mismatch_rate(self) -> float:
        return self.mismatches / self.compared if self.compared else 0.0

    def finding(self, model: str | None = None) -> Finding | None:
        """``skew.record``: critical at a mismatch rate ≥ 1 %, a warning for any mismatch, else None."""
        if not self.mismatches:
            return None
        diff = f", max |diff| {self.max_abs_diff:.3g}" if self.max_abs_diff is not None else ""
        return Finding(
            check="skew.record",
            severity=Severity.CRITICAL if self.mismatch_rate >= CRITICAL_RATE else Severity.WARNING,
            message=f"{self.column}: {self.mismatches:,} of {self.compared:,} joined rows differ between "
            f"offline and online ({self.mismatch_rate:.2%}{diff})",
            column=self.column,
            value=self.mismatch_rate,
            threshold=CRITICAL_RATE,
            model=model,
            evidence={
                "compared": self.compared,
                "mismatches": self.mismatches,
                "mean_abs_diff": finite_or_none(self.mean_abs_diff),
                "max_abs_diff": finite_or_none(self.max_abs_diff),
                "examples": self.examples,
            },
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "column": self.column,
            "numeric": self.numeric,
            "compared": self.compared,
            "mismatches": self.mismatches,
            "mismatch_rate": self.mismatch_rate,
            "mean_abs_diff": finite_or_none(self.mean_abs_diff),
            "max_abs_diff": finite_or_none(self.max_abs_diff),
            "examples": self.examples,
        }


@dataclass(slots=True)
class RecordSkewResult:
    """Per-feature comparison of joined rows, plus the keys and columns found on one side only."""

    key: list[str]
    rows_offline: int
    rows_online: int
    matched: int
    offline_only: int
    online_only: int
    features: list[FeatureRecordSkew]
    offline_only_examples: list[dict[str, Any]] = field(default_factory=list)
    online_only_examples: list[dict[str, Any]] = field(default_factory=list)
    offline_only_columns: list[str] = field(default_factory=list)
    online_only_columns: list[str] = field(default_factory=list)

    def __getitem__(self, column: str) -> FeatureRecordSkew:
        for f in self.features:
            if f.column == column:
                return f
        raise KeyError(column)

    def findings(self, model: str | None = None) -> list[Finding]:
        """A ``skew.record`` finding per mismatching feature; ``skew.record.unmatched`` for one-sided keys."""
        out = [f for feature in self.features if (f := feature.finding(model)) is not None]
        if self.offline_only or self.online_only:
            total = self.matched + self.offline_only + self.online_only
            none_matched = self.matched == 0
            out.append(
                Finding(
                    check="skew.record.unmatched",
                    severity=Severity.CRITICAL if none_matched else Severity.WARNING,
                    message=f"{self.offline_only:,} keys only offline and {self.online_only:,} only online "
                    f"({self.matched:,} on both sides" + ("; check --key" if none_matched else "") + ")",
                    value=(self.offline_only + self.online_only) / total,
                    model=model,
                    evidence={
                        "key": self.key,
                        "offline_only": self.offline_only,
                        "online_only": self.online_only,
                        "offline_only_examples": self.offline_only_examples,
                        "online_only_examples": self.online_only_examples,
                    },
                )
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "rows_offline": self.rows_offline,
            "rows_online": self.rows_online,
            "matched": self.matched,
            "offline_only": self.offline_only,
            "online_only": self.online_only,
            "offline_only_examples": self.offline_only_examples,
            "online_only_examples": self.online_only_examples,
            "offline_only_columns": self.offline_only_columns,
            "online_only_columns": self.online_only_columns,
            "features": [f.to_dict() for f in self.features],
            "findings": [f.to_dict() for f in self.findings()],
        }


def record_skew(
    offline: pd.DataFrame,
    online: pd.DataFrame,
    *,
    key: str | list[str],
    time: str | None = None,
    columns: list[str] | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    examples: int = 5,
) -> RecordSkewResult:
    """Compare ``offline`` and ``online`` feature values row by row, joined on ``key`` (+ ``time``).

    ``columns`` defaults to every column both tables have besides the join columns. Duplicate join keys on
    either side raise :class:`InputError` (a join would multiply rows and invent mismatches).
    """
    keys = [key] if isinstance(key, str) else list(key)
    if time is not None:
        keys.append(time)
    if not keys:
        raise InputError("record skew needs at least one key column")
    for role, frame in (("offline", offline), ("online", online)):
        if not isinstance(frame, pd.DataFrame):
            raise InputError(f"{role}: expected a DataFrame, got {type(frame).__name__}")
        missing = [k for k in keys if k not in frame.columns]
        if missing:
            raise InputError(f"{role} data has no key column {', '.join(map(repr, missing))}")
        _check_unique(frame, keys, role)
    if columns is None:
        columns = [c for c in offline.columns if c in online.columns and c not in keys]
    else:
        for role, frame in (("offline", offline), ("online", online)):
            absent = [c for c in columns if c not in frame.columns]
            if absent:
                raise InputError(f"{role} data has no column {', '.join(map(repr, absent))}")
    try:
        merged = offline[keys + columns].merge(
            online[keys + columns], on=keys, how="outer", suffixes=_SUFFIXES, indicator=_SIDE
        )
    except (ValueError, TypeError) as exc:
        raise InputError(f"cannot join offline and online on {', '.join(keys)}: {exc}") from None
    side = merged[_SIDE].to_numpy()
    both = merged[side == "both"]
    left, right = merged[side == "left_only"], merged[side == "right_only"]
    features = [_compare(both, c, keys, rtol=rtol, atol=atol, examples=examples) for c in columns]
    return RecordSkewResult(
        key=keys,
        rows_offline=len(offline),
        rows_online=len(online),
        matched=len(both),
        offline_only=len(left),
        online_only=len(right),
        features=features,
        offline_only_examples=jsonable_rows(left[keys].head(examples)),
        online_only_examples=jsonable_rows(right[keys].head(examples)),
        offline_only_columns=[c for c in offline.columns if c not in online.columns and c not in keys],
        online_only_columns=[c for c in online.columns if c not in offline.columns and c not in keys],
    )


def _check_unique(frame: pd.DataFrame, keys: list[str], role: str) -> None:
    dupes = frame.duplicated(keys, keep=False)
    if dupes.any():
        example = jsonable_rows(frame.loc[dupes, keys].head(1))[0]
        raise InputError(
            f"{role} data has {int(dupes.sum()):,} rows with a duplicate key ({', '.join(keys)}), "
            f"e.g. {example}; expected one row per key"
        )


def _compare(
    both: pd.DataFrame, column: str, keys: list[str], *, rtol: float, atol: float, examples: int
) -> FeatureRecordSkew:
    a, b = both[column + _SUFFIXES[0]], both[column + _SUFFIXES[1]]
    numeric = _is_number(a) and _is_number(b)
    missing_both = (a.isna() & b.isna()).to_numpy()
    mean_diff = max_diff = None
    if numeric:
        x, y = a.to_numpy(dtype="float64", na_value=np.nan), b.to_numpy(dtype="float64", na_value=np.nan)
        equal = missing_both | np.isclose(y, x, rtol=rtol, atol=atol)
        finite = np.isfinite(x) & np.isfinite(y)
        if finite.any():
            diff = np.abs(x[finite] - y[finite])
            mean_diff, max_diff = float(diff.mean()), float(diff.max())
    else:
        x, y = _objects(a), _objects(b)
        equal = missing_both | (x == y)
    bad = ~equal
    shown = both.loc[bad, keys].head(examples)
    rows = jsonable_rows(shown)
    picked = np.flatnonzero(bad)[:examples]
    for row, off, on in zip(rows, a.iloc[picked].tolist(), b.iloc[picked].tolist(), strict=True):
        row["offline"], row["online"] = jsonable(off), jsonable(on)
    return FeatureRecordSkew(
        column=column,
        numeric=numeric,
        compared=len(both),
        mismatches=int(bad.sum()),
        mean_abs_diff=mean_diff,
        max_abs_diff=max_diff,
        examples=rows,
    )


def _objects(series: pd.Series) -> np.ndarray:
    values = series.astype(object)
    return values.where(values.notna(), None).to_numpy()


def _is_number(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
