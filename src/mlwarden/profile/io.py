"""Reading tabular files into DataFrames with one clear error per user mistake."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from mlwarden.errors import InputError

TABLE_SUFFIXES = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".feather": "feather",
    ".arrow": "feather",
}


def read_table(path: str | Path, *, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV, TSV, Parquet or Feather/Arrow file; raise :class:`InputError` naming the problem."""
    path = checked_path(path)
    fmt = TABLE_SUFFIXES[path.suffix.lower()]
    try:
        if fmt in ("csv", "tsv"):
            df = pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", usecols=columns, low_memory=False)
            df = with_timestamp_text_parsed(df)
        elif fmt == "parquet":
            df = pd.read_parquet(path, columns=columns)
        else:
            df = pd.read_feather(path, columns=columns)
    except (ValueError, OSError, pd.errors.ParserError, ImportError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(f"{path}: cannot read as {fmt}: {first_line}") from exc
    except Exception as exc:  # pyarrow raises its own ArrowInvalid etc.; all mean "not a readable table"
        raise InputError(f"{path}: cannot read as {fmt}: {type(exc).__name__}: {exc}") from exc
    if df.shape[1] == 0:
        raise InputError(f"{path}: no columns found")
    return df


ISO_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?"
)


def timestamp_text(frame: pd.DataFrame) -> dict[str, bool]:
    """For each text column of ``frame`` that holds values: whether every value is an ISO-8601 date or
    timestamp (``2024-01-05``, ``2024-01-05 10:00:00``, ``2024-01-05T10:00:00+01:00``). CSV has no
    timestamp type: such columns are read as the timestamps a Parquet file of the same data holds, so that
    both give one answer (as text, each new day was an unseen category: critical drift)."""
    out = {}
    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind != "O" and not isinstance(column.dtype, pd.StringDtype):
            continue
        present = column.dropna()
        if present.empty:
            continue
        first = present.iloc[0]
        if not (isinstance(first, str) and ISO_TIMESTAMP.fullmatch(first)):  # most text columns end here
            out[name] = False
            continue
        values = pd.Series(present.unique(), dtype=object)
        texts = values.map(lambda v: isinstance(v, str)).all()
        out[name] = bool(texts and values.astype(str).str.fullmatch(ISO_TIMESTAMP).all())
    return out


def parsed_timestamps(column: pd.Series) -> pd.Series:
    """ISO-8601 text as timestamps: naive when no value carries an offset, else in UTC."""
    try:
        return pd.to_datetime(column, format="ISO8601")
    except (ValueError, TypeError):  # offsets that differ between values, or naive and aware mixed
        return pd.to_datetime(column, format="ISO8601", utc=True)


def with_timestamps(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """``frame`` with the text columns ``names`` parsed by :func:`parsed_timestamps`."""
    if not names:
        return frame
    frame = frame.copy(deep=False)
    for name in names:
        frame[name] = parsed_timestamps(frame[name])
    return frame


def with_timestamp_text_parsed(frame: pd.DataFrame) -> pd.DataFrame:
    """A table read from CSV/TSV with its ISO-8601 text columns as timestamps (:func:`timestamp_text`)."""
    return with_timestamps(frame, [name for name, iso in timestamp_text(frame).items() if iso])


def checked_path(path: str | Path) -> Path:
    """``path`` as a Path when it names a non-empty file of a known table format; else :class:`InputError`."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a CSV or Parquet file")
    fmt = TABLE_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InputError(
            f"{path}: unsupported file type '{path.suffix}'; expected .csv, .tsv, .parquet or .arrow"
        )
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    if fmt in ("csv", "tsv"):
        _unique_header(path, fmt)
    return path


def _unique_header(path: Path, fmt: str) -> None:
    """Raise :class:`InputError` when a CSV/TSV header names a column twice: pandas would rename the second
    ``x`` to ``x.1`` silently (and compare it with another file's real ``x.1``), where a DataFrame with
    duplicate names is an error. An unreadable header is left to the reader's own error."""
    try:
        header = pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", header=None, nrows=1, dtype=str)
    except Exception:  # an unreadable file: the reader that follows names the problem
        return
    names = [name for name in header.iloc[0].tolist() if isinstance(name, str)] if len(header) else []
    dupes = sorted({name for name in names if names.count(name) > 1})
    if dupes:
        raise InputError(f"{path}: duplicate column names in the header: {', '.join(dupes)}")
