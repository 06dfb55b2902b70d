"""Run the API in a background thread on a free loopback port: for the demo, examples and tests."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import httpx
import uvicorn

from mlwarden.server.app import create_app
from mlwarden.store import Store


class BackgroundServer:
    """``with BackgroundServer(store) as server: server.url`` — a real uvicorn server, stopped on exit.

    Keyword arguments go to :func:`create_app` (``auth``, ``evaluate_every``, ``max_body``).
    """

    def __init__(self, store: Store, *, host: str = "127.0.0.1", port: int = 0, **app_options: Any) -> None:
        self.store = store
        self.host = host
        self.port = port or _free_port(host)
        self.url = f"http://{host}:{self.port}"
        config = uvicorn.Config(
            create_app(store, **app_options), host=host, port=self.port, log_level="warning", access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="mlwarden-server", daemon=True)

    def __enter__(self) -> BackgroundServer:
        self._thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError(f"the mlwarden server did not start on {self.url}")

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=20)


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]
