"""Category counts: exact up to a cap, then the most frequent categories plus an "other" count."""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_CAP = 1_000  # distinct categories counted exactly per column


def count_categories(values: pd.Series) -> pd.Series:
    """Non-missing value counts keyed by the value's string form (``True``/``False`` for booleans)."""
    counts = values.value_counts(dropna=True, sort=False)
    counts = counts[counts > 0]  # pandas categoricals list unused categories with a zero count
    if counts.index.dtype != object or not all(isinstance(k, str) for k in counts.index):
        counts.index = counts.index.astype(str)
        counts = counts.groupby(level=0, sort=False).sum()  # 1 and "1" become one category
    return counts.astype("int64")


def cap_categories(counts: dict[str, int], cap: int) -> tuple[dict[str, int], int]:
    """Keep the ``cap`` most frequent categories (ties broken by name, so the result is deterministic).

    Returns the kept counts and the total count folded into "other". While the number of distinct
    categories stays within ``cap`` nothing is dropped and merges are exact; beyond it the kept counts are
    those of a frequent-items summary and ``other`` holds the rest.
    """
    if len(counts) <= cap:
        return counts, 0
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    kept = dict(ranked[:cap])
    return kept, sum(c for _, c in ranked[cap:])


def merge_counts(parts: list[dict[str, int]]) -> dict[str, int]:
    merged = dict(parts[0])
    for counts in parts[1:]:
        for key, count in counts.items():
            merged[key] = merged.get(key, 0) + count
    return merged


def as_labels(series: pd.Series) -> pd.Series:
    """A numeric column declared categorical, in the form its labels are taken from: floats that are all
    whole numbers become integers, so that code ``1`` is label ``"1"`` whether or not a batch had a missing
    value (which makes pandas store the codes as floats, ``"1.0"``)."""
    dtype = series.dtype
    if not pd.api.types.is_float_dtype(dtype):
        return series
    values = series.to_numpy(dtype="float64", na_value=np.nan)
    present = values[~np.isnan(values)]
    whole = np.isfinite(present) & (present == np.trunc(present)) & (np.abs(present) < 2**53)
    if present.size and whole.all():
        return pd.Series(values, index=series.index, name=series.name).astype("Int64")
    return series
