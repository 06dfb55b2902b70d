"""Real local servers the receivers are tested against (never mocks): an HTTP recorder (Slack, PagerDuty),
an SMTP server (aiosmtpd, optionally STARTTLS with a self-signed certificate and AUTH) and a real
Prometheus Alertmanager process."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

ALERTMANAGER = "/usr/bin/prometheus-alertmanager"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpRecorder:
    """``with HttpRecorder() as server: server.url`` — records every POST; answers ``statuses`` in turn
    (then ``default``), or 400 with the problems ``validate(body)`` returns; waits ``delay`` seconds before
    answering (to test timeouts)."""

    def __init__(
        self,
        *,
        statuses: list[int] | None = None,
        default: int = 200,
        answer: Any = "ok",
        validate: Callable[[Any], list[str]] | None = None,
        delay: float = 0.0,
    ) -> None:
        self.requests: list[Request] = []
        self.statuses, self.default, self.answer = list(statuses or []), default, answer
        self.validate, self.delay = validate, delay
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                recorder.requests.append(Request(self.path, dict(self.headers.items()), body))
                time.sleep(recorder.delay)
                status, answer = recorder._answer(body)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _answer(self, body: bytes) -> tuple[int, Any]:
        if self.validate is not None:
            try:
                problems = self.validate(json.loads(body))
            except ValueError as exc:
                problems = [f"invalid JSON: {exc}"]
            if problems:
                return 400, {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": problems,
                }
        status = self.statuses.pop(0) if self.statuses else self.default
        return status, self.answer

    def __enter__(self) -> HttpRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# PagerDuty Events API v2 (POST /v2/enqueue), as its reference documents it.
PD_ACTIONS = ("trigger", "acknowledge", "resolve")
PD_SEVERITIES = ("critical", "error", "warning", "info")
PD_TOP = {"routing_key", "event_action", "dedup_key", "payload", "images", "links", "client", "client_url"}
PD_PAYLOAD = {"summary", "source", "severity", "timestamp", "component", "group", "class", "custom_details"}


def pagerduty_problems(event: Any) -> list[str]:
    """Every way ``event`` breaks the Events API v2 schema (unknown keys included); empty when valid."""
    if not isinstance(event, dict):
        return ["event: expected an object"]
    problems = [f"{key}: unknown field" for key in event.keys() - PD_TOP]
    if not isinstance(event.get("routing_key"), str) or len(event["routing_key"]) != 32:
        problems.append("routing_key: expected a 32-character integration key")
    action = event.get("event_action")
    if action not in PD_ACTIONS:
        problems.append(f"event_action: expected one of {PD_ACTIONS}")
    dedup = event.get("dedup_key")
    if action != "trigger" and dedup is None:
        problems.append("dedup_key: required to acknowledge or resolve")
    if dedup is not None and (not isinstance(dedup, str) or not 0 < len(dedup) <= 255):
        problems.append("dedup_key: expected a string of 1 to 255 characters")
    payload = event.get("payload")
    if action == "trigger" and not isinstance(payload, dict):
        problems.append("payload: required to trigger")
    if isinstance(payload, dict):
        problems += [f"payload.{key}: unknown field" for key in payload.keys() - PD_PAYLOAD]
        summary = payload.get("summary")
        if not isinstance(summary, str) or not 0 < len(summary) <= 1024:
            problems.append("payload.summary: expected a string of 1 to 1024 characters")
        if not isinstance(payload.get("source"), str) or not payload["source"]:
            problems.append("payload.source: expected a non-empty string")
        if payload.get("severity") not in PD_SEVERITIES:
            problems.append(f"payload.severity: expected one of {PD_SEVERITIES}")
        if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
            problems.append("payload.custom_details: expected an object")
        if "timestamp" in payload:
            try:
                from datetime import datetime

                datetime.fromisoformat(payload["timestamp"])
            except (TypeError, ValueError):
                problems.append("payload.timestamp: expected ISO 8601")
    for i, link in enumerate(event.get("links", [])):
        if (
            not isinstance(link, dict)
            or not isinstance(link.get("href"), str)
            or set(link) - {"href", "text"}
        ):
            problems.append(f"links[{i}]: expected {{href, text}}")
    return problems


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.original_content))
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.tls.append(session.ssl is not None)
        return "250 Message accepted for delivery"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for CN=localhost / IP 127.0.0.1, made with the ``openssl`` command line."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class SmtpServer:
    """``with SmtpServer(...) as smtp: smtp.port, smtp.mailbox`` — a real aiosmtpd server on loopback.

    ``certificate=(cert, key)`` offers STARTTLS and requires it; ``users={name: password}`` requires AUTH
    (PLAIN/LOGIN), only over TLS when a certificate is given."""

    def __init__(
        self, *, certificate: tuple[Path, Path] | None = None, users: dict[str, str] | None = None
    ) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        self.mailbox = Mailbox()
        self.port = free_port()
        context = None
        if certificate is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, certificate))
        mailbox = self.mailbox

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            login = data.login.decode() if isinstance(data.login, bytes) else data.login
            password = data.password.decode() if isinstance(data.password, bytes) else data.password
            if users is not None and users.get(login) == password:
                mailbox.logins.append(login)
                return AuthResult(success=True)
            return AuthResult(success=False, handled=False)

        self._controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=context,
            require_starttls=context is not None,
            authenticator=authenticate if users is not None else None,
            auth_required=users is not None,
            auth_require_tls=context is not None,
        )

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


class Alertmanager:
    """``with Alertmanager(tmp_path) as am: am.url`` — the real Prometheus Alertmanager binary on loopback,
    with a temporary configuration (one receiver that sends nowhere), clustering off."""

    CONFIG = "route:\n  receiver: blackhole\n  group_by: [model, check]\nreceivers:\n  - name: blackhole\n"

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> Alertmanager:
        binary = shutil.which("prometheus-alertmanager") or ALERTMANAGER
        if not os.path.exists(binary):
            raise RuntimeError(f"{binary} is missing: apt-get install -y prometheus-alertmanager")
        config = self.directory / "alertmanager.yml"
        config.write_text(self.CONFIG)
        (self.directory / "am-data").mkdir(exist_ok=True)
        self._log = open(self.directory / "alertmanager.log", "wb")
        self._process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={self.directory / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        self.__exit__()
        log = (self.directory / "alertmanager.log").read_text(errors="replace")
        raise RuntimeError(f"Alertmanager did not start on {self.url}: {log[-2000:]}")

    def __exit__(self, *exc: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._log.close()

    def alerts(self) -> list[dict[str, Any]]:
        """The alerts it holds that are not resolved (``GET /api/v2/alerts``)."""
        response = httpx.get(f"{self.url}/api/v2/alerts", timeout=5)
        response.raise_for_status()
        return response.json()
