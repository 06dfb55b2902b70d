"""A real HTTP server in a thread speaking the ingestion contract, scripted to answer 200/500/429/413/422 or
to be down; it keeps every body it acknowledged so tests can read what arrived."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pyarrow.ipc

from mlwarden.client.batch import ARROW_STREAM

Reply = tuple[int, dict[str, str], dict[str, Any]]


class Ingest:
    """An HTTP server speaking the ingestion contract. ``replies`` are answered first (FIFO); then ``rule``
    (given the JSON body) may answer; otherwise 200, with ``duplicate`` set for a batch_id seen before."""

    def __init__(self, port: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []  # {"path", "headers", "body", "at"}
        self.accepted: dict[str, dict[str, Any]] = {}  # batch_id -> body of the first 2xx
        self.replies: deque[Reply] = deque()
        self.rule: Callable[[dict[str, Any]], Reply | None] | None = None
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        ingest = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the client expects

            def setup(self) -> None:
                super().setup()
                with ingest._lock:
                    ingest._connections.add(self.connection)

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers["Content-Type"] == ARROW_STREAM:  # the records layout: back to its JSON body
                    query = dict(parse_qsl(urlsplit(self.path).query))
                    records = pyarrow.ipc.open_stream(data).read_all().to_pylist()
                    body = {
                        "batch_id": query["batch_id"],
                        "fingerprint": query.get("fingerprint"),
                        "model_version": query.get("model_version"),
                        "records": records,
                    }
                else:
                    body = json.loads(data)
                status, headers, answer = ingest.answer(urlsplit(self.path).path, dict(self.headers), body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in {**headers, "Content-Type": "application/json"}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # client timed out
                    self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return

        return Handler

    def answer(self, path: str, headers: dict[str, str], body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "body": body, "at": time.monotonic()})
            reply = self.replies.popleft() if self.replies else (self.rule(body) if self.rule else None)
            if reply is not None:
                return reply
            duplicate = body["batch_id"] in self.accepted
            self.accepted.setdefault(body["batch_id"], body)
        rows = len(body.get("records", body.get("labels", [])))
        return 200, {}, {"batch_id": body["batch_id"], "rows": rows, "duplicate": duplicate}

    def rows(self, key: str = "records") -> list[dict[str, Any]]:
        """Every record the server acknowledged, each batch counted once."""
        return [r for body in list(self.accepted.values()) for r in body.get(key, [])]

    def stop(self) -> None:
        """Go down hard: stop listening and cut the client's keep-alive connections."""
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        self._thread.join()


def wait_until(condition: Callable[[], bool], seconds: float = 4.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()
