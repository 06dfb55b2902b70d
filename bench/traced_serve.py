"""Run the mlwarden CLI with tracemalloc on: diagnostics for ``bench/load.py --trace`` (never in production).

    python bench/traced_serve.py OUT WARMUP EVERY FRAMES serve --port 8000 ...

Starts :mod:`tracemalloc` keeping ``FRAMES`` frames per allocation. Every 10 s appends to ``OUT`` the
Python heap tracemalloc sees beside the process's resident memory (``heap`` lines: when RSS grows and the
heap does not, the growth is native — Arrow's pool, SQLite's page cache, glibc's arenas). ``WARMUP`` seconds
in it snapshots the heap, then every ``EVERY`` seconds appends the 25 tracebacks whose allocated size grew
most since that snapshot (size and block count differences). Tracing costs CPU: one frame costs least.
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
import tracemalloc

TOP = 25
HEAP_EVERY = 10.0


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


class MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
            "keepcost",
        )
    ]  # fmt: skip


def native() -> str:
    """glibc's heap (bytes in use and free but kept, over all arenas; mmapped chunks) and Arrow's pool."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    info = libc.mallinfo2()
    import pyarrow as pa

    pool = pa.default_memory_pool()
    return (
        f"malloc in use {info.uordblks / 2**20:7.1f} MB, free kept {info.fordblks / 2**20:7.1f} MB, "
        f"mmapped {info.hblkhd / 2**20:6.1f} MB; "
        f"arrow ({pool.backend_name}) {pool.bytes_allocated() / 2**20:6.1f} MB"
    )


def watch(out: str, warmup: float, every: float, frames: int) -> None:
    started = time.monotonic()
    baseline, last_diff = None, started
    while True:
        time.sleep(HEAP_EVERY)
        now = time.monotonic()
        with open(out, "a") as fh:
            heap = tracemalloc.get_traced_memory()[0] / 2**20
            fh.write(
                f"heap {now - started:5.0f} s: rss {rss_mb():7.1f} MB, python {heap:7.1f} MB, {native()}\n"
            )
        if baseline is None and now - started >= warmup:
            baseline, last_diff = tracemalloc.take_snapshot(), now
        elif baseline is not None and now - last_diff >= every:
            last_diff = now
            stats = tracemalloc.take_snapshot().compare_to(baseline, "traceback")
            with open(out, "a") as fh:
                fh.write(f"=== growth since warm-up, {now - started:.0f} s in\n")
                for stat in stats[:TOP]:
                    fh.write(f"{stat.size_diff / 1024:+10.1f} KiB {stat.count_diff:+8d} blocks\n")
                    for line in stat.traceback.format(most_recent_first=True)[: 2 * frames]:
                        fh.write(f"      {line}\n")
            del stats


def main() -> None:
    out, warmup, every, frames, *argv = sys.argv[1:]
    tracemalloc.start(int(frames))
    threading.Thread(target=watch, args=(out, float(warmup), float(every), int(frames)), daemon=True).start()
    from mlwarden.cli import main as cli

    sys.argv = ["mlwarden", *argv]
    cli()


if __name__ == "__main__":
    main()
