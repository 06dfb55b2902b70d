"""The alerting API on both backends: configuration files, alerts by status and acknowledgement, silences;
team isolation and scopes."""

from __future__ import annotations

import pytest
from alert_helpers import drift
from fastapi.testclient import TestClient
from sqlalchemy import select

from mlwarden.alerts.state import update_alerts
from mlwarden.registry import create_token
from mlwarden.server import create_app
from mlwarden.store import Store
from mlwarden.store.schema import Model

CONFIG = """model: churn
owner: {name: Ada, email: ada@example.com}
alerts:
  receivers:
    hub: {webhook: {url: "https://hooks.example.com/ml", secret: "${HUB_SECRET}"}}
  route: {receiver: hub, group_wait: 1h}
"""
YAML = {"Content-Type": "application/yaml"}


class Api:
    def __init__(self, client: TestClient, store: Store) -> None:
        self.client, self.store = client, store
        self.growth = {
            "Authorization": f"Bearer {create_token(store, team='growth', name='a', scopes=['admin'])}"
        }
        self.reader = {
            "Authorization": f"Bearer {create_token(store, team='growth', name='r', scopes=['read'])}"
        }
        self.risk = {
            "Authorization": f"Bearer {create_token(store, team='risk', name='a', scopes=['admin'])}"
        }


@pytest.fixture
def api(store: Store):
    with TestClient(create_app(store, evaluate_every=None, send_every=None)) as client:
        a = Api(client, store)
        assert client.post("/v1/models", json={"name": "churn"}, headers=a.growth).status_code == 201
        yield a


def test_config_put_get_history_and_a_bad_file_changes_nothing(api: Api) -> None:
    put = api.client.put("/v1/models/churn/config", content=CONFIG, headers=api.growth | YAML)
    assert put.status_code == 200 and put.json() == {"model": "churn", "version": 1, "changed": True}
    assert (
        api.client.get("/v1/models/churn", headers=api.growth).json()["owner"]["email"] == "ada@example.com"
    )
    bad = api.client.put("/v1/models/churn/config", content=CONFIG.replace("1h", "soon"), headers=api.growth)
    assert bad.status_code == 422
    assert (
        bad.json()["detail"]
        == "alerts.route.group_wait: expected a duration such as 30s, 5m, 4h or 7d, got 'soon'"
    )
    second = CONFIG.replace("1h", "30s")
    assert (
        api.client.put("/v1/models/churn/config", content=second, headers=api.growth).json()["version"] == 2
    )
    current = api.client.get("/v1/models/churn/config", headers=api.reader).json()
    assert current["version"] == 2 and current["text"] == second and "${HUB_SECRET}" in current["text"]
    first = api.client.get("/v1/models/churn/config", params={"version": 1}, headers=api.reader).json()
    assert first["text"] == CONFIG and first["actor"] == "growth/a"
    history = api.client.get("/v1/models/churn/config/history", headers=api.reader).json()
    assert [h["version"] for h in history] == [1, 2] and "text" not in history[0]
    assert (
        api.client.get("/v1/models/churn/config", params={"version": 3}, headers=api.reader).status_code
        == 404
    )
    assert api.client.put("/v1/models/churn/config", content=CONFIG, headers=api.reader).status_code == 403
    assert api.client.get("/v1/models/churn/config", headers=api.risk).status_code == 404


def fire(store: Store, *columns: str) -> None:
    from datetime import UTC, datetime

    with store.session() as session:
        model = session.scalar(select(Model).where(Model.name == "churn"))
        update_alerts(
            session,
            model,
            [drift(c) for c in columns],
            window_start=None,
            now=datetime.now(UTC),
            judged=lambda check: True,
        )


def test_alerts_by_status_ack_and_silences(api: Api) -> None:
    fire(api.store, "x", "y")
    alerts = api.client.get("/v1/alerts", params={"status": "firing"}, headers=api.reader).json()
    assert sorted(a["column"] for a in alerts) == ["x", "y"]
    x = next(a for a in alerts if a["column"] == "x")
    assert x["status"] == "firing" and x["fingerprint"] and x["silenced"] is False
    assert api.client.post(f"/v1/alerts/{x['id']}/ack", headers=api.reader).status_code == 403
    assert api.client.post(f"/v1/alerts/{x['id']}/ack", headers=api.risk).status_code == 404
    acked = api.client.post(f"/v1/alerts/{x['id']}/ack", headers=api.growth).json()
    assert acked["acknowledged_by"] == "growth/a" and acked["acknowledged_at"]
    body = {"matchers": [{"name": "column", "value": "y"}], "duration": "2h", "comment": "backfill"}
    silence = api.client.post("/v1/silences", json=body, headers=api.growth)
    assert silence.status_code == 201 and silence.json()["state"] == "active"

    def columns(status: str) -> list[str]:
        response = api.client.get("/v1/alerts", params={"status": status}, headers=api.reader)
        return sorted(a["column"] for a in response.json())

    assert (columns("firing"), columns("acknowledged"), columns("silenced")) == ([], ["x"], ["y"])
    assert columns("open") == columns("all") == ["x", "y"] and columns("resolved") == []
    wrong = api.client.get("/v1/alerts", params={"status": "closed"}, headers=api.reader)
    assert wrong.status_code == 422 and wrong.json()["detail"].startswith("status: expected one of open")
    assert api.client.get("/v1/silences", headers=api.risk).json() == []  # another team's silences
    silence_id = silence.json()["id"]
    assert api.client.delete(f"/v1/silences/{silence_id}", headers=api.risk).status_code == 404
    assert api.client.delete(f"/v1/silences/{silence_id}", headers=api.growth).json()["state"] == "expired"
    assert columns("silenced") == [] and columns("firing") == ["y"]
    notifications = api.client.get("/v1/models/churn/notifications", headers=api.reader)
    assert notifications.json() == []  # no alerts: section and no owner email: alerts are stored only
    wrong = api.client.get("/v1/models/churn/notifications", params={"status": "lost"}, headers=api.reader)
    assert wrong.status_code == 422
    bad = {"matchers": [{"name": "column", "value": "(", "regex": True}], "duration": "2h"}
    response = api.client.post("/v1/silences", json=bad, headers=api.growth)
    assert response.status_code == 422 and response.json()["detail"].startswith("matchers.0.value: regex '('")
    for start, duration, problem in [  # a 500 past year 9999; a zero duration named ends_at, not given
        (None, "9999999999d", "expected a duration of at most 36500d, got '9999999999d'"),
        ("9999-06-01T00:00:00Z", "365d", "expected a duration that ends before the year 10000, got '365d'"),
        (None, "0s", "expected a duration longer than 0s, got '0s'"),
    ]:
        body = {"matchers": [{"name": "model", "value": "churn"}], "duration": duration, "starts_at": start}
        response = api.client.post("/v1/silences", json=body, headers=api.growth)
        assert (response.status_code, response.json()) == (422, {"detail": f"duration: {problem}"})
