"""Versioned binary form of a DatasetProfile.

Layout: ``MAGIC`` (8 bytes) | format version (u16) | header length (u32) | header (UTF-8 JSON) | blobs |
CRC-32 of everything before it (u32). The header describes each column and where its arrays (edges,
histogram, KLL sketch) lie in the blob section. The row sample's float64 columns are one raw little-endian
blob (column after column) and its keys another, the other sample columns (labels) an Arrow IPC stream
blob, with the sample's column order.

Version 4 adds the per-segment partial profiles (``segments``: per split a header and one LZ4-compressed
blob of arrays, columnar across segments; see :func:`mlwarden.profile.segments.dump_split`). Version 3
adds the kind ``"empty"`` and the moments' power-of-two scale (``m2_exponent``: M2 is
``m2 · 4**m2_exponent``); versions 3 (no segments), 2 (the same without those) and 1 (the whole sample
and its keys in one Arrow IPC stream) are still read.
Any truncation, foreign file or corruption is reported as
an :class:`InputError`, never a crash.
"""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from datasketches import kll_doubles_sketch

from mlwarden.errors import InputError
from mlwarden.profile.column import KINDS, ColumnProfile
from mlwarden.profile.dataset import DatasetProfile
from mlwarden.profile.numeric import Moments
from mlwarden.profile.segments import SegmentSplit, dump_split, load_split

MAGIC = b"MLWPROF\x00"
VERSION = 4
_PREFIX = struct.Struct("<8sHI")
_CRC = struct.Struct("<I")


class _Blobs:
    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, data: bytes | None) -> list[int] | None:
        if data is None:
            return None
        ref = [self.size, len(data)]
        self.parts.append(data)
        self.size += len(data)
        return ref


def dumps(profile: DatasetProfile) -> bytes:
    """Serialise ``profile`` to bytes (the current format version)."""
    blobs = _Blobs()
    columns = [_column_header(col, blobs) for col in profile.columns.values()]
    sample = profile.sample
    floats = [name for name, dtype in sample.dtypes.items() if dtype == np.float64]
    labels = sample.drop(columns=floats) if len(floats) < sample.shape[1] else None
    block = (sample if labels is None else sample[floats]).to_numpy(dtype="<f8")
    header = {
        "rows": profile.rows,
        "sample_size": profile.sample_rows,  # the profile's sample_rows setting ("sample_rows": rows held)
        "source": profile.source,
        "meta": profile.meta,
        "columns": columns,
        "sample_columns": [str(c) for c in sample.columns],
        "sample_rows": len(sample),
        "sample_floats": {"columns": floats, "data": blobs.add(block.tobytes(order="F"))},
        "sample_keys": blobs.add(np.asarray(profile.sample_keys, dtype="<f8").tobytes()),
        "sample": None if labels is None else blobs.add(_arrow_stream(labels)),
        "segments": [_split_header(split, blobs) for split in profile.segments.values()],
    }
    head = json.dumps(header, separators=(",", ":")).encode()
    body = _PREFIX.pack(MAGIC, VERSION, len(head)) + head + b"".join(blobs.parts)
    return body + _CRC.pack(zlib.crc32(body))


def _arrow_stream(frame: pd.DataFrame) -> bytes:
    sink = pa.BufferOutputStream()
    table = pa.Table.from_pandas(frame, preserve_index=False, nthreads=1)  # small: threads cost more
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def loads(data: bytes) -> DatasetProfile:
    """Parse bytes written by :func:`dumps`."""
    if len(data) < _PREFIX.size + _CRC.size or not data.startswith(MAGIC):
        raise InputError("not an mlwarden profile (bad magic bytes)")
    _, version, head_len = _PREFIX.unpack_from(data)
    if version > VERSION:
        raise InputError(
            f"profile format version {version} is newer than this mlwarden understands ({VERSION})"
        )
    body, (crc,) = data[: -_CRC.size], _CRC.unpack(data[-_CRC.size :])
    if zlib.crc32(body) != crc:
        raise InputError("profile is truncated or corrupted (checksum mismatch)")
    try:
        header = json.loads(body[_PREFIX.size : _PREFIX.size + head_len])
        blob_base = _PREFIX.size + head_len

        def blob(ref: list[int] | None) -> bytes | None:
            if ref is None:
                return None
            start = blob_base + ref[0]
            return body[start : start + ref[1]]

        columns = {c["name"]: _column_from_header(c, blob) for c in header["columns"]}
        sample, keys = _sample_v1(header, blob) if version == 1 else _sample_v2(header, blob)
        splits = [load_split(entry, blob(entry["blob"])) for entry in header.get("segments") or []]
    except (KeyError, TypeError, ValueError, pa.ArrowException) as exc:
        raise InputError(f"profile is malformed: {exc}") from exc
    for name, col in columns.items():
        if name in sample and col.kind in ("categorical", "boolean"):
            sample[name] = sample[name].astype(object).where(sample[name].notna(), None)
    return DatasetProfile(
        rows=int(header["rows"]),
        columns=columns,
        sample=sample,
        sample_keys=keys,
        sample_rows=int(header["sample_size"]),
        source=header.get("source"),
        meta=dict(header.get("meta") or {}),
        segments={split.name: split for split in splits},
    )


def _split_header(split: SegmentSplit, blobs: _Blobs) -> dict[str, Any]:
    head, data = dump_split(split)
    head["blob"] = blobs.add(data)
    return head


def _sample_v1(header: dict[str, Any], blob: Any) -> tuple[pd.DataFrame, np.ndarray]:
    sample = pa.ipc.open_stream(blob(header["sample"])).read_all().to_pandas(use_threads=False)
    return sample, sample.pop("__sample_key__").to_numpy(dtype="float64")


def _sample_v2(header: dict[str, Any], blob: Any) -> tuple[pd.DataFrame, np.ndarray]:
    rows, floats = int(header["sample_rows"]), header["sample_floats"]
    block = np.frombuffer(blob(floats["data"]), dtype="<f8").reshape(len(floats["columns"]), rows)
    sample = pd.DataFrame(block.T.astype(np.float64), columns=floats["columns"])  # one 2-D block, copied
    if header["sample"] is not None:
        labels = pa.ipc.open_stream(blob(header["sample"])).read_all().to_pandas(use_threads=False)
        sample = pd.concat([sample, labels], axis=1)[header["sample_columns"]]
    keys = np.frombuffer(blob(header["sample_keys"]), dtype="<f8").astype(np.float64)
    if keys.size != rows:
        raise ValueError(f"{keys.size} sample keys for {rows} sample rows")
    return sample, keys


def load_profile(path: str | Path) -> DatasetProfile:
    """Read a profile saved with :meth:`DatasetProfile.save`."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    try:
        return loads(path.read_bytes())
    except InputError as exc:
        raise InputError(f"{path}: {exc}") from None


def is_profile_file(path: str | Path) -> bool:
    """Whether ``path`` starts with the profile magic bytes."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def _column_header(col: ColumnProfile, blobs: _Blobs) -> dict[str, Any]:
    head: dict[str, Any] = {"name": col.name, "kind": col.kind, "count": col.count, "missing": col.missing}
    if col.is_numeric:
        head.update(
            nonfinite=col.nonfinite,
            min=col.min,
            max=col.max,
            n=col.moments.n,
            mean=col.moments.mean,
            m2=col.moments.scaled_m2,
            m2_exponent=col.moments.exponent,
            edges=blobs.add(_raw(col.edges, "<f8")),
            hist=blobs.add(_raw(col.hist, "<i8")),
            bin_sums=blobs.add(_raw(col.bin_sums, "<f8")),
            sketch=blobs.add(None if col.sketch is None else col.sketch.serialize()),
        )
    elif not col.is_empty:
        head.update(categories=col.categories, other=col.other, capped=col.capped, cap=col.cap)
    return head


def _raw(array: np.ndarray | None, dtype: str) -> bytes | None:
    return None if array is None else array.astype(dtype, copy=False).tobytes()


def _column_from_header(head: dict[str, Any], blob: Any) -> ColumnProfile:
    if head["kind"] not in KINDS:
        raise ValueError(f"column {head['name']!r} has unknown kind {head['kind']!r}")
    col = ColumnProfile(
        name=head["name"], kind=head["kind"], count=int(head["count"]), missing=int(head["missing"])
    )
    if col.is_empty:
        return col
    if col.is_numeric:
        col.nonfinite = int(head["nonfinite"])
        col.min, col.max = float(head["min"]), float(head["max"])
        scale = int(head.get("m2_exponent", 0))
        col.moments = Moments(int(head["n"]), float(head["mean"]), float(head["m2"]), scale)
        edges, hist, sketch = blob(head["edges"]), blob(head["hist"]), blob(head["sketch"])
        col.edges = None if edges is None else np.frombuffer(edges, dtype="<f8").copy()
        col.hist = None if hist is None else np.frombuffer(hist, dtype="<i8").astype(np.int64)
        sums = blob(head.get("bin_sums"))
        col.bin_sums = None if sums is None else np.frombuffer(sums, dtype="<f8").copy()
        col.sketch = None if sketch is None else kll_doubles_sketch.deserialize(sketch)
    else:
        col.categories = {str(k): int(v) for k, v in head["categories"].items()}
        col.other, col.capped, col.cap = int(head["other"]), bool(head["capped"]), int(head["cap"])
    return col
