"""Security of the HTTP API, on SQLite and PostgreSQL: team isolation, scopes, no file reads, /metrics.

The route-table tests iterate the app's route table (``mlwarden.server.routes.api_routes``): a route
added later is covered without editing this file (a route with a JSON body needs an example body in
``EXAMPLE_BODIES``, and a test fails until it has one).
"""

from __future__ import annotations

import sys
import threading
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient
from service_data import parquet_bytes, past_window, records, reference_frame
from sqlalchemy import func, select

from mlwarden.errors import InputError
from mlwarden.registry import Actor, Registry, create_token
from mlwarden.server import create_app
from mlwarden.server.routes import api_routes
from mlwarden.server.windows import evaluate_due
from mlwarden.store import Store
from mlwarden.store.schema import AuditEntry, Model, StoredFinding

METRICS_TOKEN = "scrape-secret-for-tests"
PATH_VALUES = {"name": "churn", "version": "v1"}
EXAMPLE_BODIES = {  # a valid body for every route whose body FastAPI validates before the handler runs
    ("POST", "/v1/models"): {"name": "fresh"},
    ("PATCH", "/v1/models/{name}"): {"description": "changed"},
    ("POST", "/v1/models/{name}/versions"): {"version": "v2"},
    ("PUT", "/v1/models/{name}/versions/{version}/stage"): {"stage": "challenger"},
    ("POST", "/v1/models/{name}/labels"): {"batch_id": "l-1", "labels": [{"id": "a", "label": 1}]},
}


def guarded_routes() -> list[tuple[str, str]]:
    """``(method, path)`` of every /v1 route and /metrics, read from the app's route table."""
    return sorted(
        (method, route.path)
        for route in api_routes()
        if route.path.startswith("/v1/") or route.path == "/metrics"
        for method in route.methods
    )


ROUTES = guarded_routes()
MODEL_ROUTES = [(m, p) for m, p in ROUTES if "{name}" in p]
WRITE_ROUTES = [(m, p) for m, p in ROUTES if m != "GET"]
TEAM_WIDE_READS = [(m, p) for m, p in ROUTES if m == "GET" and "{name}" not in p]


class Teams:
    """Team growth owns model churn (version v1, a reference); team risk owns model fraud."""

    def __init__(self, client: TestClient, store: Store) -> None:
        self.client, self.store = client, store
        self.growth_admin = create_token(store, team="growth", name="admin", scopes=["admin"])
        self.growth_read = create_token(store, team="growth", name="reader", scopes=["read"])
        self.risk_admin = create_token(store, team="risk", name="admin", scopes=["admin"])

    def request(self, method: str, path: str, token: str | None, name: str = "churn", **kwargs):
        url = path.format(**{**PATH_VALUES, "name": name})
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = EXAMPLE_BODIES.get((method, path))
        if body is not None and "content" not in kwargs:
            kwargs["json"] = body
        return self.client.request(method, url, headers=headers | kwargs.pop("headers", {}), **kwargs)

    def as_(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def teams(store: Store):
    app = create_app(store, evaluate_every=None, max_body=2_000_000, metrics_token=METRICS_TOKEN)
    with TestClient(app) as client:
        t = Teams(client, store)
        growth, risk = t.as_(t.growth_admin), t.as_(t.risk_admin)
        assert client.post("/v1/models", json={"name": "churn"}, headers=growth).status_code == 201
        assert client.post("/v1/models", json={"name": "fraud"}, headers=risk).status_code == 201
        assert client.post("/v1/models/churn/versions", json={"version": "v1"}, headers=growth).is_success
        reference = client.post(
            "/v1/models/churn/reference",
            content=parquet_bytes(reference_frame(500)),
            headers={**growth, "Content-Type": "application/vnd.apache.parquet"},
        )
        assert reference.status_code == 201, reference.text
        yield t


def audit_count(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(AuditEntry))


def test_every_route_with_a_json_body_has_an_example() -> None:
    validated = {
        (method, route.path)
        for route in api_routes()
        if route.body_field is not None
        for method in route.methods
    }
    assert validated <= set(EXAMPLE_BODIES), (
        f"add example bodies for {sorted(validated - set(EXAMPLE_BODIES))}"
    )


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_no_token_or_an_unknown_one_is_401(teams: Teams, method: str, path: str) -> None:
    for token in (None, "mlw_not-a-real-token"):
        response = teams.request(method, path, token)
        assert response.status_code == 401, (method, path, token, response.text)
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(("method", "path"), MODEL_ROUTES)
def test_another_teams_model_is_404_as_a_name_nobody_uses(teams: Teams, method: str, path: str) -> None:
    before = audit_count(teams.store)
    theirs = teams.request(method, path, teams.risk_admin, name="churn")
    nobodys = teams.request(method, path, teams.risk_admin, name="unused")
    assert theirs.status_code == nobodys.status_code == 404, (method, path, theirs.text)
    assert theirs.json()["detail"].replace("churn", "unused") == nobodys.json()["detail"]
    assert audit_count(teams.store) == before  # nothing was changed either


@pytest.mark.parametrize(("method", "path"), WRITE_ROUTES)
def test_a_read_token_cannot_write(teams: Teams, method: str, path: str) -> None:
    before = audit_count(teams.store)
    response = teams.request(method, path, teams.growth_read)
    assert response.status_code == 403, (method, path, response.text)
    assert "scope" in response.json()["detail"] or "operator" in response.json()["detail"]
    assert audit_count(teams.store) == before


@pytest.mark.parametrize(("method", "path"), TEAM_WIDE_READS)
def test_team_wide_reads_never_show_another_teams_models(teams: Teams, method: str, path: str) -> None:
    drifted = reference_frame(300, seed=1)
    drifted["x1"] += 3
    teams.client.post(
        "/v1/models/churn/batches",
        json={"batch_id": "b", "records": records(drifted, past_window(), prefix="b")},
        headers=teams.as_(teams.growth_admin),
    ).raise_for_status()
    assert evaluate_due(teams.store) == 1  # growth now has findings, alerts and drift gauges
    assert teams.client.get("/v1/alerts", headers=teams.as_(teams.growth_read)).json() != []
    response = teams.request(method, path, teams.risk_admin)
    assert response.status_code in (200, 403), (method, path, response.text)  # /v1/audit: operator only
    assert "churn" not in response.text and "growth" not in response.text


def test_a_contract_body_naming_a_file_is_never_opened(teams: Teams, tmp_path) -> None:
    """PUT …/contract used to read a path ending .yaml and quote it in its 422."""
    valid = tmp_path / "valid.yaml"
    valid.write_text("columns:\n  x1: {kind: numeric}\n", encoding="utf-8")
    secret = tmp_path / "secret.yaml"
    secret.write_text("password: [hunter2-SECRET\n", encoding="utf-8")  # invalid YAML, quoted when parsed
    growth, risk = teams.as_(teams.growth_admin), teams.as_(teams.risk_admin)
    with opened_files(tmp_path) as opened:
        for path in (valid, secret):
            response = teams.client.put("/v1/models/churn/contract", content=str(path), headers=growth)
            assert response.status_code == 422 and "SECRET" not in response.text, response.text
            assert "expected a mapping" in response.json()["detail"]
            for name in ("churn", "unused"):  # another team's model or none: 404 before the body is read
                other = teams.client.put(f"/v1/models/{name}/contract", content=str(path), headers=risk)
                assert other.status_code == 404 and "SECRET" not in other.text
    assert opened == []
    huge = teams.client.put("/v1/models/churn/contract", content=b"#" * (1024 * 1024 + 1), headers=growth)
    assert huge.status_code == 413
    contract = teams.client.get("/v1/models/churn/contract", headers=growth).text
    assert "x1" in contract and str(valid) not in contract  # the inferred contract is still in force


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_no_route_opens_a_path_sent_in_its_body_or_query(
    teams: Teams, method: str, path: str, tmp_path
) -> None:
    """Every route, with a path to an existing file as its body, its content types and its query values:
    the server opens nothing under that directory (seen by a Python audit hook on ``open``)."""
    target = tmp_path / "data.yaml"
    target.write_text("columns: {}\n", encoding="utf-8")
    for suffix in ("csv", "parquet", "mlwprof"):
        (tmp_path / f"data.{suffix}").write_bytes(b"x\n1\n")
    with opened_files(tmp_path) as opened:
        for suffix in ("yaml", "csv", "parquet", "mlwprof"):
            body = str(tmp_path / f"data.{suffix}")
            for content_type in (
                "text/plain",
                "text/csv",
                "application/json",
                "application/vnd.apache.parquet",
            ):
                teams.request(
                    method,
                    path,
                    teams.growth_admin,
                    content=body,
                    headers={"Content-Type": content_type},
                    params={"batch_id": body, "check": body, "fingerprint": body},
                )
    assert opened == []


class opened_files:
    """Paths under ``directory`` opened by this process while the block runs (``sys.addaudithook``: audit
    hooks cannot be removed, so the hook records only while a block is active)."""

    _active: ClassVar[list[tuple[str, list[str]]]] = []
    _lock = threading.Lock()
    _installed = False

    def __init__(self, directory) -> None:
        self.directory = str(directory)
        self.opened: list[str] = []

    def __enter__(self) -> list[str]:
        with opened_files._lock:
            if not opened_files._installed:
                sys.addaudithook(opened_files._hook)
                opened_files._installed = True
            opened_files._active.append((self.directory, self.opened))
        return self.opened

    def __exit__(self, *exc: object) -> None:
        with opened_files._lock:
            opened_files._active.remove((self.directory, self.opened))

    @staticmethod
    def _hook(event: str, args: tuple) -> None:
        if event != "open" or not opened_files._active or not args:
            return
        target = args[0]
        if isinstance(target, bytes | str):
            path = target.decode(errors="replace") if isinstance(target, bytes) else target
            for directory, opened in opened_files._active:
                if path.startswith(directory):
                    opened.append(path)


def test_metrics_need_a_token_and_show_only_the_callers_team(teams: Teams) -> None:
    growth = teams.as_(teams.growth_admin)
    batch = {"batch_id": "m", "records": records(reference_frame(50), past_window(), prefix="m")}
    teams.client.post("/v1/models/churn/batches", json=batch, headers=growth).raise_for_status()
    assert teams.client.get("/metrics").status_code == 401
    assert teams.client.get("/metrics", headers=teams.as_("nonsense")).status_code == 401

    own = teams.client.get("/metrics", headers=teams.as_(teams.growth_read)).text
    assert 'mlwarden_ingested_rows_total{kind="predictions",model="churn",team="growth"} 50.0' in own
    assert 'team="risk"' not in own and "fraud" not in own
    assert "mlwarden_request_duration_seconds" not in own  # service-wide: the all-teams scrape's
    theirs = teams.client.get("/metrics", headers=teams.as_(teams.risk_admin)).text
    assert "churn" not in theirs and 'team="growth"' not in theirs

    everything = teams.client.get("/metrics", headers=teams.as_(METRICS_TOKEN)).text
    assert 'model="churn",team="growth"' in everything and "mlwarden_request_duration_seconds" in everything
    assert teams.client.get("/metrics", headers=teams.as_(METRICS_TOKEN + "x")).status_code == 401


def test_model_names_are_per_team_so_registering_one_leaks_nothing(teams: Teams, store: Store) -> None:
    risk, growth = teams.as_(teams.risk_admin), teams.as_(teams.growth_admin)
    taken_elsewhere = teams.client.post(
        "/v1/models", json={"name": "churn", "description": "risk's"}, headers=risk
    )
    unused = teams.client.post("/v1/models", json={"name": "unused"}, headers=risk)
    assert taken_elsewhere.status_code == unused.status_code == 201, taken_elsewhere.text
    assert taken_elsewhere.json()["team"] == "risk"
    again = teams.client.post("/v1/models", json={"name": "churn"}, headers=risk)
    assert again.status_code == 409 and "risk" in again.json()["detail"]

    assert teams.client.get("/v1/models/churn", headers=risk).json()["description"] == "risk's"
    mine = teams.client.get("/v1/models/churn", headers=growth).json()
    assert (
        mine["team"] == "growth"
        and mine["description"] == ""
        and [v["version"] for v in mine["versions"]] == ["v1"]
    )
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Model).where(Model.name == "churn")) == 2
    with pytest.raises(InputError, match="several teams"):  # the operator (CLI) must say which team
        Registry(store).get_model(Actor.operator(), "churn")
    assert Registry(store).get_model(Actor.operator(), "risk/churn")["description"] == "risk's"
    assert teams.client.get("/v1/models/risk%2Fchurn", headers=growth).status_code == 404


def test_the_check_filter_matches_literally(teams: Teams, store: Store) -> None:
    checks = ["a%b.x", "axb.x", "d_t.x", "dat.x", "data.missing", "drift"]
    with store.session() as session:
        model_id = session.scalar(select(Model.id).where(Model.name == "churn"))
        start = datetime.now(UTC) - timedelta(hours=2)
        session.add_all(
            StoredFinding(model_id=model_id, check=c, severity="warning", message=c, window_start=start)
            for c in checks
        )
    growth = teams.as_(teams.growth_admin)

    def found(check: str) -> list[str]:
        response = teams.client.get("/v1/models/churn/findings", params={"check": check}, headers=growth)
        return sorted(f["check"] for f in response.json())

    assert found("a%b.") == ["a%b.x"]
    assert found("d_t.") == ["d_t.x"]
    assert found("%.") == [] and found("_") == [] and found("%") == []
    assert found("data.") == ["data.missing"]
    assert found("drift") == ["drift"]


def test_evaluate_now_touches_only_the_callers_team(teams: Teams) -> None:
    batch = {"batch_id": "e", "records": records(reference_frame(50), past_window(), prefix="e")}
    growth = teams.as_(teams.growth_admin)
    teams.client.post("/v1/models/churn/batches", json=batch, headers=growth).raise_for_status()
    assert teams.client.post("/v1/evaluate", headers=teams.as_(teams.risk_admin)).json() == {"evaluated": 0}
    assert teams.client.get("/v1/models/churn/windows", headers=growth).json()[0]["status"] == "open"
    assert teams.client.post("/v1/evaluate", headers=growth).json() == {"evaluated": 1}


def test_caches_stay_bounded_under_random_tokens_and_names(store: Store) -> None:
    app = create_app(store, evaluate_every=None, cache_items=20)
    admin = create_token(store, team="growth", name="admin", scopes=["admin"])
    with TestClient(app) as client:
        for i in range(200):
            assert (
                client.get("/v1/models", headers={"Authorization": f"Bearer mlw_random{i}"}).status_code
                == 401
            )
            response = client.get(
                f"/v1/models/random-{i}/findings", headers={"Authorization": f"Bearer {admin}"}
            )
            assert response.status_code == 404
        sizes = {name: len(cache) for name, cache in app.state.services.caches.items()}
        assert max(sizes.values()) <= 20, sizes
        assert sizes["actors"] == 20 and sizes["models"] == 20
        scrape = client.get("/metrics", headers={"Authorization": f"Bearer {admin}"})
        assert "random-" not in scrape.text  # no series per unknown name either


def test_error_bodies_match_the_published_schema(teams: Teams) -> None:
    """422s from our validation (a string) and from FastAPI's (a list of fields) are both published."""
    paths = teams.client.get("/openapi.json").json()["paths"]
    for method, path in ROUTES:
        if path == "/metrics":
            continue  # not in the schema (Prometheus text)
        responses = paths[path][method.lower()]["responses"]
        assert {"401", "403", "404", "422"} <= set(responses), (method, path)
        alternatives = responses["422"]["content"]["application/json"]["schema"]["anyOf"]
        assert {a["$ref"].rsplit("/", 1)[1] for a in alternatives} == {"ErrorOut", "ValidationErrorOut"}
    growth = teams.as_(teams.growth_admin)
    ours = teams.client.post("/v1/models/churn/batches", json={"records": []}, headers=growth)
    fastapis = teams.client.post("/v1/models/churn/labels", json={"batch_id": ""}, headers=growth)
    assert ours.status_code == fastapis.status_code == 422
    assert isinstance(ours.json()["detail"], str) and set(ours.json()) == {"detail"}
    assert {"loc", "msg", "type"} <= set(fastapis.json()["detail"][0])
    for response in (teams.client.get("/v1/models/unused", headers=growth), teams.client.get("/v1/models")):
        assert set(response.json()) == {"detail"} and isinstance(response.json()["detail"], str)


def test_the_route_table_holds_every_route_the_app_documents() -> None:
    app = create_app(Store("sqlite://", migrate=False), evaluate_every=None)
    served = {route.path for route in api_routes()}
    assert set(app.openapi()["paths"]) <= served
    assert len(ROUTES) > 15 and ("GET", "/metrics") in ROUTES
