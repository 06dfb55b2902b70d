"""One column's mergeable summary."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import pandas as pd
from datasketches import kll_doubles_sketch

from mlwarden.errors import InputError
from mlwarden.profile import categorical, numeric
from mlwarden.profile.rebin import merge_binnings

Kind = Literal["numeric", "categorical", "boolean", "datetime", "empty"]
KINDS: tuple[Kind, ...] = ("numeric", "categorical", "boolean", "datetime", "empty")
NUMERIC_KINDS = ("numeric", "datetime")


@dataclass(slots=True)
class ColumnProfile:
    """Mergeable summary of one column; see ``mlwarden.profile`` for the meaning of each field.

    Kind ``"empty"``: the column held no values at all (every value missing, or no rows) — it has only
    ``missing``; merged with a profile of another kind it takes that kind.
    """

    name: str
    kind: Kind
    count: int = 0
    missing: int = 0
    # numeric and datetime (datetimes as epoch seconds)
    nonfinite: int = 0
    min: float = float("nan")
    max: float = float("nan")
    moments: numeric.Moments = field(default_factory=numeric.Moments)
    edges: np.ndarray | None = None
    hist: np.ndarray | None = None
    bin_sums: np.ndarray | None = None  # sum of the values in each histogram bin
    sketch: kll_doubles_sketch | None = None
    # categorical and boolean
    categories: dict[str, int] = field(default_factory=dict)
    other: int = 0
    capped: bool = False
    cap: int = categorical.DEFAULT_CAP

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS

    @property
    def is_empty(self) -> bool:
        return self.kind == "empty"

    @property
    def total(self) -> int:
        return self.count + self.missing

    @property
    def mean(self) -> float:
        return self.moments.mean

    @property
    def m2(self) -> float:
        return self.moments.m2

    @property
    def variance(self) -> float:
        """Population variance (ddof=0) of the finite values; NaN when there are none."""
        return self.moments.variance

    @property
    def std(self) -> float:
        """Population standard deviation (ddof=0) of the finite values; NaN when there are none."""
        return self.moments.std

    @property
    def distinct(self) -> int:
        """Distinct categories seen (a lower bound when ``capped``)."""
        return len(self.categories)

    def quantiles(self, qs: float | list[float] | np.ndarray) -> np.ndarray:
        """Quantiles of the finite values: from the KLL sketch when present, else from the histogram
        (NaN for a column without finite values, an empty column included)."""
        if not (self.is_numeric or self.is_empty):
            raise InputError(f"column '{self.name}' is {self.kind}; quantiles need a numeric column")
        q = np.atleast_1d(np.asarray(qs, dtype=float))
        if np.any((q < 0) | (q > 1)):
            raise InputError("quantiles must lie in [0, 1]")
        if self.moments.n == 0:
            return np.full(q.shape, np.nan)
        if self.sketch is not None:
            return np.asarray(self.sketch.get_quantiles(q.tolist()), dtype=float)
        if self.hist is not None and self.edges is not None:
            return numeric.histogram_quantiles(self.edges, self.hist, self.min, self.max, q)
        return np.full(q.shape, np.nan)

    def merge(self, other: ColumnProfile) -> ColumnProfile:
        """The profile of both columns' values together (commutative; see :func:`merge_columns`)."""
        return merge_columns([self, other])

    @classmethod
    def absent(cls, name: str, rows: int) -> ColumnProfile:
        """The profile of a column with ``rows`` missing values (or absent from a batch of ``rows`` rows)."""
        return cls(name=name, kind="empty", missing=rows)


def merge_columns(parts: list[ColumnProfile]) -> ColumnProfile:
    """The profile of all ``parts``' values together — profiles of one column from different data.

    Counts, missing and non-finite counts, min/max, moments and category counts (below the cap) are exact.
    Histograms on equal edges add exactly; on different edges they are merged as described in
    :mod:`mlwarden.profile.rebin` (error at most one part-bin's mass). Empty parts only add missing values.
    Raises :class:`InputError` for different column names or kinds.
    """
    first = parts[0]
    names = {p.name for p in parts}
    if len(names) > 1:
        a, b = sorted(names)[:2]
        raise InputError(f"cannot merge profiles of different columns '{a}' and '{b}'")
    kinds = list(dict.fromkeys(p.kind for p in parts if not p.is_empty))
    if len(kinds) > 1:
        raise InputError(
            f"column '{first.name}' is {kinds[0]} in one profile and {kinds[1]} in the other; "
            "profiles of the same column must have the same kind to merge"
        )
    missing = sum(p.missing for p in parts)
    if not kinds:
        return ColumnProfile.absent(first.name, missing)
    typed = [p for p in parts if not p.is_empty]
    merged = replace(typed[0], count=sum(p.count for p in typed), missing=missing)
    if merged.is_numeric:
        merged.nonfinite = sum(p.nonfinite for p in typed)
        merged.min = float(np.fmin.reduce([p.min for p in typed]))
        merged.max = float(np.fmax.reduce([p.max for p in typed]))
        merged.moments = functools.reduce(numeric.Moments.merge, [p.moments for p in typed])
        max_edges = max([MIN_MERGED_EDGES, *(p.edges.size for p in typed if p.edges is not None)])
        merged.edges, merged.hist, merged.bin_sums = merge_binnings(typed, max_edges)
        merged.sketch = numeric.merge_sketches([p.sketch for p in typed])
    else:
        counts = categorical.merge_counts([p.categories for p in typed])
        merged.cap = min(p.cap for p in typed)
        kept, folded = categorical.cap_categories(counts, merged.cap)
        merged.categories = kept
        merged.other = sum(p.other for p in typed) + folded
        merged.capped = any(p.capped for p in typed) or folded > 0
    return merged


MIN_MERGED_EDGES = numeric.DEFAULT_BINS + 1  # a merged histogram may keep this many edges, or more if a
# part has more: enough for parts of a discrete column that each hold different values


def summarise_numeric(
    name: str, kind: Kind, values: np.ndarray, *, edges: np.ndarray | None, bins: int, sketch: bool
) -> ColumnProfile:
    """Profile a float64 array (NaN = missing) in one vectorised pass per statistic; a column without any
    value (all NaN, or no rows) is ``"empty"``."""
    nan = np.isnan(values)
    missing = int(np.count_nonzero(nan))
    if missing == values.size:
        return ColumnProfile.absent(name, missing)
    present = values[~nan] if missing else values
    inf = np.isinf(present)
    nonfinite = int(np.count_nonzero(inf))
    finite = present[~inf] if nonfinite else present
    col = ColumnProfile(name=name, kind=kind, count=int(present.size), missing=missing, nonfinite=nonfinite)
    if finite.size:
        col.min, col.max = float(finite.min()), float(finite.max())
    col.moments = numeric.Moments.of(finite, col.min, col.max)
    if edges is None and finite.size:
        edges = numeric.quantile_edges(finite, bins, col.min, col.max)
    if edges is not None:
        col.edges = edges
        col.hist, col.bin_sums = numeric.histogram(finite, edges)
    if sketch:
        col.sketch = numeric.new_sketch(finite)
    return col


SMALL_BLOCK_ROWS = 3_000  # up to this, float columns binned on given edges are profiled as one 2-D block
# (sorted per column: faster than column by column below ~3,000 rows, slower above; bench/wide_bench.py)


def summarise_float_block(
    names: list[str], block: np.ndarray, edges: list[np.ndarray]
) -> list[ColumnProfile]:
    """Profile all-finite float64 columns at once: ``block[j]`` holds column ``names[j]`` (one row per
    column), binned on ``edges[j]``. Equal to :func:`summarise_numeric` column by column, without its
    per-column overhead — the shape of a served batch (a few thousand rows, tens of features)."""
    n = block.shape[1]
    ordered = np.sort(block, axis=1)
    out = []
    lo, hi = ordered[:, 0], ordered[:, -1]
    for j, (name, moments) in enumerate(zip(names, numeric.Moments.of_rows(block, lo, hi), strict=True)):
        col = ColumnProfile(name=name, kind="numeric", count=n, missing=0, nonfinite=0, moments=moments)
        col.min, col.max = float(lo[j]), float(hi[j])
        col.edges = edges[j]
        col.hist, col.bin_sums = numeric.histogram_of_sorted(ordered[j], edges[j])
        out.append(col)
    return out


def summarise_categorical(name: str, kind: Kind, values: pd.Series, *, cap: int) -> ColumnProfile:
    """Profile a column of labels: counts per category (capped), missing values; ``"empty"`` without any."""
    counts = categorical.count_categories(values)
    present = int(counts.sum())
    if present == 0:
        return ColumnProfile.absent(name, int(values.size))
    kept, folded = categorical.cap_categories(
        dict(zip(counts.index, counts.to_numpy().tolist(), strict=True)), cap
    )
    return ColumnProfile(
        name=name,
        kind=kind,
        count=present,
        missing=int(values.size) - present,
        categories=kept,
        other=folded,
        capped=folded > 0,
        cap=cap,
    )
