"""Profiles of a table split into ordered partitions, each seen where it lives as a stream of pandas batches.

Three passes give the profile a single process computes from the whole table (:func:`plan` then
:func:`profile_partition`, merged with :func:`merge_parts` in any grouping):

1. :func:`scan_partition`: rows, and per numeric column without reference edges its finite count and
   min/max — so the driver knows the stride of the subsample quantile edges come from
   (:func:`mlwarden.profile.numeric.edge_step`) and where each partition's values sit in the whole column;
2. :func:`strided_partition`: each partition's share of that subsample; the driver computes the edges
   (:func:`edges_of`);
3. :func:`profile_partition`: each partition profiled on those edges (or the reference's), the row sample's
   keys drawn from the one random stream advanced to the partition's first row; :func:`merge_parts` adds
   the partial profiles and keeps each sampled row's position, so the final sample is in data order.

Columns must have one kind throughout the table (Dask and Spark give every partition the same schema).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlwarden.profile.column import NUMERIC_KINDS
from mlwarden.profile.dataset import (
    DatasetProfile,
    _kind_and_values,
    _smallest,
    merge,
    profile_rows,
)
from mlwarden.profile.numeric import DEFAULT_BINS, edge_step, edges_of_sample
from mlwarden.profile.stream import CHUNK_CATEGORY_CAP, _capped, _has_edges, _with_edges, in_data_order
from mlwarden.schema.mapping import ColumnMapping


@dataclass(slots=True)
class Options:
    """What every partition needs to know: the :func:`mlwarden.profile.profile` arguments."""

    mapping: ColumnMapping | None = None
    reference: DatasetProfile | None = None
    bins: int = DEFAULT_BINS
    sample_rows: int = 2_000
    category_cap: int = 1_000
    seed: int = 0


@dataclass(slots=True)
class Scan:
    """Pass 1 of one partition: its rows and, per numeric column needing edges, finite count and range."""

    rows: int = 0
    finite: dict[str, int] = field(default_factory=dict)
    lo: dict[str, float] = field(default_factory=dict)
    hi: dict[str, float] = field(default_factory=dict)


@dataclass(slots=True)
class Plan:
    """The driver's view after pass 1: each partition's first row, and per column the edge stride and each
    partition's first finite position."""

    offsets: list[int]
    rows: int
    steps: dict[str, int]
    starts: list[dict[str, int]]
    lo: dict[str, float]
    hi: dict[str, float]


def needs_edges(names: list[str], options: Options) -> list[str]:
    """Columns that may be numeric and have no reference edges (the others are never sampled)."""
    ignored = set(options.mapping.ignore) if options.mapping is not None else set()
    return [n for n in names if n not in ignored and not _has_edges(options.reference, n)]


def _numeric_values(
    frame: pd.DataFrame, names: list[str], options: Options
) -> Iterable[tuple[str, np.ndarray]]:
    for name in names:
        if name not in frame.columns:
            continue
        override = options.mapping.kind_override(name) if options.mapping is not None else None
        kind, values = _kind_and_values(frame[name], name, override)
        if kind in NUMERIC_KINDS:
            yield name, values[np.isfinite(values)]


def scan_partition(batches: Iterable[pd.DataFrame], names: list[str], options: Options) -> Scan:
    """Pass 1 over one partition's batches (``names``: the columns needing edges)."""
    scan = Scan()
    for frame in batches:
        scan.rows += len(frame)
        for name, finite in _numeric_values(_named(frame), names, options):
            scan.finite[name] = scan.finite.get(name, 0) + finite.size
            if finite.size:
                scan.lo[name] = min(scan.lo.get(name, np.inf), float(finite.min()))
                scan.hi[name] = max(scan.hi.get(name, -np.inf), float(finite.max()))
    return scan


def plan(scans: list[Scan]) -> Plan:
    """Offsets and edge strides from every partition's :class:`Scan`, in partition order."""
    offsets = np.concatenate(([0], np.cumsum([s.rows for s in scans]))).tolist()
    names = dict.fromkeys(n for s in scans for n in s.finite)
    totals = {n: sum(s.finite.get(n, 0) for s in scans) for n in names}
    starts, running = [], dict.fromkeys(names, 0)
    for s in scans:
        starts.append(dict(running))
        for n in names:
            running[n] += s.finite.get(n, 0)
    lo = {n: min(s.lo[n] for s in scans if n in s.lo) for n in names if totals[n]}
    hi = {n: max(s.hi[n] for s in scans if n in s.hi) for n in names if totals[n]}
    return Plan(offsets[:-1], offsets[-1], {n: edge_step(t) for n, t in totals.items() if t}, starts, lo, hi)


def strided_partition(
    batches: Iterable[pd.DataFrame], steps: dict[str, int], starts: dict[str, int], options: Options
) -> dict[str, np.ndarray]:
    """Pass 2: the partition's values at the whole column's finite positions that are multiples of the
    column's stride (``starts``: the partition's first finite position per column)."""
    seen = dict(starts)
    kept: dict[str, list[np.ndarray]] = {n: [] for n in steps}
    for frame in batches:
        for name, finite in _numeric_values(_named(frame), list(steps), options):
            step = steps[name]
            kept[name].append(finite[-seen[name] % step :: step])
            seen[name] += finite.size
    return {n: np.concatenate(parts) if parts else np.empty(0) for n, parts in kept.items()}


def edges_of(samples: list[dict[str, np.ndarray]], the_plan: Plan, bins: int) -> dict[str, np.ndarray]:
    """Each column's quantile edges from the partitions' strided values (in partition order)."""
    return {
        name: edges_of_sample(
            np.concatenate([s[name] for s in samples if name in s]),
            bins,
            the_plan.lo[name],
            the_plan.hi[name],
        )
        for name in the_plan.steps
    }


def profile_partition(
    batches: Iterable[pd.DataFrame], offset: int, edges: dict[str, np.ndarray], options: Options
) -> tuple[DatasetProfile, np.ndarray]:
    """Pass 3: the partition's profile on ``edges`` (added to the reference's) and its sampled rows'
    positions in the whole table (aligned with the profile's ``sample_keys``)."""
    reference = _with_edges(options.reference, edges)
    rng = np.random.Generator(np.random.PCG64(options.seed))
    rng.bit_generator.advance(offset)  # the keys the whole table's stream holds for these rows
    parts: list[tuple[DatasetProfile, np.ndarray]] = []
    rows = offset
    for frame in batches:
        keys = rng.random(len(frame)) if options.sample_rows else np.empty(0)
        part = profile_rows(
            _named(frame),
            keys,
            mapping=options.mapping,
            reference=reference,
            bins=options.bins,
            sample_rows=options.sample_rows,
            category_cap=max(options.category_cap, CHUNK_CATEGORY_CAP),
        )
        parts.append((part, rows + np.sort(_smallest(keys, options.sample_rows))))
        rows += len(frame)
        if len(parts) >= 16:
            parts = [merge_parts(parts)]
    if not parts:
        return profile_rows(pd.DataFrame(), np.empty(0), sample_rows=options.sample_rows), np.empty(0, int)
    return merge_parts(parts)


def merge_parts(parts: list[tuple[DatasetProfile, np.ndarray]]) -> tuple[DatasetProfile, np.ndarray]:
    """Merge partial profiles, keeping the positions of the sampled rows (any grouping, any order)."""
    merged = merge([p for p, _ in parts])
    position = {
        k: pos
        for p, positions in parts
        for k, pos in zip(p.sample_keys.tolist(), positions.tolist(), strict=True)
    }
    return merged, np.array([position[k] for k in merged.sample_keys.tolist()], dtype=np.int64)


def finish(
    merged: DatasetProfile, positions: np.ndarray, options: Options, source: str | None
) -> DatasetProfile:
    """The final profile: categories capped, the sample in data order."""
    for name, col in merged.columns.items():
        merged.columns[name] = _capped(col, options.category_cap)
    merged.source = source
    return in_data_order(merged, positions)


def _named(frame: pd.DataFrame) -> pd.DataFrame:
    if all(isinstance(c, str) for c in frame.columns):
        return frame
    return frame.set_axis([str(c) for c in frame.columns], axis=1)
