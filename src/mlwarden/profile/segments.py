"""Per-segment partial profiles: one :class:`DatasetProfile` per value of a segment column (or of a crossing
of columns), the most frequent values up to a cap and the rest pooled as ``(other)``.

Rows are grouped once per split (``pd.factorize`` of the segment column, crossings combined code by code),
then every column is summarised for all groups at once with ``np.bincount`` over ``group * bins + bin`` —
no Python loop over rows. Numeric columns of every segment are binned on :data:`SEGMENT_BINS` of the whole
table's edges (the reference's edges when current data is profiled against a reference), so that a
segment's reference and current histograms compare bin by bin and segments merge exactly; categorical
columns count the whole table's most frequent categories, the rest as ``other``. Segment profiles keep no
row sample (multivariate drift runs on the whole table).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from mlwarden.errors import InputError
from mlwarden.profile import categorical
from mlwarden.profile.column import NUMERIC_KINDS, ColumnProfile, Kind
from mlwarden.profile.numeric import SAFE_EXPONENT, Moments

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


class SegmentSplit:
    """The rows of a table split by the values of ``columns``: ``parts`` maps each value's label (crossed
    values joined by commas, ``(missing)`` for rows without a value, ``(other)`` for values beyond ``cap``)
    to the partial profile of its rows. Segment names read ``"country=FR"`` or ``"country,plan=FR,pro"``.

    A split made by :func:`profile_splits` or read from bytes is held in its columnar encoding (arrays
    across segments, see :func:`dump_split`) and turned into per-segment profiles only when ``parts`` is
    first read — ingestion profiles and stores a batch's segments without building them.
    """

    __slots__ = ("_encoded", "_parts", "cap", "columns")

    def __init__(
        self,
        columns: tuple[str, ...],
        cap: int,
        parts: dict[str, DatasetProfile] | None = None,
        encoded: tuple[dict[str, Any], list[np.ndarray]] | None = None,
    ) -> None:
        self.columns, self.cap = columns, cap
        self._parts, self._encoded = parts, encoded

    @property
    def name(self) -> str:
        return ",".join(self.columns)

    @property
    def parts(self) -> dict[str, DatasetProfile]:
        if self._parts is None:
            assert self._encoded is not None
            self._parts = _decoded_parts(*self._encoded)
        return self._parts

    def segment(self, label: str) -> str:
        """The segment's name: ``"country=FR"``."""
        return f"{self.name}={label}"

    def rows(self) -> dict[str, int]:
        if self._parts is None and self._encoded is not None:
            head = self._encoded[0]
            return {label: int(n) for label, n in zip(head["labels"], head["rows"], strict=True)}
        return {label: part.rows for label, part in self.parts.items()}

    def encoded(self) -> tuple[dict[str, Any], list[np.ndarray]]:
        """``(header, arrays)``: the columnar form (see :func:`dump_split`)."""
        if self._encoded is None:
            self._encoded = _encoded_parts(self.columns, self.cap, self.parts)
        return self._encoded


def row_labels(
    data: pd.DataFrame,
    columns: tuple[str, ...],
    *,
    known: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> tuple[np.ndarray, list[str]]:
    """``(codes, labels)``: each row's value of ``columns`` as an index into ``labels`` (uncapped).

    Labels are the values' string forms (whole-number floats as integers, so code ``1.0`` is ``"1"``);
    crossed values are joined by commas; a row missing any of the columns' values is ``(missing)``.
    ``known``: columns whose :func:`_label_codes` were computed already (not computed again).
    """
    missing_in = [c for c in columns if c not in data.columns]
    if missing_in:
        raise InputError(f"segments: no column '{missing_in[0]}' in the data")
    codes = np.zeros(len(data), dtype=np.int64)
    missing = np.zeros(len(data), dtype=bool)
    texts: list[np.ndarray] = []
    for column in columns:
        col_codes, names = (known or {}).get(column) or _label_codes(data[column])
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


def capped(
    codes: np.ndarray, labels: list[str], cap: int, reference: Collection[str] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Keep the ``cap`` most frequent labels (ties by label; ``(missing)`` always kept), pool the rest as
    ``(other)``; labels come back most frequent first.

    ``reference``: the labels of the reference's split, kept first, so that current data is split as its
    reference was — when the reference pooled values into ``(other)``, only its kept labels are kept and
    every other value is pooled too (it may be one the reference pooled: not a segment it lacks)."""
    counts = np.bincount(codes, minlength=len(labels))
    known = set(reference or ())
    first = sorted(range(len(labels)), key=lambda i: (labels[i] not in known, -counts[i], labels[i]))
    ranked = [i for i in first if counts[i]]
    eligible = [i for i in ranked if labels[i] != MISSING and (OTHER not in known or labels[i] in known)]
    keep = eligible[:cap] + [i for i in ranked if labels[i] == MISSING]
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
    reference: dict[str, SegmentSplit] | None = None,
) -> dict[str, SegmentSplit]:
    """Split ``data`` by each spec and profile every group; ``aggregate`` is the whole table's profile
    (it gives each column's kind, its numeric bin edges — coarsened to :data:`SEGMENT_BINS` bins, see
    :func:`segment_edges` — and its most frequent categories), ``values`` each profiled column's kind and
    values as :func:`mlwarden.profile.dataset.profile` computed them; ``reference`` the reference
    profile's splits, whose values are kept first (see :func:`capped`). Each column is prepared once (bins,
    category codes) and then counted per group for every split. Raises :class:`InputError` for a segment
    column not in the data or a cap below 1."""
    if cap < 1:
        raise InputError(f"segment_cap must be at least 1, got {cap}")
    if not all(isinstance(c, str) for c in data.columns):
        data = data.set_axis([str(c) for c in data.columns], axis=1)
    numeric = [(n, k, v, aggregate.columns[n]) for n, (k, v) in values.items() if k in NUMERIC_KINDS]
    per_block = max(1, BLOCK_VALUES // max(len(data), 1))  # small batches: all columns in one block
    blocks = [_Numbers.of(numeric[i : i + per_block]) for i in range(0, len(numeric), per_block)]
    labelled = {
        name: _labels(kind, vals, aggregate.columns[name])
        for name, (kind, vals) in values.items()
        if kind not in NUMERIC_KINDS
    }
    known = {name: (labels.value_codes, labels.labels) for name, labels in labelled.items()}
    out: dict[str, SegmentSplit] = {}
    for spec in specs:
        columns = split_columns(spec)
        known_split = (reference or {}).get(",".join(columns))
        kept = list(known_split.rows()) if known_split is not None else None
        codes, labels = capped(*row_labels(data, columns, known=known), cap, kept)
        groups = len(labels)
        arrays: list[np.ndarray] = []
        # a stable sort of small integers is a radix sort: ~8x faster than on int64 codes
        order = np.argsort(codes.astype(np.min_scalar_type(groups)), kind="stable")
        rows = np.bincount(codes, minlength=groups)
        starts = np.cumsum(rows) - rows
        heads = [head for block in blocks for head in block.encode(codes, rows, order, starts, arrays)]
        heads += [column.encode(name, codes, groups, arrays) for name, column in labelled.items()]
        heads.sort(key=lambda head: list(values).index(head["name"]))  # the table's column order
        header = _split_header(columns, cap, labels, np.bincount(codes, minlength=groups), heads)
        split = SegmentSplit(columns=columns, cap=cap, encoded=(header, arrays))
        out[split.name] = split
    return out


SEGMENT_BINS = 20  # histogram bins per numeric column inside a segment (segments hold fewer rows)
BLOCK_VALUES = 1 << 18  # numeric columns are counted in blocks of about this many values (cache-sized)


def segment_edges(edges: np.ndarray | None) -> np.ndarray | None:
    """The bin edges of a numeric column inside segments: at most :data:`SEGMENT_BINS` + 1 of the whole
    table's edges, evenly spaced by index (equal-mass bins stay equal-mass). Coarsened edges leave out the
    table's first and last edge (its minimum and maximum), so the under- and overflow bins hold the tails:
    a segment's coarse histogram is then never mistaken for a column of few distinct values (which occupies
    no under/overflow bin, see :func:`mlwarden.drift.numeric.has_few_values`). Edges that are already few
    (discrete columns: their values and the midpoints between them) are kept as they are."""
    if edges is None or edges.size <= SEGMENT_BINS + 1:
        return edges
    picked = np.linspace(0, edges.size - 1, SEGMENT_BINS + 3).round().astype(np.intp)[1:-1]
    return edges[np.unique(picked)]


@dataclass(slots=True)
class _Numbers:
    """The numeric columns, prepared once for every split as one block (one row per column): missing and
    finite masks, the values (0 where not finite) and their bins on each column's segment edges."""

    names: list[str]
    kinds: list[Kind]
    missing: np.ndarray  # (columns, rows) bool
    finite: np.ndarray  # (columns, rows) bool
    values: np.ndarray  # (columns, rows), 0 where not finite
    bins: np.ndarray  # (columns, rows), 0 where not finite
    edges: list[np.ndarray | None]

    @classmethod
    def of(cls, columns: list[tuple[str, Kind, np.ndarray, ColumnProfile]]) -> _Numbers:
        if len(columns) == 1:  # large tables: one column per block, no copy
            raw = np.asarray(columns[0][2], dtype=np.float64)[None, :]
        else:
            raw = np.vstack([values for _, _, values, _ in columns]) if columns else np.empty((0, 0))
        finite = np.isfinite(raw)
        clean = bool(finite.all())
        edges = [segment_edges(whole.edges if whole.is_numeric else None) for *_, whole in columns]
        bins = np.zeros(raw.shape, dtype=np.uint8)  # at most SEGMENT_BINS + 2 bins
        for row, e in enumerate(edges):
            if e is not None:
                x = raw[row]
                b = bins[row]
                for edge in e:  # edges <= x, as searchsorted(side="right"): ~10x faster for 21 edges
                    np.add(b, x >= edge, out=b, casting="unsafe")
                if e.size > 1:
                    b[x == e[-1]] = e.size - 1  # the last inner bin is closed
                if not clean:
                    b[~finite[row]] = 0
        return cls(
            names=[name for name, *_ in columns],
            kinds=[kind for _, kind, *_ in columns],
            missing=np.isnan(raw),
            finite=finite,
            values=raw if clean else np.where(finite, raw, 0.0),
            bins=bins,
            edges=edges,
        )

    def encode(
        self,
        codes: np.ndarray,
        rows: np.ndarray,
        order: np.ndarray,
        starts: np.ndarray,
        arrays: list[np.ndarray],
    ) -> list[dict[str, Any]]:
        """:func:`mlwarden.profile.column.summarise_numeric` of every column and group at once (one
        ``np.bincount`` per statistic over the whole block; ``rows`` per segment, none empty; rows sorted by
        segment are ``order``, each segment's first position in that order ``starts``), in the columnar
        form: one header per column, its arrays appended to ``arrays``. The passes over the rows are few
        (the block is memory-bound): a one-column block's cell is its row's code, each segment's total is the
        sum of its bins' sums, and its minimum, maximum and m2 are reductions over its run of sorted rows."""
        columns = len(self.names)
        if not columns:
            return []
        groups = rows.size
        cells = columns * groups
        index = codes if columns == 1 else (np.arange(columns)[:, None] * groups + codes[None, :]).ravel()

        def per_cell(weights: np.ndarray) -> np.ndarray:
            return np.bincount(index, weights=weights.ravel(), minlength=cells).reshape(columns, groups)

        clean = bool(self.finite.all())  # the usual case: no missing or infinite value, fewer passes
        if clean:
            missing = np.zeros((columns, groups), dtype=np.int64)
            n = np.broadcast_to(rows, (columns, groups))
        else:
            missing = per_cell(self.missing).astype(np.int64)
            n = per_cell(self.finite).astype(np.int64)
        width = max((e.size + 1 for e in self.edges if e is not None), default=1)
        binned = index * width + self.bins.ravel()
        hist = np.bincount(binned if clean else binned[self.finite.ravel()], minlength=cells * width)
        sums = np.bincount(binned, weights=self.values.ravel(), minlength=cells * width)
        hist = hist.reshape(columns, groups, width).astype(np.int32 if rows.sum() < 2**31 else np.int64)
        sums = sums.reshape(columns, groups, width)
        total = sums.sum(axis=2)  # values are 0 where not finite
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / n
        # in segment order, each segment's rows are contiguous: min, max and m2 are reductions over runs
        ordered = self.values[:, order]
        deviation = ordered - np.repeat(np.nan_to_num(mean), rows, axis=1)
        if not clean:
            finite = self.finite[:, order]
            deviation[~finite] = 0.0
            ordered = np.where(finite, ordered, np.nan)
        np.multiply(deviation, deviation, out=deviation)
        m2 = np.add.reduceat(deviation, starts, axis=1)
        m2[n < 2] = 0.0
        lo = np.fmin.reduceat(ordered, starts, axis=1)
        hi = np.fmax.reduceat(ordered, starts, axis=1)
        heads = []
        for c, name in enumerate(self.names):  # per column: slices of the block
            count = rows - missing[c]
            exponent = np.zeros(groups, dtype=np.int64)
            col_mean, col_m2 = mean[c].copy(), m2[c].copy()
            largest = np.fmax(np.abs(lo[c]), np.abs(hi[c]))
            extreme = (largest > 2.0**SAFE_EXPONENT) | ((largest < 2.0**-SAFE_EXPONENT) & (largest > 0))
            for g in np.flatnonzero(extreme):  # magnitudes near 1e±300: the scaled computation (rare)
                values = self.values[c][(codes == g) & self.finite[c]]
                moments = Moments.of(values, float(lo[c, g]), float(hi[c, g]))
                col_mean[g], col_m2[g], exponent[g] = moments.mean, moments.scaled_m2, moments.exponent
            ints = np.column_stack((count, missing[c], count - n[c], n[c], exponent))
            head: dict[str, Any] = {"name": name, "kind": self.kinds[c], "ints": _add(arrays, ints)}
            head["floats"] = _add(arrays, np.column_stack((lo[c], hi[c], col_mean, col_m2)))
            head["edges"], head["which"], head["hist"], head["sums"] = [], [-1] * groups, None, None
            edges = self.edges[c]
            if edges is not None:
                w = edges.size + 1
                head["edges"] = [_add(arrays, edges)]
                head["which"] = [0] * groups
                head["hist"] = _add(arrays, hist[c, :, :w].ravel())
                head["sums"] = _add(arrays, sums[c, :, :w].ravel())
            heads.append(head)
        return heads


@dataclass(slots=True)
class _Labels:
    """A categorical column prepared once: codes into the whole table's most frequent categories (the
    others count as ``other`` in every segment)."""

    kind: Kind
    codes: np.ndarray  # -1 missing, len(names) for a category outside the kept ones
    names: list[str]
    capped: bool
    cap: int
    value_codes: np.ndarray  # the column's own codes and labels (:func:`_label_codes`), for row_labels
    labels: np.ndarray

    def encode(self, name: str, codes: np.ndarray, groups: int, arrays: list[np.ndarray]) -> dict[str, Any]:
        """:func:`mlwarden.profile.column.summarise_categorical` of every group at once, columnar."""
        width = len(self.names) + 2  # kept categories, other, missing
        slot = np.where(self.codes < 0, width - 1, self.codes)
        table = np.bincount(codes * width + slot, minlength=groups * width).reshape(groups, width)
        other = table[:, -2]
        return {
            "name": name,
            "kind": self.kind,
            "names": self.names,
            "table": _add(arrays, np.ascontiguousarray(table[:, :-2]).astype(np.int64)),
            "other": _add(arrays, other.astype(np.int64)),
            "missing": _add(arrays, table[:, -1].astype(np.int64)),
            "capped": _add(arrays, ((other > 0) | self.capped).astype(np.int64)),
            "cap": self.cap,
        }


def _labels(kind: Kind, values: pd.Series, whole: ColumnProfile) -> _Labels:
    """A categorical column's codes into the whole table's kept categories, computed once for all splits."""
    value_codes, labels = _label_codes(values)
    names = list(whole.categories)
    position = {label: i for i, label in enumerate(names)}
    remap = np.array([position.get(str(label), len(names)) for label in labels], dtype=np.int64)
    codes = np.where(value_codes >= 0, remap[np.maximum(value_codes, 0)] if remap.size else 0, -1)
    return _Labels(kind, codes, names, whole.capped, whole.cap, value_codes, labels)


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


SEPARATOR = "\x1f"  # between a row's values of several segment columns, in stored text
MAX_JOINED = 400  # characters of joined values stored per row (the column's width)


def segment_columns(specs: Iterable[SegmentSpec]) -> list[str]:
    """Every column the specs split on, each once, in order."""
    return list(dict.fromkeys(c for spec in specs for c in split_columns(spec)))


def joined_values(data: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Each row's labels of ``columns`` (as :func:`row_labels` forms them; empty for a missing value) joined
    by :data:`SEPARATOR` — one object array, built column by column (no loop over rows), cut at
    :data:`MAX_JOINED` characters. A column not in ``data`` counts as missing."""
    out = np.full(len(data), "", dtype=object)
    for i, column in enumerate(columns):
        if column in data.columns:
            codes, names = _label_codes(data[column])
            text = np.where(codes >= 0, names[np.maximum(codes, 0)] if len(names) else "", "").astype(object)
        else:
            text = np.full(len(data), "", dtype=object)
        out = text if i == 0 else out + SEPARATOR + text
    return (
        out if not columns else pd.Series(out, dtype=object).str.slice(0, MAX_JOINED).to_numpy(dtype=object)
    )


def split_values(joined: pd.Series, columns: list[str]) -> pd.DataFrame:
    """The inverse of :func:`joined_values`: one column of labels per segment column (``None`` missing)."""
    parts = joined.fillna("").str.split(SEPARATOR, n=len(columns) - 1, expand=True, regex=False)
    parts = parts.reindex(columns=range(len(columns)))
    parts.columns = columns
    return parts.where(parts.notna() & (parts != ""), None).set_axis(joined.index)


# ---- the columnar form of a split, and its bytes (profile format v4) -------------------------------------


_CODEC = pa.Codec("lz4")  # ~5x faster than zlib level 1 on these arrays, on the ingestion path


def _add(arrays: list[np.ndarray], array: np.ndarray) -> int:
    arrays.append(np.ascontiguousarray(array))
    return len(arrays) - 1


def _split_header(
    columns: tuple[str, ...], cap: int, labels: list[str], rows: np.ndarray, heads: list[dict[str, Any]]
) -> dict[str, Any]:
    return {"columns": list(columns), "cap": cap, "labels": labels, "rows": rows.tolist(), "profiled": heads}


def dump_split(split: SegmentSplit) -> tuple[dict[str, Any], bytes]:
    """``(header, blob)``: the split's columnar form — per profiled column, every segment's statistics side
    by side (numeric: an int64 ``[segments, 5]`` block of count, missing, non-finite, finite n and moment
    exponent, a float64 ``[segments, 4]`` block of min, max, mean and scaled M2, each distinct set of bin
    edges once with the segments' histograms and bin sums concatenated; categorical: the category names
    and a ``[segments, categories]`` count table, other, missing and capped per segment) — its arrays in
    one LZ4-compressed blob, their dtypes and shapes in the header."""
    header, arrays = split.encoded()
    raw = b"".join(a.tobytes() for a in arrays)
    header = {**header, "arrays": [[a.dtype.str, list(a.shape)] for a in arrays], "raw_size": len(raw)}
    return header, _CODEC.compress(raw, asbytes=True)


def load_split(header: dict[str, Any], blob: bytes) -> SegmentSplit:
    """The inverse of :func:`dump_split` (segment profiles are built when first read)."""
    raw = _CODEC.decompress(blob, decompressed_size=int(header["raw_size"]), asbytes=True)
    arrays, offset = [], 0
    for dtype, shape in header["arrays"]:
        count = int(np.prod(shape))
        arrays.append(np.frombuffer(raw, dtype=dtype, count=count, offset=offset).reshape(shape))
        offset += count * np.dtype(dtype).itemsize
    if offset != len(raw):
        raise ValueError(f"segment arrays hold {len(raw)} bytes, the header describes {offset}")
    return SegmentSplit(tuple(header["columns"]), int(header["cap"]), encoded=(header, arrays))


def _encoded_parts(
    columns: tuple[str, ...], cap: int, parts: dict[str, DatasetProfile]
) -> tuple[dict[str, Any], list[np.ndarray]]:
    """The columnar form of per-segment profiles (a merged split)."""
    labels = list(parts)
    profiles = [parts[label] for label in labels]
    arrays: list[np.ndarray] = []
    heads = []
    for name in dict.fromkeys(name for p in profiles for name in p.columns):
        cols = [p.columns.get(name) or ColumnProfile.absent(name, p.rows) for p in profiles]
        kinds = list(dict.fromkeys(c.kind for c in cols if not c.is_empty))
        kind = kinds[0] if kinds else "empty"
        head: dict[str, Any] = {"name": name, "kind": kind}
        if kind in NUMERIC_KINDS or kind == "empty":
            m = [c.moments for c in cols]
            ints = [[c.count, c.missing, c.nonfinite, x.n, x.exponent] for c, x in zip(cols, m, strict=True)]
            floats = [[c.min, c.max, x.mean, x.scaled_m2] for c, x in zip(cols, m, strict=True)]
            head["ints"] = _add(arrays, np.array(ints, dtype=np.int64).reshape(-1, 5))
            head["floats"] = _add(arrays, np.array(floats, dtype=np.float64).reshape(-1, 4))
            edge_sets: list[np.ndarray] = []
            which: list[int] = []
            hist, sums = [], []
            for c in cols:
                if c.edges is None or c.hist is None:
                    which.append(-1)
                    continue
                found = next((i for i, e in enumerate(edge_sets) if e is c.edges), None)
                if found is None:
                    found = next((i for i, e in enumerate(edge_sets) if np.array_equal(e, c.edges)), None)
                if found is None:
                    edge_sets.append(c.edges)
                    found = len(edge_sets) - 1
                which.append(found)
                hist.append(c.hist)
                sums.append(c.bin_sums if c.bin_sums is not None else np.full(c.hist.size, np.nan))
            head["edges"] = [_add(arrays, e) for e in edge_sets]
            head["which"] = which
            head["hist"] = _add(arrays, np.concatenate(hist).astype(np.int64)) if hist else None
            head["sums"] = _add(arrays, np.concatenate(sums).astype(np.float64)) if sums else None
        else:
            names = list(dict.fromkeys(k for c in cols for k in c.categories))
            position = {k: i for i, k in enumerate(names)}
            table = np.zeros((len(cols), len(names)), dtype=np.int64)
            for g, c in enumerate(cols):
                for k, v in c.categories.items():
                    table[g, position[k]] = v
            head.update(
                names=names,
                table=_add(arrays, table),
                other=_add(arrays, np.array([c.other for c in cols], dtype=np.int64)),
                missing=_add(arrays, np.array([c.missing for c in cols], dtype=np.int64)),
                capped=_add(arrays, np.array([c.capped for c in cols], dtype=np.int64)),
                cap=min(c.cap for c in cols if not c.is_empty),
            )
        heads.append(head)
    rows = np.array([p.rows for p in profiles], dtype=np.int64)
    return _split_header(columns, cap, labels, rows, heads), arrays


def _decoded_parts(header: dict[str, Any], arrays: list[np.ndarray]) -> dict[str, DatasetProfile]:
    """Per-segment profiles from the columnar form."""
    from mlwarden.profile.dataset import DatasetProfile

    labels, rows = header["labels"], header["rows"]
    per_group: list[dict[str, ColumnProfile]] = [{} for _ in labels]
    for head in header["profiled"]:
        name, kind = head["name"], head["kind"]
        if "ints" in head:
            ints, floats = arrays[head["ints"]].tolist(), arrays[head["floats"]].tolist()
            edge_sets = [arrays[i].astype(np.float64) for i in head["edges"]]
            hist = None if head["hist"] is None else arrays[head["hist"]]
            sums = None if head["sums"] is None else arrays[head["sums"]]
            at = 0
            for g, which in enumerate(head["which"]):
                count, missing, nonfinite, n, exponent = ints[g]
                lo, hi, mean, m2 = floats[g]
                if which >= 0:
                    width = edge_sets[which].size + 1
                    block = slice(at, at + width)
                    at += width
                if count == 0:
                    per_group[g][name] = ColumnProfile.absent(name, missing)
                    continue
                col = ColumnProfile(name=name, kind=kind, count=count, missing=missing, nonfinite=nonfinite)
                col.min, col.max = lo, hi
                col.moments = Moments(n, mean, m2, exponent) if n else Moments()
                if which >= 0:
                    col.edges, col.hist = edge_sets[which], hist[block].astype(np.int64)
                    bin_sums = sums[block].astype(np.float64)
                    col.bin_sums = None if np.isnan(bin_sums).any() else bin_sums
                per_group[g][name] = col
            continue
        names, table = head["names"], arrays[head["table"]]
        other, missing = arrays[head["other"]].tolist(), arrays[head["missing"]].tolist()
        capped = arrays[head["capped"]].tolist()
        for g in range(len(labels)):
            row = table[g]
            categories = {names[i]: int(row[i]) for i in np.flatnonzero(row)}
            present = sum(categories.values()) + other[g]
            if present == 0:
                per_group[g][name] = ColumnProfile.absent(name, missing[g])
                continue
            per_group[g][name] = ColumnProfile(
                name=name,
                kind=kind,
                count=present,
                missing=missing[g],
                categories=categories,
                other=other[g],
                capped=bool(capped[g]),
                cap=int(head["cap"]),
            )
    return {
        label: DatasetProfile(
            rows=int(rows[g]),
            columns=per_group[g],
            sample=pd.DataFrame(),
            sample_keys=np.empty(0),
            sample_rows=0,
        )
        for g, label in enumerate(labels)
    }
