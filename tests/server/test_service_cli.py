"""`mlwarden models|tokens|worker` as a user runs them, on a SQLite file (subprocesses, real exit codes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from service_data import past_window, reference_frame

MLWARDEN = os.path.join(os.path.dirname(sys.executable), "mlwarden")


def run(db, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([MLWARDEN, *args, "--db", str(db)], capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_models_lifecycle_and_audit(tmp_path) -> None:
    db = tmp_path / "m.db"
    run(
        db,
        "models",
        "register",
        "churn",
        "--team",
        "growth",
        "--owner-name",
        "Ada",
        "--slo",
        "roc_auc=0.8",
        "--column",
        "score=p_churn",
        "--window",
        "600",
    )
    shown = json.loads(run(db, "models", "show", "churn").stdout)
    assert shown["slos"] == {"roc_auc": 0.8} and shown["columns"]["scores"] == "p_churn"
    assert shown["window_seconds"] == 600
    assert "churn" in run(db, "models", "list").stdout
    assert json.loads(run(db, "models", "list", "--json").stdout)[0]["owner"]["name"] == "Ada"
    run(db, "models", "set-owner", "churn", "--email", "grace@example.com", "--oncall", "#pager")
    run(db, "models", "version", "churn", "v1", "--stage", "champion", "--metric", "roc_auc=0.86")
    run(db, "models", "version", "churn", "v2", "--stage", "challenger")
    run(db, "models", "stage", "churn", "v2", "champion")
    stages = {
        v["version"]: v["stage"] for v in json.loads(run(db, "models", "show", "churn").stdout)["versions"]
    }
    assert stages == {"v1": "retired", "v2": "champion"}

    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{db}")
    with engine.connect() as connection:
        actions = [r[0] for r in connection.execute(sa.text("SELECT action FROM audit_log ORDER BY id"))]
    engine.dispose()
    assert actions == [
        "model.create",
        "model.set_owner",
        "version.create",
        "version.create",
        "version.stage",
        "version.stage",
    ]


def test_register_takes_the_column_mapping_from_options_and_a_config_file(tmp_path) -> None:
    db = tmp_path / "m.db"
    args = ["--score", "water=p_water", "--score", "desert=p_desert", "--score", "clouds=p_clouds"]
    args += [
        "--positive-label",
        "water",
        "--id",
        "tile_id",
        "--ignore",
        "request_id,trace",
        "--numeric",
        "band",
    ]
    run(
        db,
        "models",
        "register",
        "land",
        "--team",
        "geo",
        *args,
        "--column",
        "target=land",
        "--categorical",
        "zone",
    )
    columns = json.loads(run(db, "models", "show", "land").stdout)["columns"]
    assert list(columns["scores"].items()) == [
        ("water", "p_water"),
        ("desert", "p_desert"),
        ("clouds", "p_clouds"),
    ]
    assert columns["positive_label"] == "water" and columns["id"] == "tile_id" and columns["target"] == "land"
    assert columns["ignore"] == ["request_id", "trace"] and columns["categorical"] == ["zone"]
    assert columns["numeric"] == ["band"] and columns["timestamp"] == "timestamp"

    config = tmp_path / "churn.yaml"
    config.write_text(
        "model: churn\n"
        "columns:\n"
        "  target: churned\n"
        "  scores: churn_score\n"
        "  positive_label: 1\n"
        "  ignore: [request_id]\n"
        "  drift: {monthly_charges: {method: psi, threshold: 0.2}}\n"
    )
    run(db, "models", "register", "churn", "--team", "growth", "--config", str(config), "--ignore", "trace")
    columns = json.loads(run(db, "models", "show", "churn").stdout)["columns"]
    assert (columns["target"], columns["scores"], columns["positive_label"]) == (
        "churned",
        "churn_score",
        "1",
    )
    assert columns["ignore"] == ["request_id", "trace"]
    assert columns["drift"] == {"monthly_charges": {"method": "psi", "threshold": 0.2}}


def test_bad_input_exits_2_with_one_line(tmp_path) -> None:
    db = tmp_path / "m.db"
    for args, expected in [
        (
            ("models", "register", "m", "--team", "t", "--slo", "roc_auc=high"),
            "--slo roc_auc: expected a number",
        ),
        (("models", "register", "m", "--team", "t", "--slo", "auc=0.8"), "slos.auc: unknown metric 'auc'"),
        (("models", "show", "nope"), "no model named 'nope'"),
        (("models", "set-owner", "nope"), "give at least one of"),
        (("tokens", "create", "--team", "t", "--scope", "write"), "scopes must be some of"),
        (
            ("models", "register", "m", "--team", "t", "--column", "scores="),
            "columns.scores: expected a column",
        ),
        (
            ("models", "register", "m", "--team", "t", "--score", "a=p_a", "--score", "b"),
            "expected CLASS=COLUMN",
        ),
        (
            ("models", "register", "m", "--team", "t", "--column", "colour=red"),
            "columns.colour: unknown field",
        ),
        (
            ("models", "register", "m", "--team", "t", "--config", "nope.yaml"),
            "--config nope.yaml: cannot read",
        ),
    ]:
        result = run(db, *args, check=False)
        assert result.returncode == 2, (args, result.stderr)
        assert expected in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_tokens_create_prints_once_and_revoke(tmp_path) -> None:
    db = tmp_path / "m.db"
    token = run(db, "tokens", "create", "--team", "growth", "--scope", "read").stdout.strip()
    assert token.startswith("mlw_") and len(token) > 40
    assert token not in (tmp_path / "m.db").read_bytes().decode("latin-1")
    assert run(db, "tokens", "revoke", token[:12]).stdout.strip() == "revoked"
    assert run(db, "tokens", "revoke", token[:12], check=False).returncode == 2


def test_worker_evaluates_due_windows(tmp_path) -> None:
    from mlwarden.registry import Actor, ModelSpec, Registry, model_mapping
    from mlwarden.server import batches
    from mlwarden.server.ingest import ingest_predictions
    from mlwarden.server.reference import store_reference
    from mlwarden.store import Store
    from mlwarden.store.schema import Model

    db = tmp_path / "m.db"
    store = Store(db)
    Registry(store).create_model(Actor.operator(), ModelSpec(name="churn", team="growth"))
    with store.session() as session:
        model = session.scalar(sa_select(Model))
    store_reference(store, model, reference_frame())
    frame = reference_frame(800, seed=3).drop(columns="label")
    frame["timestamp"] = past_window()
    ingest_predictions(store, model, batches.from_frame(frame, model_mapping(model), "b1"), None)
    store.dispose()
    assert run(db, "worker", "--once").stdout.strip() == "evaluated 1 window(s), delivered 0 notification(s)"
    assert run(db, "worker", "--once").stdout.strip() == "evaluated 0 window(s), delivered 0 notification(s)"


def sa_select(entity):
    import sqlalchemy as sa

    return sa.select(entity)


def test_register_help_says_names_are_unique_per_team_as_they_are(tmp_path) -> None:
    db = tmp_path / "m.db"
    run(db, "models", "register", "churn", "--team", "growth")
    run(db, "models", "register", "churn", "--team", "risk")  # another team may use the name
    assert run(db, "models", "register", "churn", "--team", "growth", check=False).returncode == 2
    shown = subprocess.run([MLWARDEN, "models", "register", "--help"], capture_output=True, text=True)
    assert "unique within its team" in " ".join(shown.stdout.split())  # the help said "(unique)"
