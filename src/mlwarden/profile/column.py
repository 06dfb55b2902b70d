"""One column's mergeable summary."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pandas as pd
from datasketches import kll_doubles_sketch

from mlwarden.errors import InputError
from mlwarden.profile import categorical, numeric

Kind = Literal["numeric", "categorical", "boolean", "datetime"]
NUMERIC_KINDS = ("numeric", "datetime")


@dataclass(slots=True)
class ColumnProfile:
    """Mergeable summary of one column; see ``mlwarden.profile`` for the meaning of each field."""

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
        return self.moments.m2 / self.moments.n if self.moments.n else float("nan")

    @property
    def std(self) -> float:
        return float(np.sqrt(self.variance))

    @property
    def distinct(self) -> int:
        """Distinct categories seen (a lower bound when ``capped``)."""
        return len(self.categories)

    def quantiles(self, qs: float | list[float] | np.ndarray) -> np.ndarray:
        """Quantiles of the finite values: from the KLL sketch when present, else from the histogram."""
        if not self.is_numeric:
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
        """The profile of both columns' values together (associative and commutative)."""
        if other.name != self.name:
            raise InputError(f"cannot merge profiles of different columns '{self.name}' and '{other.name}'")
        if other.kind != self.kind:
            raise InputError(
                f"column '{self.name}' is {self.kind} in one profile and {other.kind} in the other; "
                "profiles of the same column must have the same kind to merge"
            )
        merged = replace(self, count=self.count + other.count, missing=self.missing + other.missing)
        if self.is_numeric:
            merged.nonfinite = self.nonfinite + other.nonfinite
            merged.min = float(np.fmin(self.min, other.min))
            merged.max = float(np.fmax(self.max, other.max))
            merged.moments = self.moments.merge(other.moments)
            same_edges = (
                self.edges is not None and other.edges is not None and np.array_equal(self.edges, other.edges)
            )
            if same_edges:
                merged.hist = _add(self.hist, other.hist)
                merged.bin_sums = _add(self.bin_sums, other.bin_sums)
            else:
                merged.edges, merged.hist, merged.bin_sums = _binning_of_one_side_only(self, other)
            merged.sketch = numeric.merge_sketches(self.sketch, other.sketch)
        else:
            counts = categorical.merge_counts(self.categories, other.categories)
            merged.cap = min(self.cap, other.cap)
            kept, folded = categorical.cap_categories(counts, merged.cap)
            merged.categories = kept
            merged.other = self.other + other.other + folded
            merged.capped = self.capped or other.capped or folded > 0
        return merged

    def with_missing(self, rows: int) -> ColumnProfile:
        """This column's profile with ``rows`` more missing values (the column was absent from a batch)."""
        return replace(self, missing=self.missing + rows)

    @classmethod
    def empty_like(cls, other: ColumnProfile, rows: int) -> ColumnProfile:
        """A profile of ``rows`` missing values, of ``other``'s kind and binning."""
        hist = None if other.hist is None else np.zeros_like(other.hist)
        sums = None if other.bin_sums is None else np.zeros_like(other.bin_sums)
        sketch = None if other.sketch is None else numeric.new_sketch(np.empty(0))
        return cls(
            name=other.name,
            kind=other.kind,
            missing=rows,
            edges=other.edges,
            hist=hist,
            bin_sums=sums,
            sketch=sketch,
            cap=other.cap,
        )


def _add(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    return None if a is None or b is None else a + b


def _binning_of_one_side_only(a: ColumnProfile, b: ColumnProfile) -> tuple[Any, Any, Any]:
    """Different binnings cannot add exactly: keep a side's histogram only if the other side has no values."""
    for mine, theirs in ((a, b), (b, a)):
        if theirs.moments.n == 0 and theirs.nonfinite == 0 and mine.hist is not None:
            sums = None if mine.bin_sums is None else mine.bin_sums.copy()
            return mine.edges, mine.hist.copy(), sums
    return None, None, None


def summarise_numeric(
    name: str, kind: Kind, values: np.ndarray, *, edges: np.ndarray | None, bins: int, sketch: bool
) -> ColumnProfile:
    """Profile a float64 array (NaN = missing) in one vectorised pass per statistic."""
    nan = np.isnan(values)
    missing = int(np.count_nonzero(nan))
    present = values[~nan] if missing else values
    inf = np.isinf(present)
    nonfinite = int(np.count_nonzero(inf))
    finite = present[~inf] if nonfinite else present
    col = ColumnProfile(name=name, kind=kind, count=int(present.size), missing=missing, nonfinite=nonfinite)
    col.moments = numeric.Moments.of(finite)
    if finite.size:
        col.min, col.max = float(finite.min()), float(finite.max())
    if edges is None and finite.size:
        edges = numeric.quantile_edges(finite, bins, col.min, col.max)
    if edges is not None:
        col.edges = edges
        col.hist, col.bin_sums = numeric.histogram(finite, edges)
    if sketch:
        col.sketch = numeric.new_sketch(finite)
    return col


SMALL_BLOCK_ROWS = 8_192  # below this, float columns binned on given edges are profiled as one 2-D block


def summarise_float_block(
    names: list[str], block: np.ndarray, edges: list[np.ndarray]
) -> list[ColumnProfile]:
    """Profile all-finite float64 columns at once: ``block[j]`` holds column ``names[j]`` (one row per
    column), binned on ``edges[j]``. Equal to :func:`summarise_numeric` column by column, without its
    per-column overhead — the shape of a served batch (a few thousand rows, tens of features)."""
    n = block.shape[1]
    ordered = np.sort(block, axis=1)
    out = []
    for j, (name, moments) in enumerate(zip(names, numeric.Moments.of_rows(block), strict=True)):
        col = ColumnProfile(name=name, kind="numeric", count=n, missing=0, nonfinite=0, moments=moments)
        col.min, col.max = float(ordered[j, 0]), float(ordered[j, -1])
        col.edges = edges[j]
        col.hist, col.bin_sums = numeric.histogram_of_sorted(ordered[j], edges[j])
        out.append(col)
    return out


def summarise_categorical(name: str, kind: Kind, values: pd.Series, *, cap: int) -> ColumnProfile:
    """Profile a column of labels: counts per category (capped), missing values."""
    counts = categorical.count_categories(values)
    present = int(counts.sum())
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
