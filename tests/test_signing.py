"""Signed POSTs and ``${ENV}`` secret references."""

import hashlib
import hmac
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from mlwarden.errors import InputError
from mlwarden.schema import secrets
from mlwarden.signing import SIGNATURE_HEADER, post_signed, signature_header, verify_signature


def test_signature_is_hmac_sha256_of_timestamp_dot_body():
    header = signature_header(b'{"a":1}', "s3cret", now=1_700_000_000)
    expected = hmac.new(b"s3cret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_verify_rejects_other_body_secret_old_timestamp_and_garbage():
    header = signature_header(b"body", "k", now=1000)
    assert verify_signature(header, b"body", "k", now=1100)
    assert not verify_signature(header, b"bodY", "k", now=1100)
    assert not verify_signature(header, b"body", "other", now=1100)
    assert not verify_signature(header, b"body", "k", now=1000 + 301)
    for garbage in ("", "t=x,v1=y", "v1=abc", "nonsense"):
        assert not verify_signature(garbage, b"body", "k", now=1000)


def test_post_signed_reaches_a_real_server_with_key_and_signature():
    seen: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen["body"] = self.rfile.read(int(self.headers["Content-Length"]))
            seen["headers"] = dict(self.headers)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    response = post_signed(url, {"x": 1}, secret="k", idempotency_key="abc")
    thread.join(5)
    server.server_close()
    assert response.status_code == 204
    assert seen["body"] == b'{"x":1}'
    assert seen["headers"]["Idempotency-Key"] == "abc"
    assert verify_signature(seen["headers"][SIGNATURE_HEADER], seen["body"], "k")


def test_secret_references_resolve_from_the_environment(monkeypatch):
    monkeypatch.setenv("MW_TEST_SECRET", "hunter2")
    monkeypatch.delenv("MW_TEST_MISSING", raising=False)
    assert secrets.is_reference("${MW_TEST_SECRET}")
    assert not secrets.is_reference("plain")
    assert secrets.names("a${X}b${Y_2}") == ["X", "Y_2"]
    assert secrets.resolve("https://h/${MW_TEST_SECRET}") == "https://h/hunter2"
    assert secrets.redact("${MW_TEST_SECRET}") == "${MW_TEST_SECRET}"
    assert secrets.redact("hunter2") == "***"
    with pytest.raises(InputError, match=r"^alerts.receivers.hub.webhook.secret: .*MW_TEST_MISSING"):
        secrets.resolve("${MW_TEST_MISSING}", field="alerts.receivers.hub.webhook.secret")
