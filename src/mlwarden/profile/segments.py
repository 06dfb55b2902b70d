"""Per-segment partial profiles: one :class:`DatasetProfile` per value of a segment column (or of a crossing
of columns), the most frequent values up to a cap and the rest pooled as ``(other)``.

Rows are grouped once per split (``pd.factorize`` of the segment column, crossings combined code by code),
then every column is summarised for all groups at once with ``np.bincount`` over ``group * bins + bin`` —
no Python loop over rows, and none over groups for numeric columns. Numeric columns of every segment are
binned on the edges of the whole table's profile (the reference's edges when current data is profiled
against a reference), so that a segment's reference and current histograms compare bin by bin and
segments merge exactly. Segment profiles keep no row sample (multivariate drift runs on the whole table).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mlwarden.errors import InputError
from mlwarden.profile import categorical
from mlwarden.profile.column import NUMERIC_KINDS, ColumnProfile, Kind
from mlwarden.profile.numeric import Moments, scale_exponent

if TYPE_CHECKING:
    from mlwarden.profile.dataset import DatasetProfile

DEFAULT_SEGMENT_CAP = 50  # segment values kept per split; the rest are pooled as OTHER
OTHER = "(other)"  # the pooled values beyond the cap
MISSING = "(missing)"  # rows without a value in the segment column

SegmentSpec = str | Sequence[str]


def split_name(spec: SegmentSpec) -> str:
    """The name of a split: the column, or the crossed columns joined by commas (``"country,plan"``)."""
    return spec if isinstance(spec, str) else ",".join(spec)


def split_columns(spec: SegmentSpec) -> tuple[str, ...]:
    """The columns of a split, validated: at least one, none twice."""
    columns = (spec,) if isinstance(spec, str) else tuple(str(c) for c in spec)
    if not columns or len(set(columns)) != len(columns):
        raise InputError(f"segments: expected a column or distinct columns to cross, got {spec!r}")
    return columns


@dataclass(slots=True)
class SegmentSplit:
    """The rows of a table split by the values of ``columns``: ``parts`` maps each value's label (crossed
    values joined by commas, ``(missing)`` for rows without a value, ``(other)`` for values beyond ``cap``)
    to the partial profile of its rows. Segment names read ``"country=FR"`` or ``"country,plan=FR,pro"``."""

    columns: tuple[str, ...]
    cap: int
    parts: dict[str, DatasetProfile]

    @property
    def name(self) -> str:
        return ",".join(self.columns)

    def segment(self, label: str) -> str:
        """The segment's name: ``"country=FR"``."""
        return f"{self.name}={label}"

    def rows(self) -> dict[str, int]:
        return {label: part.rows for label, part in self.parts.items()}


def row_labels(data: pd.DataFrame, columns: tuple[str, ...]) -> tuple[np.ndarray, list[str]]:
    """``(codes, labels)``: each row's value of ``columns`` as an index into ``labels`` (uncapped).

    Labels are the values' string forms (whole-number floats as integers, so code ``1.0`` is ``"1"``);
    crossed values are joined by commas; a row missing any of the columns' values is ``(missing)``.
    """
    missing_in = [c for c in columns if c not in data.columns]
    if missing_in:
        raise InputError(f"segments: no column '{missing_in[0]}' in the data")
    codes = np.zeros(len(data), dtype=np.int64)
    missing = np.zeros(len(data), dtype=bool)
    texts: list[np.ndarray] = []
    for column in columns:
        col_codes, names = _label_codes(data[column])
        missing |= col_codes < 0
        codes = codes * max(len(names), 1) + np.maximum(col_codes, 0)
        texts.append(names)
    combined, uniques = pd.factorize(codes)
    labels = []
    for code in uniques.tolist():  # one entry per distinct combination, not per row
        parts = []
        for names in reversed(texts):
            size = max(len(names), 1)
            parts.append(str(names[code % size]) if len(names) else "")
            code //= size
        labels.append(",".join(reversed(parts)))
    if missing.any():
        combined = combined.copy()
        combined[missing] = len(labels)
        labels.append(MISSING)
        combined, kept = _compact(combined, len(labels))
        labels = [labels[i] for i in kept]
    return combined.astype(np.int64), labels


def _label_codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """One column's values as codes into their distinct string forms (-1: missing)."""
    codes, uniques = pd.factorize(categorical.as_labels(series), use_na_sentinel=True)
    names = pd.Index(uniques).astype(str)
    relabel, distinct = pd.factorize(names)  # 1 and "1" are one label
    out = np.where(codes >= 0, relabel[np.maximum(codes, 0)] if len(relabel) else 0, -1)
    return out.astype(np.int64), np.asarray(distinct, dtype=object)


def _compact(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes renumbered over the values in use, and the old code of each new one."""
    used = np.flatnonzero(np.bincount(codes, minlength=size))
    remap = np.full(size, -1, dtype=np.int64)
    remap[used] = np.arange(used.size)
    return remap[codes], used


def capped(codes: np.ndarray, labels: list[str], cap: int) -> tuple[np.ndarray, list[str]]:
    """Keep the ``cap`` most frequent labels (ties by label; ``(missing)`` always kept), pool the rest as
    ``(other)``; labels come back most frequent first."""
    counts = np.bincount(codes, minlength=len(labels))
    ranked = [i for i in sorted(range(len(labels)), key=lambda i: (-counts[i], labels[i])) if counts[i]]
    keep = [i for i in ranked if labels[i] != MISSING][:cap] + [i for i in ranked if labels[i] == MISSING]
    remap = np.full(len(labels), len(keep), dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    pooled = [OTHER] if len(keep) < len(ranked) else []
    return remap[codes], [labels[i] for i in keep] + pooled


def profile_splits(
    data: pd.DataFrame,
    aggregate: DatasetProfile,
    specs: Iterable[SegmentSpec],
    *,
    values: dict[str, tuple[Kind, np.ndarray | pd.Series]],
    cap: int = DEFAULT_SEGMENT_CAP,
) -> dict[str, SegmentSplit]:
    """Split ``data`` by each spec and profile every group; ``aggregate`` is the whole table's profile
    (it gives each column's kind and numeric bin edges), ``values`` each profiled column's kind and values
    as :func:`mlwarden.profile.dataset.profile` computed them. Raises :class:`InputError` for a segment
    column not in the data or a cap below 1."""
    from mlwarden.profile.dataset import DatasetProfile

    if cap < 1:
        raise InputError(f"segment_cap must be at least 1, got {cap}")
    if not all(isinstance(c, str) for c in data.columns):
        data = data.set_axis([str(c) for c in data.columns], axis=1)
    out: dict[str, SegmentSplit] = {}
    for spec in specs:
        columns = split_columns(spec)
        codes, labels = capped(*row_labels(data, columns), cap)
        groups = len(labels)
        rows = np.bincount(codes, minlength=groups)
        per_group: list[dict[str, ColumnProfile]] = [{} for _ in range(groups)]
        order = np.argsort(codes, kind="stable")
        starts = np.concatenate(([0], np.cumsum(rows)[:-1]))
        for name, (kind, vals) in values.items():
            edges = aggregate.columns[name].edges
            if kind in NUMERIC_KINDS:
                cols = _numeric_groups(name, kind, vals, codes, groups, edges, order, starts)
            else:
                cols = _label_groups(name, kind, vals, codes, groups, aggregate.columns[name].cap)
            for group, col in enumerate(cols):
                per_group[group][name] = col
        parts = {
            label: DatasetProfile(
                rows=int(rows[g]),
                columns=per_group[g],
                sample=pd.DataFrame(),
                sample_keys=np.empty(0),
                sample_rows=0,
            )
            for g, label in enumerate(labels)
        }
        split = SegmentSplit(columns=columns, cap=cap, parts=parts)
        out[split.name] = split
    return out


def _numeric_groups(
    name: str,
    kind: Kind,
    values: np.ndarray,
    codes: np.ndarray,
    groups: int,
    edges: np.ndarray | None,
    order: np.ndarray,
    starts: np.ndarray,
) -> list[ColumnProfile]:
    """:func:`mlwarden.profile.column.summarise_numeric` of every group at once, binned on ``edges``."""
    nan = np.isnan(values)
    missing = np.bincount(codes, weights=nan, minlength=groups).astype(np.int64)
    present = ~nan
    finite_mask = np.isfinite(values)
    count = np.bincount(codes, weights=present, minlength=groups).astype(np.int64)
    nonfinite = count - np.bincount(codes, weights=finite_mask, minlength=groups).astype(np.int64)
    fcodes, finite = codes[finite_mask], values[finite_mask]
    n = np.bincount(fcodes, minlength=groups)
    total = np.bincount(fcodes, weights=finite, minlength=groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / n
    deviation = finite - mean[fcodes]
    m2 = np.bincount(fcodes, weights=deviation * deviation, minlength=groups)
    ordered = np.where(finite_mask, values, np.nan)[order]
    lo = np.fmin.reduceat(ordered, starts) if ordered.size else np.full(groups, np.nan)
    hi = np.fmax.reduceat(ordered, starts) if ordered.size else np.full(groups, np.nan)
    hist = sums = None
    if edges is not None:
        k = edges.size
        bins = np.searchsorted(edges, finite, side="right")
        if k > 1:
            bins[finite == edges[-1]] = k - 1  # the last inner bin is closed
        index = fcodes * (k + 1) + bins
        hist = np.bincount(index, minlength=groups * (k + 1)).reshape(groups, k + 1).astype(np.int64)
        sums = np.bincount(index, weights=finite, minlength=groups * (k + 1)).reshape(groups, k + 1)
    out = []
    for g in range(groups):  # one object per group: per group, not per row
        if count[g] == 0:
            out.append(ColumnProfile.absent(name, int(missing[g])))
            continue
        col = ColumnProfile(
            name=name, kind=kind, count=int(count[g]), missing=int(missing[g]), nonfinite=int(nonfinite[g])
        )
        if n[g]:
            col.min, col.max = float(lo[g]), float(hi[g])
            if scale_exponent(col.min, col.max):  # magnitudes near 1e±300: the scaled computation
                col.moments = Moments.of(finite[fcodes == g], col.min, col.max)
            else:
                col.moments = Moments(int(n[g]), float(mean[g]), float(m2[g]) if n[g] > 1 else 0.0)
        if edges is not None:
            col.edges, col.hist, col.bin_sums = edges, hist[g], sums[g]
        out.append(col)
    return out


def _label_groups(
    name: str, kind: Kind, values: pd.Series, codes: np.ndarray, groups: int, cap: int
) -> list[ColumnProfile]:
    """:func:`mlwarden.profile.column.summarise_categorical` of every group at once."""
    value_codes, labels = _label_codes(values)
    present = value_codes >= 0
    missing = np.bincount(codes[~present], minlength=groups)
    size = max(len(labels), 1)
    pairs, counts = np.unique(codes[present] * size + value_codes[present], return_counts=True)
    per_group: list[dict[str, int]] = [{} for _ in range(groups)]
    for pair, c in zip(pairs.tolist(), counts.tolist(), strict=True):  # one entry per (group, value)
        per_group[pair // size][str(labels[pair % size])] = c
    out = []
    for g in range(groups):
        found = per_group[g]
        if not found:
            out.append(ColumnProfile.absent(name, int(missing[g])))
            continue
        kept, folded = categorical.cap_categories(found, cap)
        out.append(
            ColumnProfile(
                name=name,
                kind=kind,
                count=sum(found.values()),
                missing=int(missing[g]),
                categories=kept,
                other=folded,
                capped=folded > 0,
                cap=cap,
            )
        )
    return out


def merge_splits(profiles: Sequence[DatasetProfile]) -> dict[str, SegmentSplit]:
    """The splits of merged profiles: each label's parts merged, then the cap (the smallest of the parts')
    applied to the union — its most frequent labels kept, the rest merged into ``(other)``. Exact (hence
    associative) while a split has at most ``cap`` values; beyond it, rows once pooled into ``(other)``
    stay there. A split absent from a profile is absent from the merge (its rows are unsplit)."""
    from mlwarden.profile.dataset import merge

    names = [n for n in dict.fromkeys(n for p in profiles for n in p.segments)]
    out: dict[str, SegmentSplit] = {}
    for name in names:
        splits = [p.segments[name] for p in profiles if name in p.segments]
        if len(splits) < len(profiles):
            continue
        cap = min(s.cap for s in splits)
        by_label: dict[str, list[DatasetProfile]] = {}
        for split in splits:
            for label, part in split.parts.items():
                by_label.setdefault(label, []).append(part)
        rows = {label: sum(p.rows for p in parts) for label, parts in by_label.items()}
        ranked = sorted((lb for lb in rows if lb not in (OTHER, MISSING)), key=lambda lb: (-rows[lb], lb))
        parts: dict[str, DatasetProfile] = {}
        for label in ranked[:cap] + [lb for lb in (MISSING,) if lb in rows]:
            parts[label] = merge(by_label[label])
        pooled = [p for lb in ranked[cap:] for p in by_label[lb]] + by_label.get(OTHER, [])
        if pooled:
            parts[OTHER] = merge(pooled)
        out[name] = SegmentSplit(columns=splits[0].columns, cap=cap, parts=parts)
    return out
