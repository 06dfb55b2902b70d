"""The operator CLI (DESIGN §6) against a real ``mlwarden serve`` process: reference upload, windows,
findings and owners audit — tables for people, ``--format json`` for scripts, exit 2 with one line on a
user mistake."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from cli_process import mlwarden
from receiver_servers import free_port
from service_data import parquet_bytes, past_window, records, reference_frame


@dataclass
class Server:
    url: str
    token: str
    db: str

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return mlwarden(*args, "--url", self.url, "--token", self.token)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    """A served SQLite store with model ``churn`` (owned) and ``orphan`` (no owner), and an admin token."""
    directory = tmp_path_factory.mktemp("operator")
    db = str(directory / "m.db")
    for args in (
        [
            "models",
            "register",
            "churn",
            "--team",
            "growth",
            "--owner-name",
            "Ada",
            "--owner-email",
            "ada@x.io",
        ],
        ["models", "register", "orphan", "--team", "growth"],
    ):
        assert mlwarden(*args, "--db", db).returncode == 0
    made = mlwarden("tokens", "create", "--team", "growth", "--scope", "admin", "--db", db)
    token = made.stdout.strip()
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mlwarden",
            "serve",
            "--db",
            db,
            "--port",
            str(port),
            "--evaluate-every",
            "0.2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MLWARDEN_URL": "", "MLWARDEN_TOKEN": ""},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("mlwarden serve did not start")
        yield Server(url, token, db)
    finally:
        process.terminate()
        process.wait(timeout=20)


def wait_for(predicate, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_reference_windows_and_findings(server: Server, tmp_path) -> None:
    reference = tmp_path / "reference.parquet"
    reference.write_bytes(parquet_bytes(reference_frame()))
    uploaded = server.cli("reference", "upload", "churn", str(reference), "--format", "json")
    assert uploaded.returncode == 0, uploaded.stderr
    stored = json.loads(uploaded.stdout)
    assert stored["rows"] == 4_000 and stored["contract"] == "inferred"
    assert "x2" in stored["columns"]

    current = reference_frame(2_000, seed=3)
    current["x2"] += 1.0
    start = past_window()
    body = {"batch_id": "b1", "records": records(current, start, prefix="c", spacing=1.0)}
    headers = {"Authorization": f"Bearer {server.token}"}
    httpx.post(f"{server.url}/v1/models/churn/batches", json=body, headers=headers).raise_for_status()

    def evaluated():
        shown = server.cli("windows", "churn", "--format", "json")
        assert shown.returncode == 0, shown.stderr
        return [w for w in json.loads(shown.stdout) if w["status"] == "evaluated"]

    window = wait_for(evaluated)[0]
    assert window["start"] == start.isoformat() and window["summary"]["rows"] == 2_000
    table = server.cli("windows", "churn")
    assert "evaluated" in table.stdout and "2000" in table.stdout and "x2" in table.stdout

    drift = json.loads(server.cli("findings", "churn", "--check", "drift", "--format", "json").stdout)
    assert [(f["check"], f["column"]) for f in drift] == [("drift", "x2")]
    assert drift[0]["window_start"] == start.isoformat()
    recent = server.cli("findings", "churn", "--since", "1h", "--format", "json")
    assert json.loads(recent.stdout) == []  # the window started 3 h ago
    since = (start.replace(tzinfo=None)).isoformat()  # no offset: read as UTC
    assert len(json.loads(server.cli("findings", "churn", "--since", since, "--format", "json").stdout)) >= 1
    critical = json.loads(
        server.cli("findings", "churn", "--severity", "critical", "--format", "json").stdout
    )
    assert all(f["severity"] == "critical" for f in critical)
    table = server.cli("findings", "churn", "--check", "drift")
    assert table.returncode == 0 and "drift" in table.stdout and "x2" in table.stdout


def test_owners_audit_lists_every_model_least_healthy_first(server: Server) -> None:
    rows = json.loads(server.cli("owners", "audit", "--format", "json").stdout)
    assert [r["model"] for r in rows] == ["orphan", "churn"]
    orphan, churn = rows
    assert orphan["problems"] == ["ownership.no_owner"] and orphan["owner_reachable"] is False
    assert "has no owner" in orphan["messages"][0]
    assert (churn["owner"], churn["owner_email"], churn["reachable_receivers"]) == (
        "Ada",
        "ada@x.io",
        ["owner"],
    )
    table = server.cli("owners", "audit")
    assert table.returncode == 0 and "orphan" in table.stdout and "Ada" in table.stdout
    assert (
        "ownership" in table.stdout and "…" not in table.stdout
    )  # wrapped in an 80-column terminal, not cut


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["windows", "nosuch"], "error: no model named 'nosuch'"),
        (["windows", "growth/churn"], "error: MODEL: 'growth/churn' holds a '/': the server finds a model"),
        (["findings", "churn", "--since", "yesterday"], "error: --since: expected an ISO 8601 time"),
        (["reference", "upload", "churn", "data.txt"], "error: FILE: data.txt is not one of .parquet"),
        (["reference", "upload", "churn", "missing.csv"], "error: FILE: missing.csv is not a readable file"),
        (["config", "diff", "churn", "--to", "99"], "error: model 'churn' has no configuration version 99"),
    ],
)
def test_user_mistakes_exit_2_with_one_line(server: Server, args: list[str], message: str, tmp_path) -> None:
    (tmp_path / "data.txt").write_text("x")
    result = subprocess.run(
        [sys.executable, "-m", "mlwarden", *args, "--url", server.url, "--token", server.token],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_a_missing_or_wrong_token_is_one_line(server: Server) -> None:
    result = mlwarden("windows", "churn", "--url", server.url)
    assert result.returncode == 2 and result.stderr == "error: missing bearer token\n"
    result = mlwarden("windows", "churn", "--url", server.url, "--token", "mlw_wrong")
    assert result.returncode == 2 and result.stderr == "error: unknown or revoked token\n"


def test_a_model_name_of_any_text_reaches_its_own_routes(server: Server, tmp_path) -> None:
    """Names are percent-encoded into paths: '?', '#', '%' and spaces once cut the path (405, or a 404 after
    `apply` had registered the model), or addressed another resource."""
    made = mlwarden("tokens", "create", "--team", "odd", "--scope", "admin", "--db", server.db)
    token = made.stdout.strip()

    def cli(*args: object) -> subprocess.CompletedProcess:
        return mlwarden(*args, "--url", server.url, "--token", token)

    name = "ünï cødé?#%2F"
    config = tmp_path / "odd.yaml"
    config.write_text(f'model: "{name}"\nwindow: 1h\n', encoding="utf-8")
    applied = cli("apply", "-f", config)
    assert (applied.returncode, applied.stdout) == (0, f"{name}: configuration version 1 applied\n"), applied
    history = cli("config", "history", name, "--format", "json")
    assert [v["version"] for v in json.loads(history.stdout)] == [1], history.stderr
    reference = tmp_path / "reference.parquet"
    reference.write_bytes(parquet_bytes(reference_frame()))
    uploaded = cli("reference", "upload", name, reference, "--format", "json")
    assert uploaded.returncode == 0 and json.loads(uploaded.stdout)["rows"] == 4_000, uploaded.stderr
    for command in ("windows", "findings"):
        shown = cli(command, name, "--format", "json")
        assert (shown.returncode, json.loads(shown.stdout or "null")) == (0, []), shown.stderr
    models = httpx.get(f"{server.url}/v1/models", headers={"Authorization": f"Bearer {token}"}).json()
    assert [m["name"] for m in models] == [name]  # registered once, under its own name


def test_remote_commands_do_not_offer_team_slash_name() -> None:
    """A route addresses a model by its name in the token's team: TEAM/NAME cannot reach one over HTTP."""
    import typer

    from mlwarden.cli import app

    root = typer.main.get_command(app)
    commands = [["windows"], ["findings"], ["reference", "upload"], ["config", "history"]]
    commands.append(["retrain", "plan"])
    for path in commands:
        command = root
        for name in path:
            command = command.commands[name]  # type: ignore[attr-defined]
        (model,) = [p for p in command.params if p.name == "model"]
        assert model.help.startswith("The model's name, one of the token's team's models (a token reaches no")
        assert "TEAM/NAME is for the commands that open the store" in model.help
