"""Cut a current data set into chunks: calendar periods of a timestamp column, or runs of N rows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlwarden.errors import InputError

# period units (case-insensitive) → pandas period codes; weeks run Monday to Sunday
UNITS = {"min": "min", "h": "h", "d": "D", "w": "W-SUN", "m": "M", "q": "Q-DEC", "y": "Y-DEC"}
PERIOD = re.compile(r"^\s*(\d*)\s*(min|h|d|w|m|q|y)\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk: ``key`` (the period's start, or the chunk's number), ``start``/``end`` (period bounds,
    end excluded; or the first and last ``chunk_by`` value, or row positions, both included), its row
    positions in the frame (``positions``), and whether it is a gap between periods (``gap``)."""

    key: str
    start: Any
    end: Any
    positions: np.ndarray
    gap: bool = False

    @property
    def rows(self) -> int:
        return int(self.positions.size)


def split_chunks(
    frame: pd.DataFrame,
    *,
    chunk_by: str | None = None,
    period: str | None = None,
    chunk_size: int | None = None,
) -> list[Chunk]:
    """The chunks of ``frame``, in time (or row) order; every row lands in exactly one chunk.

    ``period`` (``"1d"``, ``"6h"``, ``"30min"``, ``"1w"``, ``"1m"`` month, ``"1q"``, ``"1y"``; an integer
    multiple in front) cuts ``chunk_by``'s timestamps into calendar periods, periods with no row in between
    included (``gap=True``) and rows without a timestamp gathered in a last chunk keyed ``missing``.
    ``chunk_size`` cuts runs of that many rows, in ``chunk_by`` order when given (stable), else in row
    order; the last chunk may be shorter. Raises :class:`InputError` for an unknown column, a bad period or
    size, both or neither of ``period`` and ``chunk_size``, or a ``chunk_by`` column that is not timestamps
    when a period is asked for.
    """
    if (period is None) == (chunk_size is None):
        both = "one of them, not both" if period is not None else "none was given"
        raise InputError(
            f"chunks: give a period (--period, e.g. 1d) or a chunk size (--chunk-size N): {both}"
        )
    if chunk_by is not None and chunk_by not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:10]))
        raise InputError(f"chunk_by: no column '{chunk_by}' in current data (columns: {shown})")
    if period is not None:
        if chunk_by is None:
            raise InputError("period: needs chunk_by (--chunk-by), the timestamp column to cut into periods")
        return _by_period(frame[chunk_by], period)
    return _by_size(frame, chunk_by, chunk_size)


def _by_size(frame: pd.DataFrame, chunk_by: str | None, size: Any) -> list[Chunk]:
    if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
        raise InputError(f"chunk_size: expected a whole number of rows ≥ 1, got {size!r}")
    n = len(frame)
    if chunk_by is None:
        order, values = np.arange(n), None
    else:
        column = frame[chunk_by]
        order = column.reset_index(drop=True).sort_values(kind="stable", na_position="last").index.to_numpy()
        values = column.to_numpy()
    chunks = []
    for i, begin in enumerate(range(0, max(n, 1), size)):
        positions = order[begin : begin + size]
        if values is None or not positions.size:
            start, end = begin, begin + max(positions.size - 1, 0)
        else:
            start, end = _plain(values[positions[0]]), _plain(values[positions[-1]])
        chunks.append(Chunk(key=str(i), start=start, end=end, positions=positions))
    return chunks


def _by_period(column: pd.Series, period: str) -> list[Chunk]:
    match = PERIOD.match(period) if isinstance(period, str) else None
    if match is None or int(match.group(1) or 1) < 1:
        raise InputError(
            "period: expected a number and a unit (min, h, d, w, m, q, y) such as 1d, 6h or 1w, "
            f"got {period!r}"
        )
    step, code = int(match.group(1) or 1), UNITS[match.group(2).lower()]
    stamps = _timestamps(column)
    missing = stamps.isna().to_numpy()
    present = np.flatnonzero(~missing)
    chunks = []
    if present.size:
        ordinals = stamps.iloc[present].dt.to_period(code).array.asi8 // step
        first, last = int(ordinals.min()), int(ordinals.max())
        order = np.argsort(ordinals, kind="stable")
        bounds = np.searchsorted(ordinals[order], np.arange(first, last + 2))
        for k in range(first, last + 1):
            positions = present[order[bounds[k - first] : bounds[k - first + 1]]]
            start = pd.Period(ordinal=k * step, freq=code).start_time
            end = pd.Period(ordinal=(k + 1) * step, freq=code).start_time
            chunks.append(Chunk(start.isoformat(), start, end, positions, gap=not positions.size))
    if missing.any():
        chunks.append(Chunk("missing", None, None, np.flatnonzero(missing)))
    if not chunks:  # an empty frame: one empty chunk, judged as an empty current
        chunks.append(Chunk("0", None, None, np.arange(0)))
    return chunks


def _timestamps(column: pd.Series) -> pd.Series:
    """``column`` as naive timestamps (an aware one in its own wall time: days end at its midnight)."""
    if not pd.api.types.is_datetime64_any_dtype(column.dtype):
        if pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype):
            raise InputError(
                f"chunk_by '{column.name}': a period needs timestamps, got {column.dtype} values"
            )
        try:
            column = pd.to_datetime(column, format="mixed")
        except (TypeError, ValueError):
            example = column.dropna().iloc[0] if column.notna().any() else None
            raise InputError(
                f"chunk_by '{column.name}': a period needs timestamps, got values like {example!r}"
            ) from None
    if getattr(column.dt, "tz", None) is not None:
        column = column.dt.tz_localize(None)
    return column.reset_index(drop=True)


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python value (JSON-ready); timestamps as ``pd.Timestamp``."""
    if isinstance(value, np.datetime64):
        return pd.Timestamp(value)
    return value.item() if hasattr(value, "item") else value
