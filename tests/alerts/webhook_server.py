"""A real HTTP server in a thread that records what webhook receivers are sent, scripted to answer a
status per request (default 200)."""

from __future__ import annotations

import json
import threading
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookServer:
    """``with WebhookServer() as hook: hook.url``; ``hook.requests`` holds ``{"path", "headers", "body",
    "raw"}`` of every POST; ``hook.statuses`` answers the next requests (FIFO) before the default 200."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.statuses: deque[int] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                with hook._lock:
                    status = hook.statuses.popleft() if hook.statuses else 200
                    if status < 300:
                        hook.requests.append(
                            {
                                "path": self.path,
                                "headers": dict(self.headers),
                                "body": json.loads(raw),
                                "raw": raw,
                            }
                        )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        return Handler

    def keys(self) -> list[str]:
        """The idempotency keys received, in order."""
        with self._lock:
            return [r["headers"]["Idempotency-Key"] for r in self.requests]

    def __enter__(self) -> WebhookServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
