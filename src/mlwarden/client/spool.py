"""The on-disk spool: batches the server has not acknowledged yet, one JSON-lines file per batch.

A file's first line is the batch header (kind, model, batch_id, fingerprint, model_version), every further
line one record. Files are written to a hidden temporary name, flushed to disk and renamed with
``os.replace``, so a reader never sees half a file. Names start with a nanosecond clock, so sorting them is
FIFO order. The total size is bounded: a write that would pass ``max_bytes`` is refused. Several processes
may share a directory: each replays whatever it finds, and the idempotent ``batch_id`` makes a batch sent by
two of them count once.

The dead-letter directory (``dead/`` inside the spool) is a Spool too: batches the server refused for good,
each header holding also the ``error`` (HTTP status, the server's answer, when) — the same format, so moving
a file back into the spool directory once the cause is fixed sends it again.
"""

from __future__ import annotations

import itertools
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlwarden.client.batch import Batch

SUFFIX = ".jsonl"
QUARANTINE = ".bad"  # unreadable files are renamed to this suffix and left for a human
STALE_TMP_SECONDS = 3600  # temporary files older than this were left by a crashed writer


class Spool:
    """A bounded FIFO of batches in ``directory`` (created on first write)."""

    def __init__(self, directory: str | os.PathLike[str], max_bytes: int) -> None:
        self.directory = Path(directory).expanduser()
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._counter = itertools.count()
        self._bytes = 0
        self._files = 0
        self.rescan()

    def reset_lock(self) -> None:
        """A new lock for a forked child (the parent's may have been held by a thread that is gone)."""
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        return self._bytes

    @property
    def files(self) -> int:
        """Spooled batches as last counted (other processes sharing the directory may change it)."""
        return self._files

    def rescan(self) -> list[Path]:
        """Spooled files in FIFO order; recounts the size and removes stale temporary files."""
        if not self.directory.is_dir():
            paths: list[Path] = []
        else:
            now = time.time()
            for tmp in self.directory.glob(".*.tmp"):
                try:
                    if now - tmp.stat().st_mtime > STALE_TMP_SECONDS:
                        tmp.unlink()
                except OSError:
                    continue
            paths = sorted(self.directory.glob(f"*{SUFFIX}"))
        total = 0
        for path in paths:
            try:
                total += path.stat().st_size
            except OSError:  # replayed and removed by another process meanwhile
                continue
        with self._lock:
            self._bytes, self._files = total, len(paths)
        return paths

    def write(self, batch: Batch, error: dict[str, Any] | None = None) -> bool:
        """Store ``batch`` durably (with ``error`` in its header, for a dead letter); False (nothing written)
        when it would not fit in ``max_bytes``."""
        header = batch.header() if error is None else {**batch.header(), "error": error}
        lines = [json.dumps(header, allow_nan=False, separators=(",", ":"))]
        lines += [json.dumps(r, allow_nan=False, separators=(",", ":")) for r in batch.records]
        data = ("\n".join(lines) + "\n").encode()
        with self._lock:
            if self._bytes + len(data) > self.max_bytes:
                return False
            self._bytes += len(data)
            self._files += 1
            name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._counter):08d}{SUFFIX}"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp = self.directory / f".{name}.tmp"
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.directory / name)
        except OSError:
            with self._lock:
                self._bytes -= len(data)
                self._files -= 1
            raise
        return True

    @staticmethod
    def read(path: Path) -> Batch:
        """The batch stored in ``path``; raises ValueError/OSError when the file is unreadable."""
        lines = path.read_text(encoding="utf-8").splitlines()
        if not lines:
            raise ValueError(f"{path.name}: empty spool file")
        header = json.loads(lines[0])
        return Batch.from_header(header, [json.loads(line) for line in lines[1:] if line])

    def remove(self, path: Path) -> None:
        """Delete a spooled file (after the server acknowledged it); a file already gone is fine."""
        self._take(path, path.unlink)

    def quarantine(self, path: Path) -> None:
        """Set an unreadable file aside (renamed with ``.bad``) so replay does not trip on it again."""
        self._take(path, lambda: os.replace(path, path.with_name(path.name + QUARANTINE)))

    def _take(self, path: Path, action: Callable[[], object]) -> None:
        try:
            size = path.stat().st_size
            action()
        except FileNotFoundError:  # replayed and removed by another process meanwhile
            return
        with self._lock:
            self._bytes = max(0, self._bytes - size)
            self._files = max(0, self._files - 1)
