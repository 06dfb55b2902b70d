"""MLflow's model registry: versions read from it and the champion alias moved on promotion — against a
real ``mlflow server`` started here with a SQLite backend on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from retrain_service import OPERATOR, register

from mlwarden.errors import ConflictError
from mlwarden.registry.mlflow import MlflowError, MlflowRegistry, sync_versions
from mlwarden.schema.retraining import RetrainSection
from mlwarden.server import ledger
from mlwarden.store import Store

STARTUP_SECONDS = 120


def mlflow_executable() -> str | None:
    """``$MLWARDEN_MLFLOW``, else ``mlflow`` beside this interpreter (the ``mlflow`` extra), else on PATH."""
    beside = Path(sys.executable).parent / "mlflow"
    return os.environ.get("MLWARDEN_MLFLOW") or (str(beside) if beside.exists() else shutil.which("mlflow"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory):
    executable = mlflow_executable()
    if executable is None:
        message = "mlflow is not installed (pip install '.[mlflow]', or set MLWARDEN_MLFLOW)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    command = [
        executable,
        "server",
        "--backend-store-uri",
        f"sqlite:///{root / 'mlflow.db'}",
        "--default-artifact-root",
        str(root / "artifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    log = (root / "server.log").open("w")
    # no job runner (a dozen huey consumer processes) and no usage telemetry: the tests need the registry only
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env)
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() - started > STARTUP_SECONDS:
                raise AssertionError(
                    f"mlflow server did not start: {(root / 'server.log').read_text()[-2000:]}"
                )
            time.sleep(0.3)
        print(f"mlflow server ready in {time.monotonic() - started:.1f} s")
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)  # the server and its uvicorn worker
        process.wait(timeout=30)
        log.close()


def create_versions(url: str, name: str, count: int) -> None:
    api = f"{url}/api/2.0/mlflow"
    httpx.post(f"{api}/registered-models/create", json={"name": name}).raise_for_status()
    for i in range(count):
        body = {"name": name, "source": f"s3://models/{name}/{i + 1}"}
        httpx.post(f"{api}/model-versions/create", json=body).raise_for_status()


def test_versions_are_read_and_the_champion_alias_follows_promotion(store: Store, mlflow_server: str) -> None:
    name = f"churn-{store.backend}"
    create_versions(mlflow_server, name, 2)
    with MlflowRegistry(mlflow_server) as mlflow:
        mlflow.set_alias(name, "1")
        versions = mlflow.versions(name)
        assert [(v.version, v.aliases) for v in versions] == [("1", ("champion",)), ("2", ())]
        assert versions[1].source == f"s3://models/{name}/2"

    registry = register(store)
    section = RetrainSection.from_dict({"mlflow": {"tracking_uri": mlflow_server, "model": name}})
    added = sync_versions(registry, OPERATOR, "churn", section.mlflow)
    assert [(v["version"], v["stage"], v["artifact_uri"]) for v in added] == [
        ("1", "champion", f"s3://models/{name}/1"),
        ("2", "shadow", f"s3://models/{name}/2"),
    ]
    assert sync_versions(registry, OPERATOR, "churn", section.mlflow) == []  # nothing new the second time

    gate = {
        "decision": "promote",
        "metric": "roc_auc",
        "delta": 0.03,
        "ci": [0.01, 0.05],
        "reasons": ["better"],
    }
    ledger.record_retrain(store, OPERATOR, "churn", "2", gate_result=gate, trigger="schedule")
    promoted = ledger.promote(store, OPERATOR, "churn", "2", section)
    assert promoted["parent_version"] == "1"
    with MlflowRegistry(mlflow_server) as mlflow:
        assert mlflow.alias(name) == "2"

    unreachable = RetrainSection.from_dict({"mlflow": {"tracking_uri": f"http://127.0.0.1:{free_port()}"}})
    ledger.record_retrain(store, OPERATOR, "churn", "1", gate_result=gate)
    with pytest.raises(MlflowError, match="cannot reach it"):
        ledger.promote(store, OPERATOR, "churn", "1", unreachable)
    stages = {v["version"]: v["stage"] for v in registry.get_model(OPERATOR, "churn")["versions"]}
    assert stages == {"1": "shadow", "2": "champion"}  # MLflow refused: nothing changed here either
    with pytest.raises(ConflictError):
        ledger.promote(store, OPERATOR, "churn", "2", section)
