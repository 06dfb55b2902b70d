"""Small values and rows as JSON-ready data, for findings' evidence."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def jsonable_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    columns = {c: [jsonable(v) for v in frame[c].tolist()] for c in frame.columns}
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def jsonable(value: Any) -> Any:
    """A small value as JSON-ready data (NaN and NA as None, timestamps as ISO-8601)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else (None if math.isnan(value) else repr(value))
    if isinstance(value, bool | int | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
