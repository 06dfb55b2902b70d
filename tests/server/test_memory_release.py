"""The server gives freed C-heap memory back to the OS (mlwarden.server.memory), and what it keeps per
request stays bounded: metric series per route template, not per URL."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest
from fastapi.testclient import TestClient

from mlwarden.errors import InputError
from mlwarden.registry import create_token
from mlwarden.server import create_app
from mlwarden.server.memory import TRIM_SECONDS, TRIM_SECONDS_ENV, release_free_memory, trim_seconds
from mlwarden.store import Store

# 100,000 blocks of 1,000 bytes, all freed but the last: glibc keeps the freed ~100 MB below it (only the
# top of a heap is returned on free), as it keeps what a window evaluation freed below later allocations.
FRAGMENTED = """
import ctypes, sys
from mlwarden.server.memory import release_free_memory

def rss_mb():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmRSS:")) / 1024

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
blocks = [libc.malloc(1000) for _ in range(100_000)]
for b in blocks:
    ctypes.memset(b, 1, 1000)  # touched: resident
for b in blocks[:-1]:
    libc.free(b)
kept = rss_mb()
assert release_free_memory()
print(kept, rss_mb())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_release_gives_freed_heap_memory_back() -> None:
    out = subprocess.run([sys.executable, "-c", FRAGMENTED], capture_output=True, text=True, check=True)
    kept, released = map(float, out.stdout.split())
    assert kept - released > 80, (kept, released)  # of the ~100 MB freed, resident until trimmed


def test_trim_interval_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TRIM_SECONDS_ENV, raising=False)
    assert trim_seconds() == TRIM_SECONDS == 10.0
    assert trim_seconds(2.5) == 2.5
    monkeypatch.setenv(TRIM_SECONDS_ENV, "0")
    assert trim_seconds() == 0.0
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv(TRIM_SECONDS_ENV, bad)
        with pytest.raises(InputError, match=f"^{TRIM_SECONDS_ENV}: expected seconds"):
            trim_seconds()


def test_serve_trims_on_a_thread_it_stops(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    monkeypatch.setattr("mlwarden.server.memory.release_free_memory", lambda: calls.append(1) or True)
    app = create_app(store, evaluate_every=None, send_every=None, trim_every=0.05)
    with TestClient(app):
        time.sleep(0.5)
        assert "mlwarden-trimmer" in {t.name for t in threading.enumerate()}
    assert len(calls) >= 3
    assert "mlwarden-trimmer" not in {t.name for t in threading.enumerate()}
    with TestClient(create_app(store, evaluate_every=None, send_every=None, trim_every=0)):
        assert "mlwarden-trimmer" not in {t.name for t in threading.enumerate()}
    assert release_free_memory() is sys.platform.startswith("linux")


def test_latency_series_are_per_route_not_per_url(store: Store) -> None:
    """200 distinct URLs (unknown paths, unknown model names, window ids) add no metric series per URL."""
    app = create_app(store, evaluate_every=None, send_every=None)
    admin = create_token(store, team="growth", name="admin", scopes=["admin"])
    headers = {"Authorization": f"Bearer {admin}"}

    def series() -> set[tuple]:
        latency = app.state.services.metrics.latency
        return {
            tuple(sorted(s.labels.items()))
            for family in latency.collect()
            for s in family.samples
            if s.name.endswith("_count")
        }

    with TestClient(app) as client:
        for i in range(3):
            client.get(f"/v1/models/warmup-{i}/findings", headers=headers)
            client.get(f"/nowhere/{i}")
        before = series()
        for i in range(200):
            assert client.get(f"/v1/models/random-{i}/findings", headers=headers).status_code == 404
            assert client.get(f"/nowhere/{i}").status_code == 404
            assert client.get(f"/v1/alerts/{i + 1}", headers=headers).status_code == 404
        after = series()
    assert len(after - before) <= 1, after - before  # the alert route's 404, nothing per URL
    routes = {dict(labels)["route"] for labels in after}
    assert not any("random-" in r or "/nowhere/" in r for r in routes), routes


@pytest.mark.parametrize("command", [["worker"], ["serve", "--port", "0"]])
def test_a_bad_trim_interval_is_one_line_before_serving(tmp_path, command: list[str]) -> None:
    env = {**os.environ, TRIM_SECONDS_ENV: "often", "MLWARDEN_DB": str(tmp_path / "m.db")}
    result = subprocess.run(
        [sys.executable, "-m", "mlwarden", *command], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"error: {TRIM_SECONDS_ENV}: expected seconds (a number ≥ 0), got 'often'"
