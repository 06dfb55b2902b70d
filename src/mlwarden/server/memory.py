"""Giving freed memory back to the operating system, so a long-running server's resident memory stays flat.

glibc's ``malloc`` keeps memory a thread freed in that thread's arena for reuse (up to 8 arenas per core,
each growing to the largest working set its threads ever had: a window evaluation decoding hundreds of
profiles, a batch being profiled). Nothing leaks, but the resident size settles at the sum of the arenas'
peaks, not at the working set: under ``bench/load.py`` (8 minutes, SQLite) ~920 MB without trimming, ~650
MB with it, both flat after warm-up; with tracemalloc, the Python heap stayed flat while glibc's
free-but-kept bytes grew. ``malloc_trim(0)`` hands every arena's free pages back (``madvise``);
:class:`Trimmer` calls it every :data:`TRIM_SECONDS` seconds on a daemon thread (``$MLWARDEN_TRIM_SECONDS``;
0 turns it off). On a C library without ``malloc_trim`` (musl, macOS) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
from collections.abc import Callable
from functools import cache

from mlwarden.errors import InputError

log = logging.getLogger("mlwarden.server")
TRIM_SECONDS = 10.0
TRIM_SECONDS_ENV = "MLWARDEN_TRIM_SECONDS"


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: its allocator returns memory its own way
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return the C heap's free pages to the OS (glibc ``malloc_trim(0)``); False when unavailable."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def trim_seconds(configured: float | None = None) -> float:
    """Seconds between trims: ``configured`` if given, else ``$MLWARDEN_TRIM_SECONDS``, else 10 (0: off).
    Raises InputError naming the variable for a value that is not a number ≥ 0."""
    if configured is None:
        raw = os.environ.get(TRIM_SECONDS_ENV, "").strip()
        try:
            configured = float(raw) if raw else TRIM_SECONDS
        except ValueError:
            raise InputError(f"{TRIM_SECONDS_ENV}: expected seconds (a number ≥ 0), got {raw!r}") from None
    if not configured >= 0:  # NaN too
        raise InputError(f"{TRIM_SECONDS_ENV}: expected seconds (a number ≥ 0), got {configured!r}")
    return configured


class Trimmer:
    """Calls :func:`release_free_memory` every ``interval`` seconds on a daemon thread (serve, worker)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mlwarden-trimmer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if not release_free_memory():
                    return
            except Exception:  # never worth stopping anything for
                log.exception("releasing free memory failed")
                return
