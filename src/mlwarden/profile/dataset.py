"""Dataset profiles: one pass over a DataFrame, mergeable, with a uniform sample of whole rows."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlwarden.errors import InputError
from mlwarden.profile import categorical
from mlwarden.profile.categorical import DEFAULT_CAP
from mlwarden.profile.column import (
    NUMERIC_KINDS,
    SMALL_BLOCK_ROWS,
    ColumnProfile,
    Kind,
    merge_columns,
    summarise_categorical,
    summarise_float_block,
    summarise_numeric,
)
from mlwarden.profile.numeric import DEFAULT_BINS
from mlwarden.profile.segments import DEFAULT_SEGMENT_CAP, SegmentSpec, merge_splits, profile_splits
from mlwarden.schema.mapping import ColumnMapping

if TYPE_CHECKING:
    from mlwarden.profile.segments import SegmentSplit

DEFAULT_SAMPLE_ROWS = 2_000
_MISSING_TEXT = frozenset({"", "nan", "na", "n/a", "null", "none", "<na>"})  # text that means "no value"


@dataclass(slots=True)
class DatasetProfile:
    """Mergeable summary of a table: per-column profiles and a uniform sample of whole rows.

    The sample (at most ``sample_rows`` rows; none when 0) is a uniform random sample without replacement:
    every row gets a random key and the rows with the smallest keys are kept, so merging two samples (keep
    the smallest keys of both) is again a uniform sample of the union. It holds raw values — see
    docs/profiles.md on privacy.
    """

    rows: int
    columns: dict[str, ColumnProfile]
    sample: pd.DataFrame
    sample_keys: np.ndarray
    sample_rows: int = DEFAULT_SAMPLE_ROWS
    source: str | None = None
    meta: dict[str, str] = field(default_factory=dict)
    segments: dict[str, SegmentSplit] = field(default_factory=dict)

    def __getitem__(self, name: object) -> ColumnProfile:
        try:
            return self.columns[str(name)]
        except KeyError:
            raise InputError(
                f"no column '{name}' in the profile; it has: {', '.join(self.columns)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return str(name) in self.columns

    @property
    def column_names(self) -> list[str]:
        return list(self.columns)

    def merge(self, other: DatasetProfile) -> DatasetProfile:
        """The profile of both tables' rows together (commutative); see :func:`merge`."""
        return merge(self, other)

    def to_bytes(self) -> bytes:
        from mlwarden.profile.serialize import dumps

        return dumps(self)

    @classmethod
    def from_bytes(cls, data: bytes) -> DatasetProfile:
        from mlwarden.profile.serialize import loads

        return loads(data)

    def save(self, path: str | Path) -> None:
        """Write the versioned binary form to ``path`` (atomically: a temporary file then a rename)."""
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(self.to_bytes())
        tmp.replace(path)


def profile(
    data: pd.DataFrame | str | Path | Any,
    *,
    mapping: ColumnMapping | None = None,
    reference: DatasetProfile | None = None,
    columns: list[str] | None = None,
    bins: int = DEFAULT_BINS,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    category_cap: int = DEFAULT_CAP,
    seed: int | None = None,
    sketch: bool = False,
    source: str | None = None,
    on_column: Callable[[str], None] | None = None,
    segments: Sequence[SegmentSpec] | None = None,
    segment_cap: int = DEFAULT_SEGMENT_CAP,
) -> DatasetProfile:
    """Profile a DataFrame or a CSV/Parquet file in one vectorised pass per column.

    Column names become strings (a frame built from a numpy array has columns ``"0"``, ``"1"``, …). The
    ``mapping``'s ``ignore`` columns are left out; its ``categorical`` columns are profiled as labels (whole
    numbers as integers: ``1.0`` is label ``"1"``) and its ``numeric`` columns as numbers (text parsed as
    decimal numbers; text that is not a number raises :class:`InputError` naming the column). Otherwise the
    kind follows the dtype (``Decimal`` objects are numeric); a column without any value is ``"empty"``.

    With ``reference``, numeric columns are binned on the reference's edges so that the two histograms are
    comparable bin by bin (and current profiles merge exactly); without it each numeric column gets
    ``bins`` equal-mass quantile bins of its own data — itself a quantile summary accurate to one bin.
    ``sample_rows`` rows (default 2,000; 0 keeps none) are kept as a uniform sample of whole rows, drawn
    with ``seed`` — by default one derived from the data, so the same data always gives the same profile
    (reproducible reports) while batches of the same size still draw different keys. ``sketch=True`` adds a
    KLL quantile sketch per numeric column (about 40 ms per million values); merges no longer need it
    (differently binned histograms merge, see :func:`merge`).
    ``on_column`` is called after each column (progress reporting).

    ``segments`` (default: the ``mapping``'s ``segments``) lists segment columns, each split on its own,
    and tuples of columns to cross (``["country", ("country", "plan")]``): the profile then also keeps one
    partial profile per segment value — the ``segment_cap`` (default 50) most frequent values, the rest
    pooled as ``(other)``, rows without a value as ``(missing)`` — see :mod:`mlwarden.profile.segments`
    and docs/segments.md. Raises :class:`InputError` for a segment column not in the data.
    """
    if bins < 1:
        raise InputError(f"bins must be at least 1, got {bins}")
    if sample_rows < 0:
        raise InputError(f"sample_rows must be non-negative, got {sample_rows}")
    if category_cap < 1:
        raise InputError(f"category_cap must be at least 1, got {category_cap}")
    if segments is None:
        segments = mapping.segments if mapping is not None else []
    if segments and isinstance(data, str | Path):  # segment splits need the rows: read the file whole
        from mlwarden.profile.io import read_table

        source, data = source or str(data), read_table(data, columns=columns)
    if not isinstance(data, pd.DataFrame):
        if isinstance(data, str | Path):
            from mlwarden.profile.stream import profile_file

            return profile_file(
                data,
                mapping=mapping,
                reference=reference,
                columns=columns,
                bins=bins,
                sample_rows=sample_rows,
                category_cap=category_cap,
                seed=seed,
                sketch=sketch,
                source=source,
                on_column=on_column,
            )
        from mlwarden.engines import profile_frame  # a Dask or Spark DataFrame

        if sketch:
            raise InputError("sketch: KLL sketches are not supported for Dask or Spark DataFrames")
        if segments:
            raise InputError("segments: not supported for Dask or Spark DataFrames yet; profile per segment")
        return profile_frame(
            data,
            columns=columns,
            mapping=mapping,
            reference=reference,
            bins=bins,
            sample_rows=sample_rows,
            category_cap=category_cap,
            seed=seed,
            source=source,
        )
    if columns is not None:
        data = _select(data, columns)
    rng = np.random.default_rng(sample_seed(data) if seed is None else seed)
    keys = rng.random(len(data)) if sample_rows else np.empty(0)
    return profile_rows(
        data,
        keys,
        mapping=mapping,
        reference=reference,
        bins=bins,
        sample_rows=sample_rows,
        category_cap=category_cap,
        sketch=sketch,
        source=source,
        on_column=on_column,
        segments=segments,
        segment_cap=segment_cap,
    )


def profile_rows(
    data: pd.DataFrame,
    keys: np.ndarray,
    *,
    mapping: ColumnMapping | None = None,
    reference: DatasetProfile | None = None,
    bins: int = DEFAULT_BINS,
    sample_rows: int = DEFAULT_SAMPLE_ROWS,
    category_cap: int = DEFAULT_CAP,
    sketch: bool = False,
    source: str | None = None,
    on_column: Callable[[str], None] | None = None,
    segments: Sequence[SegmentSpec] = (),
    segment_cap: int = DEFAULT_SEGMENT_CAP,
) -> DatasetProfile:
    """:func:`profile` of a DataFrame whose rows' sample keys are given (``keys``: one uniform [0, 1) draw
    per row, or empty when ``sample_rows`` is 0) — the rows of one chunk or partition of a larger table,
    whose keys continue one random stream so that the merged sample is the one a single pass would keep."""
    names = [str(c) for c in data.columns]
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"duplicate column names: {', '.join(dupes)}")
    positions = list(range(len(names)))
    overrides: dict[str, str] = {}
    if mapping is not None:
        positions = [i for i in positions if names[i] not in mapping.ignore]
        names = [names[i] for i in positions]
        overrides = {name: kind for name in names if (kind := mapping.kind_override(name))}

    values: dict[str, tuple[Kind, np.ndarray | pd.Series]] = {}  # kept for the segments only

    n = len(data)
    picked = _smallest(keys, sample_rows)
    picked.sort()  # keep the sample in data order

    profiles: dict[str, ColumnProfile] = {}
    sample: dict[str, np.ndarray] = {}
    if reference is not None and 0 < n <= SMALL_BLOCK_ROWS and not sketch:
        plain = [(p, name) for p, name in zip(positions, names, strict=True) if name not in overrides]
        profiles, sample = _profile_float_block(data, plain, reference, picked)
    for position, name in zip(positions, names, strict=True):
        if name not in profiles:  # else profiled in the block
            ref = reference.columns.get(name) if reference is not None else None
            series = data.iloc[:, position]
            kind, values_of_kind = _kind_and_values(series, name, overrides.get(name))
            if kind in NUMERIC_KINDS:
                edges = ref.edges if ref is not None and ref.is_numeric else None
                col = summarise_numeric(name, kind, values_of_kind, edges=edges, bins=bins, sketch=sketch)
                sample[name] = values_of_kind[picked].astype("float64", copy=False)
            else:
                col = summarise_categorical(name, kind, values_of_kind, cap=category_cap)
                sample[name] = np.asarray(label_values(values_of_kind.iloc[picked]), dtype=object)
            if col.is_empty:  # no values: the sample holds NaN, which merges with any kind
                sample[name] = np.full(picked.size, np.nan)
            profiles[name] = col
            if segments:
                values[name] = (kind, values_of_kind)
        elif segments:  # profiled in the float block
            values[name] = ("numeric", data.iloc[:, position].to_numpy(dtype="float64"))
        if on_column is not None:
            on_column(name)
    result = DatasetProfile(
        rows=n,
        columns={name: profiles[name] for name in names},
        sample=_sample_frame(sample, names),
        sample_keys=keys[picked],
        sample_rows=sample_rows,
        source=source,
    )
    if segments:
        result.segments = profile_splits(
            data,
            result,
            segments,
            values=values,
            cap=segment_cap,
            reference=reference.segments if reference is not None else None,
        )
    return result


def _select(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """``data``'s ``columns``, found by their string form (so "0" selects an integer-named column 0)."""
    position = {str(c): i for i, c in enumerate(data.columns)}
    missing = [c for c in columns if str(c) not in position]
    if missing:
        raise InputError(f"columns not in the data: {', '.join(map(str, missing))}")
    return data.iloc[:, [position[str(c)] for c in columns]]


def _kind_and_values(
    series: pd.Series, name: str, override: str | None
) -> tuple[Kind, np.ndarray | pd.Series]:
    """The kind a column is profiled as, and its values in that kind's form: float64 (NaN missing) for
    numeric kinds, the series itself (as labels) for the others."""
    natural = column_kind(series, name)
    if override == "categorical":
        return "categorical", categorical.as_labels(series) if natural == "numeric" else series
    if natural in NUMERIC_KINDS:
        kind: Kind = "numeric" if override == "numeric" else natural
        return kind, numeric_values(series, natural)
    if override == "numeric":
        return "numeric", parsed_numbers(series, name)
    return natural, series


def parsed_numbers(series: pd.Series, name: str) -> np.ndarray:
    """A column declared numeric as float64 (NaN for missing): booleans as 0/1, text parsed as numbers.

    Raises :class:`InputError` naming the column and the first value that is not a number (text such as
    "", "NA" or "null" counts as missing).
    """
    parsed = pd.to_numeric(series, errors="coerce")
    values = np.asarray(parsed.to_numpy(dtype="float64", na_value=np.nan), dtype=np.float64)
    unparsed = np.isnan(values) & series.notna().to_numpy()
    if unparsed.any():
        text = series[unparsed].astype(str)
        bad = text[~text.str.strip().str.lower().isin(_MISSING_TEXT)]
        if len(bad):
            raise InputError(f"column '{name}' is declared numeric, but holds {bad.iloc[0]!r}, not a number")
    return values


def _profile_float_block(
    data: pd.DataFrame,
    columns: list[tuple[int, str]],
    reference: DatasetProfile,
    picked: np.ndarray,
) -> tuple[dict[str, ColumnProfile], dict[str, np.ndarray]]:
    """Profiles and sample rows of the all-finite float64 columns (``(position, name)`` pairs) binned on
    reference edges, computed as one block (small data only); the other columns are left to the general
    path."""
    dtypes = data.dtypes.tolist()
    candidates = []
    for position, name in columns:
        ref = reference.columns.get(name)
        binned = ref is not None and ref.kind == "numeric" and ref.edges is not None
        if binned and dtypes[position] == np.float64:
            candidates.append((position, name))
    if not candidates:
        return {}, {}
    block = data.iloc[:, [p for p, _ in candidates]].to_numpy(dtype="float64").T  # one row per column
    finite = np.isfinite(block).all(axis=1)  # a column with NaN or inf takes the general path
    chosen = [name for (_, name), ok in zip(candidates, finite, strict=True) if ok]
    block = np.ascontiguousarray(block[finite])
    edges = [reference.columns[name].edges for name in chosen]
    profiles = {col.name: col for col in summarise_float_block(chosen, block, edges)}
    return profiles, dict(zip(chosen, block[:, picked], strict=True))


def _sample_frame(columns: dict[str, np.ndarray], names: list[str]) -> pd.DataFrame:
    """The sample as a DataFrame: numeric columns float64, labels kept as Python objects (not pandas' str)."""
    numeric = [name for name in names if columns[name].dtype != object]
    block = np.column_stack([columns[name] for name in numeric]) if numeric else None
    frame = pd.DataFrame(block, columns=numeric)  # one 2-D block: ~5x faster than a dict of columns
    for name in names:
        if columns[name].dtype == object:
            frame[name] = pd.Series(columns[name], dtype=object)
    return frame[names] if list(frame.columns) != names else frame


def merge(*profiles: DatasetProfile | Iterable[DatasetProfile]) -> DatasetProfile:
    """Merge any number of profiles (given as arguments or one iterable) into one — commutative.

    Columns merge with :func:`mlwarden.profile.column.merge_columns`: counts, moments, min/max and category
    counts exactly; histograms exactly when the parts share edges (current data binned on one reference),
    else rebinned onto merged edges with an error of at most one part-bin's mass (see
    :mod:`mlwarden.profile.rebin`) — merging all parts in one call rebins once. A column absent from a part
    counts that part's rows as missing. The row sample is the smallest-key rows of all parts' samples, at
    most the smallest ``sample_rows`` of the parts. Raises :class:`InputError` without profiles, or when a
    column's kinds differ.
    """
    items: list[DatasetProfile] = []
    for p in profiles:
        items.extend([p] if isinstance(p, DatasetProfile) else p)
    if not items:
        raise InputError("merge needs at least one profile")
    if len(items) == 1:
        return items[0]
    columns: dict[str, ColumnProfile] = {}
    for name in dict.fromkeys(name for p in items for name in p.columns):
        parts = [p.columns.get(name) or ColumnProfile.absent(name, p.rows) for p in items]
        columns[name] = merge_columns(parts)
    size = min(p.sample_rows for p in items)
    sample, keys = _merge_samples([p.sample for p in items], [p.sample_keys for p in items], size)
    sources = [p.source for p in items if p.source]
    meta: dict[str, str] = {}
    for p in reversed(items):  # the first profile's entries win
        meta.update(p.meta)
    return DatasetProfile(
        rows=sum(p.rows for p in items),
        columns=columns,
        sample=sample,
        sample_keys=keys,
        sample_rows=size,
        source=" + ".join(dict.fromkeys(sources)) or None,
        meta=meta,
        segments=merge_splits(items),
    )


def column_kind(series: pd.Series, name: str) -> Kind:
    """How a column is profiled, from its dtype; an object column holding only booleans is boolean, one
    holding only numbers (``Decimal``, ``int``, ``float``) is numeric."""
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "datetime"
    if pd.api.types.is_complex_dtype(dtype):  # before numeric, which complex is too: its imaginary part
        # was dropped with a ComplexWarning
        raise InputError(f"column '{name}' holds complex numbers; expected numeric, categorical or datetime")
    if pd.api.types.is_timedelta64_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return "numeric"
    if pd.api.types.is_object_dtype(dtype):
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "boolean":
            return "boolean"
        if inferred in _NUMBER_OBJECTS:
            return "numeric"
    return "categorical"


_NUMBER_OBJECTS = ("decimal", "integer", "floating", "mixed-integer-float")  # pandas' infer_dtype names


def numeric_values(series: pd.Series, kind: Kind) -> np.ndarray:
    """The column as float64 with NaN for missing; datetimes as UTC epoch seconds, timedeltas as seconds,
    ``Decimal`` objects and Arrow decimals converted to the nearest float."""
    if kind == "datetime":
        if getattr(series.dtype, "tz", None) is not None:
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = series.to_numpy(dtype="datetime64[ns]").view("int64")
        out = ns.astype("float64") / 1e9
        out[ns == np.iinfo(np.int64).min] = np.nan  # NaT
        return out
    if pd.api.types.is_timedelta64_dtype(series.dtype):
        return series.dt.total_seconds().to_numpy(dtype="float64", na_value=np.nan)
    return series.to_numpy(dtype="float64", na_value=np.nan)


def label_values(series: pd.Series) -> np.ndarray:
    """Labels as an object array of strings, ``None`` for missing."""
    out = series.astype(object).to_numpy(copy=True)
    missing = pd.isna(series).to_numpy()
    out[~missing] = series[~missing].astype(str).to_numpy(dtype=object)
    out[missing] = None
    return out


def sample_seed(data: pd.DataFrame) -> int:
    """A seed for the row sample's keys from the row count and eight evenly spaced values of the first
    column (cheap: a few microseconds, on the ingestion path)."""
    n = len(data)
    if not n or not data.shape[1]:
        return n
    return seed_of(n, data.iloc[:, 0].to_numpy()[np.linspace(0, n - 1, num=min(n, 8), dtype=np.intp)])


def seed_of(n: int, probe: np.ndarray | None) -> int:
    """:func:`sample_seed` from the row count ``n`` and the probed values (``None``: no rows or columns)."""
    if not n or probe is None:
        return n
    return zlib.crc32(repr(probe.tolist()).encode()) ^ n


def _smallest(keys: np.ndarray, k: int) -> np.ndarray:
    if keys.size <= k:
        return np.arange(keys.size)
    return np.argpartition(keys, k)[:k] if k else np.empty(0, dtype=np.intp)


def _merge_samples(
    samples: list[pd.DataFrame], keys: list[np.ndarray], size: int
) -> tuple[pd.DataFrame, np.ndarray]:
    every = pd.concat(samples, ignore_index=True, sort=False)
    all_keys = np.concatenate(keys)
    picked = _smallest(all_keys, size)
    picked = picked[np.argsort(all_keys[picked], kind="stable")]
    sample = every.iloc[picked].reset_index(drop=True)
    for name in sample.columns:  # columns absent on one side come back as NaN: labels use None
        if sample[name].dtype == object:
            sample[name] = sample[name].where(sample[name].notna(), None)
    return sample, all_keys[picked]
