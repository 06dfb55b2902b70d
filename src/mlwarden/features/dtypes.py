"""Declared types of feature inputs and outputs, and the one conversion both training and serving go through.

Inputs are converted to a canonical dtype before any feature function sees them, and outputs are cast to
the declared dtype afterwards, so a column read from Parquet and the same values sent as JSON records reach
the function as identical arrays. A value of the wrong type raises :class:`InputError` naming the feature
and the column.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlwarden.errors import InputError

# Input dtype -> what the function receives.
INPUT_DTYPES: dict[str, str] = {
    "float64": "float64 numpy array in a Series, missing as NaN",
    "int64": "nullable Int64 Series, missing as <NA>",
    "bool": "nullable boolean Series, missing as <NA>",
    "string": "object Series of str, missing as None",
    "datetime": "datetime64[ns, UTC] Series (naive times are taken as UTC), missing as NaT",
    "object": "object Series, values passed through unchanged (no consistency guarantee)",
}

# Output dtype -> how the function's result is stored.
OUTPUT_DTYPES: dict[str, str] = {
    "float64": "float64, missing as NaN",
    "float32": "float32, missing as NaN",
    "int64": "int64, no missing values allowed",
    "int32": "int32, no missing values allowed",
    "Int64": "nullable Int64, missing as <NA> (None in records)",
    "bool": "bool, no missing values allowed",
    "boolean": "nullable boolean, missing as <NA> (None in records)",
    "string": "object of str, missing as None",
    "category": "pandas category of str values, missing as NaN (None in records)",
}

_NUMBER_KINDS = {"integer", "floating", "mixed-integer-float", "decimal", "empty"}
_INT_KINDS = {"integer", "empty"}


def check_dtype(dtype: str, allowed: dict[str, str], what: str, feature: str) -> None:
    if dtype not in allowed:
        raise InputError(
            f"feature '{feature}': {what} dtype must be one of {', '.join(allowed)}, got {dtype!r}"
        )


def coerce_input(series: pd.Series, dtype: str, *, feature: str, column: str) -> pd.Series:
    """``series`` in the canonical form of input ``dtype``; wrong types raise :class:`InputError`."""

    def wrong(expected: str) -> InputError:
        bad = _first_bad_value(series, expected)
        return InputError(
            f"feature '{feature}': input column '{column}' must hold {expected} values, "
            f"got {series.dtype} (e.g. {bad!r})"
        )

    kind = _kind(series)
    if dtype == "float64":
        if kind not in _NUMBER_KINDS:
            raise wrong("numeric")
        return series.astype("float64")
    if dtype == "int64":
        if kind in _INT_KINDS:
            return series.astype("Int64")
        if kind in _NUMBER_KINDS:
            values = series.astype("float64")
            if np.all(np.isnan(values) | (values == np.round(values))):
                return values.astype("Int64")
        raise wrong("integer")
    if dtype == "bool":
        if kind not in ("boolean", "empty"):
            raise wrong("boolean")
        return series.astype("boolean")
    if dtype == "string":
        if kind not in ("string", "empty"):
            raise wrong("string")
        return _object_with_none(series)
    if dtype == "datetime":
        if kind not in ("datetime64", "datetime", "date", "string", "empty"):
            raise wrong("datetime")
        try:
            values = pd.to_datetime(series, utc=True, format="ISO8601" if kind == "string" else None)
        except (ValueError, TypeError) as exc:
            raise InputError(
                f"feature '{feature}': input column '{column}' is not a datetime: {exc}"
            ) from None
        return values.astype("datetime64[ns, UTC]")
    return series.astype(object)


def cast_output(result: Any, dtype: str, *, feature: str, index: pd.Index) -> pd.Series:
    """A feature function's ``result`` as a Series of its declared ``dtype`` aligned with ``index``."""
    n = len(index)
    if isinstance(result, pd.Series | pd.Index):
        values: Any = result.array
    elif np.ndim(result) == 0:
        values = np.full(
            n, result, dtype=None if isinstance(result, str | bytes) else np.asarray(result).dtype
        )
    else:
        values = np.asarray(result)
    if len(values) != n:
        raise InputError(f"feature '{feature}' returned {len(values)} values for {n} rows")
    series = pd.Series(values, index=index, copy=False)
    kind = _kind(series)
    try:
        if dtype in ("float64", "float32"):
            if kind not in _NUMBER_KINDS and kind != "boolean":
                raise InputError(
                    f"feature '{feature}' is declared {dtype} but returned {series.dtype} values"
                )
            with np.errstate(over="ignore"):  # float32 overflow gives inf, as numpy defines it
                return series.astype(dtype)
        if dtype in ("int64", "int32", "Int64"):
            if kind not in _NUMBER_KINDS:
                raise InputError(
                    f"feature '{feature}' is declared {dtype} but returned {series.dtype} values"
                )
            if dtype != "Int64" and series.isna().any():
                raise InputError(f"feature '{feature}' is declared {dtype} but returned missing values")
            floats = series.astype("float64").to_numpy()
            if np.isinf(floats).any():
                raise InputError(f"feature '{feature}' is declared {dtype} but returned infinite values")
            if not np.all(np.isnan(floats) | (floats == np.round(floats))):
                raise InputError(f"feature '{feature}' is declared {dtype} but returned non-integer values")
            return series.astype(dtype)
        if dtype in ("bool", "boolean"):
            if kind not in ("boolean", "empty"):
                raise InputError(
                    f"feature '{feature}' is declared {dtype} but returned {series.dtype} values"
                )
            if dtype == "bool" and series.isna().any():
                raise InputError(f"feature '{feature}' is declared bool but returned missing values")
            return series.astype(dtype)
        text = _object_with_none(series)
        text = text.where(text.isna(), text.astype(str))
        return text.astype("category") if dtype == "category" else text
    except (TypeError, ValueError, OverflowError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"feature '{feature}': cannot store its result as {dtype}: {exc}") from None


def to_python(series: pd.Series) -> list[Any]:
    """Values as Python scalars for JSON-like records: floats keep NaN, other missing values become None."""
    if pd.api.types.is_float_dtype(series.dtype):
        return series.to_numpy().tolist()
    values = series.astype(object)
    return values.where(values.notna(), None).tolist()


def _object_with_none(series: pd.Series) -> pd.Series:
    values = series.astype(object)
    return values.where(values.notna(), None)


def _kind(series: pd.Series) -> str:
    """pandas' inferred kind of the non-missing values (``"empty"`` when all are missing)."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime64"
    if pd.api.types.is_numeric_dtype(dtype):
        if series.isna().all():
            return "empty"
        return "integer" if pd.api.types.is_integer_dtype(dtype) else "floating"
    return pd.api.types.infer_dtype(series, skipna=True)


def _first_bad_value(series: pd.Series, expected: str) -> Any:
    present = series[series.notna()]
    checks = {
        "numeric": lambda v: isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_),
        "integer": lambda v: isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_),
        "boolean": lambda v: isinstance(v, bool | np.bool_),
        "string": lambda v: isinstance(v, str),
    }
    ok = checks.get(expected)
    for value in present.head(1000).tolist():
        if ok is None or not ok(value):
            return value
    return present.iloc[0] if len(present) else None
