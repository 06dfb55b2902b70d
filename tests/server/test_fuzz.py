"""Fuzzing the served OpenAPI with schemathesis: every operation, with a valid admin token, on a real server
over SQLite and PostgreSQL (PostgreSQL is where over-long strings, NUL characters and out-of-range integers
used to end in 500s). No answer may be a 5xx, and every answer must match the published schema (status
code, content type, body). Bounded: ``FUZZ_EXAMPLES`` cases an operation, derandomized (the same cases on
every run; conftest's hypothesis profile)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from postgres import fresh_postgres
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation import GenerationMode
from service_data import parquet_bytes, past_window, records, reference_frame

from mlwarden.registry import create_token
from mlwarden.server import create_app
from mlwarden.server.background import BackgroundServer
from mlwarden.store import Store

FUZZ_EXAMPLES = 80  # per operation and backend
PATH_VALUES = {"name": "churn", "version": "v1"}
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)
SENT: Counter[str] = Counter()  # requests per backend, reported at the end of the module


class Served:
    """A real server on a fresh store: model ``churn`` with a reference, a version and one batch (so that
    fuzzed paths naming it reach the handlers), and an admin token."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.store = Store(str(tmp / "fuzz.db") if backend == "sqlite" else fresh_postgres())
        token = create_token(self.store, team="growth", name="admin", scopes=["admin"])
        self.headers = {"Authorization": f"Bearer {token}"}
        self.server = BackgroundServer(self.store, evaluate_every=None, max_body=1_000_000).__enter__()

        with httpx.Client(base_url=self.server.url, headers=self.headers, timeout=60) as client:
            client.post("/v1/models", json={"name": "churn"}).raise_for_status()
            client.post(
                "/v1/models/churn/reference",
                content=parquet_bytes(reference_frame(500)),
                headers={"Content-Type": "application/vnd.apache.parquet"},
            ).raise_for_status()
            client.post("/v1/models/churn/versions", json={"version": "v1"}).raise_for_status()
            body = {"batch_id": "b", "records": records(reference_frame(50), past_window(), prefix="p")}
            client.post("/v1/models/churn/batches", json=body).raise_for_status()

    def close(self) -> None:
        self.server.__exit__(None, None, None)
        self.store.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    served = Served(request.param, tmp_path_factory.mktemp(f"fuzz-{request.param}"))
    yield served
    served.close()
    print(f"\nfuzz {request.param}: {SENT[request.param]:,} requests, 0 answers 5xx")


def _operations() -> list:
    """The operations of the OpenAPI document the server publishes (the same app, built without a store)."""
    app = create_app(Store("sqlite://", migrate=False), evaluate_every=None)
    return [result.ok() for result in schemathesis.openapi.from_dict(app.openapi()).get_all_operations()]


OPERATIONS = _operations()


def test_the_served_document_is_the_one_fuzzed(served: Served) -> None:
    served_document = httpx.get(f"{served.server.url}/openapi.json").json()
    assert served_document == create_app(Store("sqlite://", migrate=False), evaluate_every=None).openapi()


JSON_BODY_ROUTES = [
    (operation.method.upper(), operation.path)
    for operation in OPERATIONS
    if "application/json" in (operation.definition.raw.get("requestBody") or {}).get("content", {})
]


@pytest.mark.parametrize(("method", "path"), JSON_BODY_ROUTES)
def test_a_json_body_that_is_not_utf8_is_a_422_naming_the_body(
    method: str, path: str, served: Served
) -> None:
    """The kind of the fuzz test's first find: FastAPI answered an undecodable body with an undocumented
    400."""
    url = served.server.url + path.format(**PATH_VALUES)
    headers = {**served.headers, "Content-Type": "application/json"}
    answer = httpx.request(method, url, content=b'{"name": "\xff"}', headers=headers)
    assert answer.status_code == 422 and answer.json() == {
        "detail": "body: not readable as JSON (expected UTF-8 JSON text)"
    }


def _cases(operation):
    """Cases of ``operation``, valid and invalid (schemathesis' positive and negative generation; an
    operation with nothing to make invalid gets valid cases only): paths with any generated values, and
    as many naming the stored model and version, so that generated queries and bodies reach the
    handlers, not only the 404."""
    known = {name: value for name, value in PATH_VALUES.items() if f"{{{name}}}" in operation.path}
    strategies = [operation.as_strategy(mode) for mode in GenerationMode]
    if known:
        strategies += [operation.as_strategy(mode, path_parameters=known) for mode in GenerationMode]
    return st.one_of(strategies)


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.label)
def test_no_request_gets_a_5xx_or_an_answer_off_the_schema(operation, served: Served) -> None:
    @given(case=_cases(operation))
    @settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
    def fuzz(case) -> None:
        response = case.call(base_url=served.server.url, headers=served.headers, timeout=30)
        SENT[served.backend] += 1
        case.validate_response(response, checks=CHECKS)

    fuzz()
