"""Point-in-time correctness: no feature may have been observed after the moment of prediction.

Each feature-time column holds when a feature's value was observed (or last updated). A row where that time
is strictly after the row's prediction/label time used information from the future, which serving will
never have. Times are compared in UTC (naive times are taken as UTC); rows where either time is missing are
not counted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlwarden.errors import InputError
from mlwarden.features.jsonable import jsonable
from mlwarden.findings import Finding, Severity

DETECT_SAMPLE = 100  # string columns are tried as timestamps on this many values before a full parse


def as_utc(series: pd.Series, column: str) -> pd.Series:
    """``series`` as UTC timestamps; :class:`InputError` naming ``column`` when it holds other values."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.dt.tz_localize("UTC") if series.dt.tz is None else series.dt.tz_convert("UTC")
    if pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        raise InputError(f"column '{column}' must hold timestamps, got {series.dtype} values")
    try:
        return pd.to_datetime(series, utc=True, format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise InputError(f"column '{column}' must hold timestamps: {exc}") from None


def timestamp_columns(data: pd.DataFrame, exclude: set[str]) -> list[str]:
    """Datetime columns, and string columns whose values all parse as ISO-8601 timestamps."""
    return [name for name in data.columns if name not in exclude and _is_timestamp(data[name])]


def _is_timestamp(series: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return True
    return pd.api.types.infer_dtype(series.head(DETECT_SAMPLE), skipna=True) == "string" and _parses(series)


def _parses(series: pd.Series) -> bool:
    present = series.dropna()
    if present.empty:
        return False
    for values in (present.head(DETECT_SAMPLE), present):
        parsed = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
        if parsed.isna().any():
            return False
    return True


def point_in_time_findings(
    data: pd.DataFrame, *, time: str, columns: list[str], id_column: str | None, examples: int
) -> list[Finding]:
    """A critical ``leakage.point_in_time`` finding per feature-time column with values after ``time``."""
    t = as_utc(data[time], time)
    findings = []
    for column in columns:
        observed = as_utc(data[column], column)
        known = (observed.notna() & t.notna()).to_numpy()
        late = (observed > t).to_numpy() & known
        count = int(late.sum())
        if not count:
            continue
        share = count / max(int(known.sum()), 1)
        picked = np.flatnonzero(late)[:examples]
        rows = [
            {"row": jsonable(data.index[i]), column: jsonable(observed.iloc[i]), time: jsonable(t.iloc[i])}
            | ({id_column: jsonable(data[id_column].iloc[i])} if id_column else {})
            for i in picked
        ]
        lead = (observed - t)[late]
        findings.append(
            Finding(
                check="leakage.point_in_time",
                severity=Severity.CRITICAL,
                message=f"{column}: {count:,} rows ({share:.1%}) were observed after '{time}' "
                f"(up to {lead.max()} later) — information from the future",
                column=column,
                value=share,
                threshold=0.0,
                evidence={"rows": count, "share": share, "max_lead": str(lead.max()), "examples": rows},
            )
        )
    return findings
