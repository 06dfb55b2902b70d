"""The whole loop on a real server: SDK batches, a window closes, findings reach the API and /metrics."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest
from service_data import parquet_bytes, past_window, reference_frame

from mlwarden.client import Warden
from mlwarden.registry import create_token
from mlwarden.server.background import BackgroundServer
from mlwarden.store import Store


def wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def stream(url: str, token: str | None, spool, wire: str = "json") -> None:
    """Log a drifted hour of traffic through the SDK, in many small batches, with delayed labels."""
    current = reference_frame(3_000, seed=8)
    current["x2"] += 0.7
    start = past_window()
    stamps = [start.replace(minute=i % 60) for i in range(len(current))]
    ids = [f"e2e-{i}" for i in range(len(current))]
    with Warden(url, token=token, batch_size=400, flush_interval=0.1, spool_dir=spool, wire=wire) as warden:
        warden.log(
            "churn",
            current[["x1", "x2", "x3", "plan"]],
            prediction=current["prediction"].tolist(),
            score=current["score"].tolist(),
            id=ids,
            timestamp=stamps,
        )
        warden.log_labels("churn", ids, current["label"].tolist())
        assert warden.flush(timeout=30)
        assert warden.stats.dropped == 0 and warden.stats.errors == 0


@pytest.mark.parametrize("wire", ["json", "arrow"])
def test_sdk_to_findings_on_a_real_server(store: Store, tmp_path, wire: str) -> None:
    token = create_token(store, team="growth", name="svc", scopes=["admin"])
    headers = {"Authorization": f"Bearer {token}"}
    with (
        BackgroundServer(store, evaluate_every=0.2) as server,
        httpx.Client(base_url=server.url, headers=headers) as api,
    ):
        api.post("/v1/models", json={"name": "churn", "owner_email": "ada@example.com"}).raise_for_status()
        api.post(
            "/v1/models/churn/reference",
            content=parquet_bytes(reference_frame()),
            headers={"Content-Type": "application/vnd.apache.parquet"},
        ).raise_for_status()
        stream(server.url, token, tmp_path / "spool", wire)
        windows = wait_for(  # labels arriving after an evaluation make the window evaluated again
            lambda: [
                w
                for w in api.get("/v1/models/churn/windows").json()
                if w["summary"].get("labelled") == w["summary"].get("rows") == 3_000
            ]
        )
        summary = windows[0]["summary"]
        assert summary["rows"] == 3_000 and summary["drifted_columns"] == ["x2"]
        assert summary["labelled"] == 3_000 and summary["performance"]["realized"]["roc_auc"] > 0.7
        drift = api.get("/v1/models/churn/findings", params={"check": "drift"}).json()
        assert [f["column"] for f in drift] == ["x2"]
        metrics = api.get("/metrics").text
        assert 'mlwarden_drift_score{column="x2",model="churn",team="growth"}' in metrics
        rows = 'mlwarden_ingested_rows_total{kind="predictions",model="churn",team="growth"} 3000.0'
        assert rows in metrics
        assert 'mlwarden_open_alerts{model="churn",severity="warning",team="growth"}' in metrics


def test_mlwarden_serve_on_the_embedded_default(tmp_path) -> None:
    """`mlwarden serve` as a user runs it: default SQLite store (here under a temporary HOME), JSON logs."""
    env = {**os.environ, "HOME": str(tmp_path), "MLWARDEN_DB": ""}
    env.pop("MLWARDEN_DB")
    mlwarden = os.path.join(os.path.dirname(sys.executable), "mlwarden")
    subprocess.run(
        [mlwarden, "models", "register", "churn", "--team", "growth", "--owner-email", "ada@example.com"],
        env=env,
        check=True,
        capture_output=True,
    )
    token = subprocess.run(
        [mlwarden, "tokens", "create", "--team", "growth", "--scope", "admin"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen(
        [mlwarden, "serve", "--port", str(port), "--evaluate-every", "0.2"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _up(url))
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers) as api:
            api.post(
                "/v1/models/churn/reference",
                content=parquet_bytes(reference_frame()),
                headers={"Content-Type": "application/vnd.apache.parquet"},
            ).raise_for_status()
            stream(url, token, tmp_path / "spool")
            wait_for(lambda: api.get("/v1/models/churn/findings", params={"check": "drift"}).json())
            assert api.get("/v1/models/churn").json()["owner"]["email"] == "ada@example.com"
    finally:
        server.terminate()
        _, log = server.communicate(timeout=20)
    assert (tmp_path / ".mlwarden" / "mlwarden.db").exists()
    lines = [line for line in log.splitlines() if line.startswith("{")]
    assert lines and all('"level"' in line for line in lines)


def _up(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
