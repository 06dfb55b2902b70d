"""Slices: the rows of each value of each slice column."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlwarden.errors import InputError

MAX_SLICE_VALUES = 100  # a slice column with more distinct values is an identifier, not a segment


def slice_groups(
    rows: pd.DataFrame, slices: tuple[str, ...], target: str
) -> list[tuple[str, object, np.ndarray]]:
    """(column, value, row numbers) for every value of every slice column, values in sorted order, a
    missing value (``None``) last."""
    groups = []
    for column in dict.fromkeys(slices):
        if column not in rows.columns:
            raise InputError(f"slice: no column {column!r} in the data")
        if column == target:
            raise InputError(f"slice {column!r}: is the target; slice by a feature or segment column")
        series = rows[column]
        try:
            codes, uniques = pd.factorize(series, sort=True)
        except TypeError:  # values of mixed types have no order
            codes, uniques = pd.factorize(series)
        if len(uniques) > MAX_SLICE_VALUES:
            raise InputError(
                f"slice {column!r}: {len(uniques):,} distinct values; slice by a column with at most "
                f"{MAX_SLICE_VALUES}"
            )
        codes = np.where(codes < 0, len(uniques), codes)
        order = np.argsort(codes, kind="stable")
        bounds = np.cumsum(np.bincount(codes, minlength=len(uniques) + 1))
        values = [*(_plain(u) for u in uniques), None]
        for code, rows_of_value in enumerate(np.split(order, bounds[:-1])):
            if rows_of_value.size:
                groups.append((column, values[code], rows_of_value))
    return groups


def _plain(value: object) -> object:
    """A slice value as JSON shows it: a Python scalar, a timestamp as ISO text."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value
