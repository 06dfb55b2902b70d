"""One model's bad setting or corrupt data never stops another's windows, and is reported, not retried
forever (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from service_data import parquet_bytes, past_window, records, reference_frame
from sqlalchemy import select, update

from mlwarden.errors import InputError
from mlwarden.registry import Actor, ModelSpec, Registry, create_token
from mlwarden.server import create_app
from mlwarden.server.windows import due_windows, evaluate_due
from mlwarden.store import Store
from mlwarden.store.schema import Model, PartialProfile, Reference, Window

CORRUPT = b"MLWPROF\x00 not a profile any more"


class Service:
    """Team growth owns model ``churn``, team risk model ``fraud``: each with a reference, and a batch in
    one closed window (not evaluated yet)."""

    def __init__(self, client: TestClient, store: Store) -> None:
        self.client, self.store = client, store
        self.headers = {}
        for team, model in (("growth", "churn"), ("risk", "fraud")):
            token = create_token(store, team=team, name="admin", scopes=["admin"])
            self.headers[model] = {"Authorization": f"Bearer {token}"}
            client.post("/v1/models", json={"name": model}, headers=self.headers[model]).raise_for_status()
            self.upload_reference(model)

    def upload_reference(self, model: str) -> None:
        self.client.post(
            f"/v1/models/{model}/reference",
            content=parquet_bytes(reference_frame(1_000)),
            headers={**self.headers[model], "Content-Type": "application/vnd.apache.parquet"},
        ).raise_for_status()

    def send_batch(self, model: str, batch_id: str = "b-1") -> dict:
        body = {
            "batch_id": batch_id,
            "records": records(reference_frame(300, seed=1), past_window(), prefix=batch_id),
        }
        response = self.client.post(f"/v1/models/{model}/batches", json=body, headers=self.headers[model])
        assert response.status_code == 200, response.text
        return response.json()

    def model_id(self, name: str) -> int:
        with self.store.session() as session:
            return session.scalar(select(Model.id).where(Model.name == name))

    def windows(self, model: str) -> list[dict]:
        return self.client.get(f"/v1/models/{model}/windows", headers=self.headers[model]).json()

    def findings(self, model: str, check: str) -> list[dict]:
        params = {"check": check}
        return self.client.get(
            f"/v1/models/{model}/findings", params=params, headers=self.headers[model]
        ).json()

    def open_alerts(self, model: str) -> list[dict]:
        return self.client.get("/v1/alerts", headers=self.headers[model]).json()


@pytest.fixture
def service(store: Store):
    with TestClient(create_app(store, evaluate_every=None)) as client:
        yield Service(client, store)


@pytest.mark.parametrize(
    ("field", "value"),
    [("grace_seconds", 10**15), ("grace_seconds", -1), ("window_seconds", 1), ("window_seconds", 10**9)],
)
def test_window_settings_out_of_bounds_are_422_naming_the_field(
    service: Service, field: str, value: int
) -> None:
    headers = service.headers["churn"]
    created = service.client.post("/v1/models", json={"name": "other", field: value}, headers=headers)
    assert created.status_code == 422 and field in created.text, created.text
    patched = service.client.patch("/v1/models/churn", json={field: value}, headers=headers)
    assert patched.status_code == 422 and field in patched.text, patched.text
    with pytest.raises(InputError, match=f"^{field}: expected a whole number of seconds from"):
        Registry(service.store).create_model(
            Actor.operator(), ModelSpec(name="cli", team="growth", **{field: value})
        )


def test_a_models_unusable_grace_never_stops_other_models_windows(service: Service, store: Store) -> None:
    """10**15 seconds of grace (a row from before the bounds; SQLite holds it, PostgreSQL's column holds at
    most 2**31 - 1) overflowed a datetime and stopped every team's windows."""
    service.send_batch("churn")
    service.send_batch("fraud")
    huge = 10**15 if store.backend == "sqlite" else 2**31 - 1
    with store.session() as session:
        session.execute(update(Model).where(Model.name == "churn").values(grace_seconds=huge))
    assert [m for m, _ in due_windows(store)] == [service.model_id("fraud")]  # churn's: 7 days at most
    assert evaluate_due(store) == 1
    assert service.windows("fraud")[0]["status"] == "evaluated"
    assert service.windows("churn")[0]["status"] == "open"


def test_a_corrupt_partial_profile_fails_its_window_and_is_reported(service: Service, store: Store) -> None:
    service.send_batch("churn")
    service.send_batch("fraud")
    with store.session() as session:
        session.execute(
            update(PartialProfile)
            .where(PartialProfile.model_id == service.model_id("churn"))
            .values(profile=CORRUPT)
        )
    assert evaluate_due(store) == 1  # fraud's window; churn's failed
    assert evaluate_due(store) == 0  # and is not retried every tick
    assert service.windows("fraud")[0]["status"] == "evaluated"
    window = service.windows("churn")[0]
    assert window["status"] == "failed" and "partial profile" in window["summary"]["error"]

    [finding] = service.findings("churn", "data.corrupt")
    assert finding["severity"] == "critical" and "unreadable" in finding["message"]
    [alert] = [a for a in service.open_alerts("churn") if a["check"] == "data.corrupt"]
    assert alert["severity"] == "critical" and alert["model"] == "churn"
    scrape = service.client.get("/metrics", headers=service.headers["churn"]).text
    assert 'mlwarden_failed_windows{model="churn",team="growth"} 1.0' in scrape

    service.send_batch("churn", "b-2")  # new data for the window: due again (and fails again, reported)
    assert [m for m, _ in due_windows(store)] == [service.model_id("churn")]
    assert evaluate_due(store) == 0
    assert service.windows("churn")[0]["status"] == "failed"
    [alert] = [a for a in service.open_alerts("churn") if a["check"] == "data.corrupt"]
    assert alert["occurrences"] == 2


def test_a_corrupt_reference_still_stores_batches_and_is_reported(
    service: Service, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    with store.session() as session:
        session.execute(
            update(Reference).where(Reference.model_id == service.model_id("churn")).values(profile=CORRUPT)
        )
    stored = service.send_batch("churn")  # was 422 for every batch, and the SDK dropped them all
    assert stored["duplicate"] is False and stored["rows"] == 300
    assert service.send_batch("churn", "b-1b")["rows"] == 300
    service.send_batch("fraud")
    assert evaluate_due(store) == 1
    # found and logged once: the corruption is kept like a decoded reference, not read again per batch
    logged = [r for r in caplog.records if r.getMessage() == "stored reference is corrupt"]
    assert len(logged) == 1 and "unreadable" in logged[0].error
    [finding] = service.findings("churn", "data.corrupt")
    assert "reference" in finding["message"] and "upload it again" in finding["message"]
    assert service.windows("churn")[0]["status"] == "failed"

    service.upload_reference("churn")  # the fix: a new reference, then the window's next data evaluates
    service.send_batch("churn", "b-2")
    assert evaluate_due(store) == 1
    assert service.windows("churn")[0]["status"] == "evaluated"
    with store.session() as session:
        assert session.scalar(select(Window.status).where(Window.model_id == service.model_id("fraud"))) == (
            "evaluated"
        )


def test_values_the_store_refuses_and_addresses_nobody_can_use_are_422(service: Service) -> None:
    """Found by the fuzz test: a NUL in a ledger record's text (a PostgreSQL DataError), a config version
    beyond the column's range, and an owner email that is no address (later a 500 on /v1/owners/audit)."""
    headers = service.headers["churn"]
    service.client.post("/v1/models/churn/versions", json={"version": "v2"}, headers=headers)
    record = {"candidate": "v2", "trigger": "a\x00b", "gate": {"decision": "hold", "reasons": []}}
    recorded = service.client.post("/v1/models/churn/retrains", json=record, headers=headers)
    assert recorded.status_code in (201, 422), recorded.text  # SQLite stores a NUL; PostgreSQL refuses it
    if service.store.backend == "postgresql":
        assert recorded.status_code == 422 and "NUL" in recorded.text, recorded.text
    config = service.client.get("/v1/models/churn/config", params={"version": 2**40}, headers=headers)
    assert config.status_code == 422, config.text
    owner = service.client.post(
        "/v1/models", json={"name": "other", "owner_email": "not an address"}, headers=headers
    )
    assert owner.status_code == 422 and "owner_email" in owner.text, owner.text
    audit = service.client.get("/v1/owners/audit", headers=headers)
    assert audit.status_code == 200, audit.text
