"""``mlwarden serve`` as a real process on a free loopback port: for tests that kill it (SIGKILL) or run
several side by side on one store."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcess:
    """``with ServeProcess(db, log) as server: server.url`` — started, answering ``/healthz``; stopped (or
    killed) on exit. ``args`` go to ``mlwarden serve`` (e.g. ``--workers 2``, ``--evaluate-every 0.2``)."""

    def __init__(self, db: str, log: Path, *args: str, port: int | None = None) -> None:
        self.db, self.log_path, self.args = db, log, args
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> ServeProcess:
        command = [sys.executable, "-m", "mlwarden", "serve", "--db", self.db, "--port", str(self.port)]
        command += ["--log-level", "warning", *self.args]
        with open(self.log_path, "a") as log:
            self.process = subprocess.Popen(command, stderr=log, stdout=log, env=os.environ.copy())
        deadline = time.monotonic() + 180  # workers import everything again: slow on a busy machine
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mlwarden serve exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"mlwarden serve did not answer on {self.url}")

    def kill(self) -> None:
        """SIGKILL the server and its workers at once: nothing gets to finish or clean up."""
        if self.process is not None and self.process.poll() is None:
            for pid in _children(self.process.pid):
                os.kill(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_worker(db: str, log: Path, *args: str) -> subprocess.Popen:
    """``mlwarden worker --db DB ARGS`` (e.g. ``--interval 3600 --send-every 0.1``: a second sender), its
    output appended to ``log``; stop it with ``terminate()``."""
    with open(log, "a") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "mlwarden", "worker", "--db", db, *args],
            stderr=out,
            stdout=out,
            env=os.environ.copy(),
        )


def _children(pid: int) -> list[int]:
    """Descendant process ids (uvicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
                found += _children(int(entry.name))
    return found
