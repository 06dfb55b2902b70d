"""Out-of-core profiles: a Parquet file streamed by row batches, a CSV file by chunks, in bounded memory.

A file is profiled chunk by chunk and the chunk profiles merged (:func:`mlwarden.profile.merge`). Histograms
must share edges to add exactly, so numeric columns without the reference's edges (or every numeric column
when there is no reference) get a first pass that gathers the strided subsample the in-memory path takes its
quantile edges from (:class:`~mlwarden.profile.numeric.EdgeSampler`). The result equals
``profile(read_table(path))``: counts, missing values, min/max, histograms, category counts (up to
``CHUNK_CATEGORY_CAP`` distinct values per chunk) and the row sample exactly, moments within float rounding.
CSV chunks infer their types one by one; the first pass also finds columns that parse as numbers in one
chunk and as text in another, and the second reads those as text, as a whole-file read does.

Memory: one Parquet row group (what pyarrow decompresses at a time; consecutive groups smaller than
``MIN_CHUNK_ROWS`` rows are read together) and the chunks sliced from it without a copy (numeric columns
without nulls), one chunk of ``CHUNK_VALUES`` values (at least ``MIN_CHUNK_ROWS`` rows) of temporaries,
the merged profile, and — for the row sample's seed — a CSV's first column. Feather/Arrow files are
memory-mapped instead (:func:`mlwarden.profile.io.read_table`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from mlwarden.errors import InputError
from mlwarden.profile import categorical
from mlwarden.profile.categorical import DEFAULT_CAP
from mlwarden.profile.column import NUMERIC_KINDS, ColumnProfile
from mlwarden.profile.dataset import (
    DEFAULT_SAMPLE_ROWS,
    DatasetProfile,
    _kind_and_values,
    _smallest,
    merge,
    numeric_values,
    profile_rows,
    sample_seed,
    seed_of,
)
from mlwarden.profile.io import (
    TABLE_SUFFIXES,
    checked_path,
    parsed_timestamps,
    read_table,
    timestamp_text,
    with_timestamps,
)
from mlwarden.profile.numeric import DEFAULT_BINS, EdgeSampler
from mlwarden.schema.mapping import ColumnMapping

CHUNK_VALUES = 1 << 21  # values (rows x columns) per chunk: 16 MB as float64
MIN_CHUNK_ROWS = 32_768  # wide tables: at least this many rows per chunk (amortises the per-column work)
CHUNK_CATEGORY_CAP = 100_000  # distinct categories a chunk counts exactly before the final cap
MERGE_VALUES = 1 << 22  # chunk profiles are merged in groups holding at most this many sampled values
MERGE_PARTS = 32  # ... and at most this many profiles


def profile_file(
    path: str | Path,
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
    chunk_rows: int | None = None,
) -> DatasetProfile:
    """Profile a CSV, TSV or Parquet file in chunks of ``chunk_rows`` rows (default: ``CHUNK_VALUES``
    values, at least ``MIN_CHUNK_ROWS`` rows); arguments as :func:`mlwarden.profile.profile`.

    Equal to profiling the whole file in memory (see the module docstring); the row sample is the same
    rows in the same order; KLL sketches (``sketch=True``) are merged, so their quantiles agree within the
    sketch's error rather than bit for bit. Raises :class:`InputError` for an unreadable file or unknown
    ``columns``.
    """
    path = checked_path(path)
    fmt = TABLE_SUFFIXES[path.suffix.lower()]
    source = source or str(path)
    if fmt == "feather":  # memory-mapped: read as a whole
        from mlwarden.profile.dataset import profile

        return profile(
            read_table(path, columns=columns),
            mapping=mapping,
            reference=reference,
            bins=bins,
            sample_rows=sample_rows,
            category_cap=category_cap,
            seed=seed,
            sketch=sketch,
            source=source,
            on_column=on_column,
        )
    names = _selected(table_columns(path), columns, fmt)
    ignored = set(mapping.ignore) if mapping is not None else set()
    kept = [name for name in names if name not in ignored]
    if chunk_rows is None:
        chunk_rows = max(MIN_CHUNK_ROWS, CHUNK_VALUES // max(1, len(names)))
    as_text: list[str] = []
    timestamps: list[str] = []
    need = [name for name in kept if not _has_edges(reference, name)]
    edged = reference
    if need or fmt != "parquet":
        scan = _first_pass(path, fmt, need if fmt == "parquet" else kept, mapping, chunk_rows)
        as_text, timestamps = scan.mixed, scan.timestamps
        edged = _with_edges(reference, scan.edges(bins, set(need) - set(as_text)))
        del scan  # its edge subsamples (up to 1 MB a column) are not needed for the second pass
    if seed is None:
        seed = _file_seed(path, fmt, names)
    rng = np.random.default_rng(seed)
    parts: list[DatasetProfile] = []
    merged: DatasetProfile | None = None
    order = SampleOrder()
    for chunk in iter_chunks(path, columns=names, chunk_rows=chunk_rows, text=as_text, timestamps=timestamps):
        keys = rng.random(len(chunk)) if sample_rows else np.empty(0)
        part = profile_rows(
            chunk,
            keys,
            mapping=mapping,
            reference=edged,
            bins=bins,
            sample_rows=order.candidates(keys, sample_rows),  # rows that can still make the sample
            category_cap=max(category_cap, CHUNK_CATEGORY_CAP),
            sketch=sketch,
        )
        part.sample_rows = sample_rows
        parts.append(part)
        order.add(keys, sample_rows)
        if len(parts) >= MERGE_PARTS or sum(len(p.sample) for p in parts) * len(names) >= MERGE_VALUES:
            merged = merge([p for p in (merged, *parts) if p is not None])
            parts = []
    merged = merge([p for p in (merged, *parts) if p is not None]) if parts or merged else None
    if merged is None:  # no rows: profile the empty frame (column kinds from the header)
        return profile_rows(
            _empty(path, names, fmt), np.empty(0), mapping=mapping, sample_rows=sample_rows, source=source
        )
    for name, col in merged.columns.items():
        merged.columns[name] = _capped(col, category_cap)
        if on_column is not None:
            on_column(name)
    merged.source = source
    return order.apply(merged)


class SampleOrder:
    """Where each sampled row sits in the whole table, so that a merged profile lists its row sample in
    data order, as a single pass does (merges list it by key; the order matters to the domain classifier's
    folds). Holds the positions of the ``sample_rows`` smallest keys so far."""

    def __init__(self) -> None:
        self.rows = 0
        self.keys = np.empty(0)
        self.positions = np.empty(0, dtype=np.int64)

    def candidates(self, keys: np.ndarray, sample_rows: int) -> int:
        """How many of the next rows' smallest keys can still be among the ``sample_rows`` smallest of all:
        those below the current largest kept key (all, until ``sample_rows`` rows are kept). Sampling only
        these keeps the chunk samples — and the merges — small on long files."""
        if self.keys.size < sample_rows:
            return sample_rows
        return min(sample_rows, int(np.count_nonzero(keys < self.keys.max())))

    def add(self, keys: np.ndarray, sample_rows: int) -> None:
        """The next rows' keys (in data order)."""
        picked = _smallest(keys, sample_rows)
        all_keys = np.concatenate((self.keys, keys[picked]))
        all_positions = np.concatenate((self.positions, self.rows + picked))
        kept = _smallest(all_keys, sample_rows)
        self.keys, self.positions = all_keys[kept], all_positions[kept]
        self.rows += keys.size

    def apply(self, merged: DatasetProfile) -> DatasetProfile:
        position = dict(zip(self.keys.tolist(), self.positions.tolist(), strict=True))
        return in_data_order(merged, np.array([position[k] for k in merged.sample_keys.tolist()]))


def in_data_order(merged: DatasetProfile, positions: np.ndarray) -> DatasetProfile:
    """``merged`` with its row sample sorted by the rows' ``positions`` in the whole table (aligned with
    ``sample_keys``), as a single pass lists it."""
    order = np.argsort(positions, kind="stable")
    merged.sample = merged.sample.iloc[order].reset_index(drop=True)
    merged.sample_keys = merged.sample_keys[order]
    return merged


def table_columns(path: str | Path) -> list[str]:
    """The column names of a CSV, TSV, Parquet or Feather file, read from its header or schema only."""
    path = checked_path(path)
    fmt = TABLE_SUFFIXES[path.suffix.lower()]
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            schema = pq.ParquetFile(path).schema_arrow
            index = (schema.pandas_metadata or {}).get("index_columns", [])
            names = [n for n in schema.names if n not in index]  # RangeIndex entries are dicts: no column
        elif fmt == "feather":
            names = list(read_table(path).columns)
        else:
            names = list(pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", nrows=0).columns)
    except (InputError, MemoryError):  # out of memory is not a bad file
        raise
    except Exception as exc:  # pyarrow's ArrowInvalid, pandas' ParserError: not a readable table
        raise InputError(f"{path}: cannot read as {fmt}: {_first_line(exc)}") from exc
    if not names:
        raise InputError(f"{path}: no columns found")
    return [str(n) for n in names]


def iter_chunks(
    path: str | Path,
    *,
    columns: list[str] | None = None,
    chunk_rows: int = 65_536,
    text: list[str] | None = None,
    timestamps: list[str] | None = None,
) -> Iterator[pd.DataFrame]:
    """The rows of a CSV, TSV or Parquet file as DataFrames of at most ``chunk_rows`` rows, in file order
    (``columns``: only these; ``text``: read these CSV columns as text; ``timestamps``: parse these CSV
    columns' ISO-8601 text, see :func:`~mlwarden.profile.io.timestamp_text`). Raises :class:`InputError`
    when the file cannot be read."""
    path = checked_path(path)
    fmt = TABLE_SUFFIXES[path.suffix.lower()]
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            with pq.ParquetFile(path) as file:
                for groups in _group_runs(file.metadata, min(chunk_rows, MIN_CHUNK_ROWS)):  # iter_batches
                    # reads ahead: 4x the memory; small row groups are read together
                    table = file.read_row_groups(groups, columns=columns, use_threads=True)
                    for start in range(0, table.num_rows, chunk_rows):
                        yield table.slice(start, chunk_rows).to_pandas(split_blocks=True)  # no copy
                    del table
        else:
            # pandas checks each line's field count only without usecols (with it, a line's extra fields
            # are dropped silently): every column is read when every column is wanted, as profiles do
            whole = columns is None or set(columns) >= set(table_columns(path))
            with pd.read_csv(
                path,
                sep="\t" if fmt == "tsv" else ",",
                usecols=None if whole else columns,
                chunksize=chunk_rows,
                low_memory=False,
                dtype=dict.fromkeys(text, str) if text else None,
            ) as reader:
                for chunk in reader:
                    yield with_timestamps(chunk if columns is None else chunk[columns], timestamps or [])
    except (InputError, MemoryError):  # out of memory is not a bad file
        raise
    except Exception as exc:  # pyarrow's ArrowInvalid, pandas' ParserError: not a readable table
        raise InputError(f"{path}: cannot read as {fmt}: {_first_line(exc)}") from exc


def _group_runs(meta, rows: int) -> Iterator[list[int]]:
    """Consecutive Parquet row groups read together: as many as fit in ``rows`` rows (at least one), so that
    wide files written in small row groups are still profiled in chunks of ``MIN_CHUNK_ROWS`` rows."""
    run: list[int] = []
    held = 0
    for group in range(meta.num_row_groups):
        size = meta.row_group(group).num_rows
        if run and held + size > rows:
            yield run
            run, held = [], 0
        run.append(group)
        held += size
    if run:
        yield run


class _Scan:
    """What the first pass learns: each numeric column's edge subsample, and CSV columns of mixed kinds."""

    def __init__(self, text_files: bool) -> None:
        self.samplers: dict[str, EdgeSampler] = {}
        self.kinds: dict[str, set[str]] = {}
        self.text_files = text_files  # CSV/TSV: text columns may hold timestamps
        self.iso: dict[str, bool] = {}  # text column -> every value so far an ISO-8601 timestamp

    def add(self, chunk: pd.DataFrame, mapping: ColumnMapping | None) -> None:
        iso = timestamp_text(chunk) if self.text_files else {}
        for name in chunk.columns:
            override = mapping.kind_override(name) if mapping is not None else None
            kind, values = _kind_and_values(chunk[name], name, override)
            if not _all_missing(values):
                self.kinds.setdefault(name, set()).add("numeric" if kind in NUMERIC_KINDS else "label")
            if kind in NUMERIC_KINDS:
                self.samplers.setdefault(name, EdgeSampler()).add(values[np.isfinite(values)])
            elif name in iso:  # as read_table parses it, whatever the kind override
                self.iso[name] = self.iso.get(name, True) and iso[name]
                if self.iso[name]:  # sampled as the timestamps the second pass will read
                    stamps = numeric_values(parsed_timestamps(chunk[name]), "datetime")
                    self.samplers.setdefault(name, EdgeSampler()).add(stamps[np.isfinite(stamps)])

    @property
    def mixed(self) -> list[str]:
        return [name for name, kinds in self.kinds.items() if len(kinds) > 1]

    @property
    def timestamps(self) -> list[str]:
        """Text columns whose every value is an ISO-8601 timestamp: read as timestamps."""
        return [name for name, iso in self.iso.items() if iso and len(self.kinds.get(name, ())) == 1]

    def edges(self, bins: int, names: set[str]) -> dict[str, np.ndarray]:
        out = {}
        for name, sampler in self.samplers.items():
            if name in self.iso and name not in self.timestamps:
                continue  # text after all: its timestamp subsample is not used
            if name in names and (edges := sampler.edges(bins)) is not None:
                out[name] = edges
        return out


def _first_pass(
    path: Path, fmt: str, names: list[str], mapping: ColumnMapping | None, chunk_rows: int
) -> _Scan:
    scan = _Scan(text_files=fmt != "parquet")
    if names:
        for chunk in iter_chunks(path, columns=names, chunk_rows=chunk_rows):
            scan.add(chunk, mapping)
    return scan


def _all_missing(values: np.ndarray | pd.Series) -> bool:
    if isinstance(values, np.ndarray):
        return bool(np.isnan(values).all())
    return bool(values.isna().all())


def _has_edges(reference: DatasetProfile | None, name: str) -> bool:
    col = reference.columns.get(name) if reference is not None else None
    return col is not None and col.is_numeric and col.edges is not None


def _with_edges(reference: DatasetProfile | None, edges: dict[str, np.ndarray]) -> DatasetProfile | None:
    """``reference`` (or an empty profile) with numeric columns binned on ``edges`` added: the edges a
    single pass would have computed from the whole column."""
    if not edges:
        return reference
    columns = dict(reference.columns) if reference is not None else {}
    for name, e in edges.items():
        columns[name] = ColumnProfile(name=name, kind="numeric", edges=e)
    return DatasetProfile(rows=0, columns=columns, sample=pd.DataFrame(), sample_keys=np.empty(0))


def _file_seed(path: Path, fmt: str, names: list[str]) -> int:
    """The seed :func:`profile` derives from the data — the row count and eight evenly spaced values of the
    first column — read the same way: a CSV's first column whole, a Parquet file's row count from its
    metadata and only the row groups holding those values."""
    if fmt != "parquet":
        return sample_seed(read_table(path, columns=names[:1]))
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as file:
        meta = file.metadata
        n = meta.num_rows
        if n == 0:
            return seed_of(0, None)
        position = np.linspace(0, n - 1, num=min(n, 8), dtype=np.intp)
        starts = np.cumsum([0] + [meta.row_group(g).num_rows for g in range(meta.num_row_groups)])
        group = np.searchsorted(starts, position, side="right") - 1
        pieces = [
            file.read_row_group(int(g), columns=names[:1]).column(0).take(position[group == g] - starts[g])
            for g in np.unique(group)
        ]
        values = pa.chunked_array(pieces).to_pandas()
        column = file.schema_arrow.names.index(names[0])
        if pa.types.is_integer(file.schema_arrow.field(names[0]).type) and _has_nulls(meta, column):
            values = values.astype("float64")  # whole-column reads hold integers with nulls as floats
    return seed_of(n, values.to_numpy())


def _has_nulls(meta, column: int) -> bool:
    for g in range(meta.num_row_groups):
        stats = meta.row_group(g).column(column).statistics
        if stats is None or not stats.has_null_count or stats.null_count:
            return True
    return False


def _capped(col: ColumnProfile, cap: int) -> ColumnProfile:
    """``col`` with at most ``cap`` categories kept exactly (chunks counted up to ``CHUNK_CATEGORY_CAP``)."""
    if col.is_numeric or col.is_empty:
        return col
    kept, folded = categorical.cap_categories(col.categories, cap)
    col.categories, col.other, col.cap = kept, col.other + folded, cap
    col.capped = col.capped or folded > 0
    return col


def _selected(names: list[str], columns: list[str] | None, fmt: str) -> list[str]:
    """The columns to read, in the order an in-memory read returns them (Parquet: as asked; CSV: the
    file's); raises :class:`InputError` naming unknown columns and duplicate names."""
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"duplicate column names: {', '.join(dupes)}")
    if columns is None:
        return names
    wanted = [str(c) for c in columns]
    missing = [c for c in wanted if c not in names]
    if missing:
        raise InputError(f"columns not in the data: {', '.join(missing)}")
    return wanted if fmt == "parquet" else [n for n in names if n in set(wanted)]


def _empty(path: Path, names: list[str], fmt: str) -> pd.DataFrame:
    if fmt == "parquet":
        return read_table(path, columns=names)
    return pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", usecols=names, nrows=0)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
