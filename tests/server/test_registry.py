"""Registry, audit log and tokens against a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from mlwarden.errors import AccessDenied, ConflictError, InputError, NotFoundError
from mlwarden.registry import Actor, ModelSpec, Registry, authenticate, create_token, revoke_token
from mlwarden.store import Store
from mlwarden.store.migrate import head_revision
from mlwarden.store.schema import AuditEntry, Token

OPERATOR = Actor.operator("test")
HEAD = head_revision()


def test_migrations_are_idempotent(store: Store) -> None:
    Store(store.url).dispose()  # a second start upgrades nothing and breaks nothing
    with store.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD


def test_upgrade_from_the_first_release_keeps_rows(store: Store) -> None:
    from alembic import command

    from mlwarden.store.migrate import alembic_config

    command.downgrade(alembic_config(store.engine), "0001")
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO predictions (model_id, batch_pk, prediction_id, ts) "
                "VALUES (1, 1, 'p-1', '2026-11-26 00:00:00+00:00')"
            )
        )
    Store(store.url).dispose()  # an old store is upgraded on open
    with store.engine.connect() as connection:
        found = "SELECT count(*) FROM predictions WHERE model_id = 1 AND prediction_id = 'p-1'"
        assert connection.execute(text(found)).scalar() == 1
        if store.backend == "postgresql":
            method = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_predictions_key'"
            assert "USING hash" in connection.execute(text(method)).scalar()


def test_register_show_list_and_audit(store: Store) -> None:
    registry = Registry(store)
    spec = ModelSpec(
        name="churn",
        team="growth",
        owner_name="Ada",
        owner_email="ada@example.com",
        oncall="#growth-oncall",
        runbook_url="https://wiki/churn",
        slos={"roc_auc": 0.8},
        columns={"score": "p_churn", "target": "churned"},
    )
    created = registry.create_model(OPERATOR, spec)
    assert created["columns"]["scores"] == "p_churn" and created["columns"]["id"] == "id"  # old key accepted
    registry.register_version(
        OPERATOR,
        "churn",
        "v1",
        stage="champion",
        feature_fingerprint="abc",
        offline_metrics={"roc_auc": 0.86},
    )
    registry.register_version(OPERATOR, "churn", "v2", stage="challenger")
    registry.set_stage(OPERATOR, "churn", "v2", "champion")
    shown = registry.get_model(OPERATOR, "churn")
    assert {v["version"]: v["stage"] for v in shown["versions"]} == {"v1": "retired", "v2": "champion"}
    registry.set_owner(OPERATOR, "churn", owner_name="Grace", owner_email="grace@example.com")
    assert registry.get_model(OPERATOR, "churn")["owner"] == {"name": "Grace", "email": "grace@example.com"}
    assert [m["name"] for m in registry.list_models(OPERATOR)] == ["churn"]

    with store.session() as session:
        entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    actions = [e.action for e in entries]
    assert actions[0] == "model.create" and "model.set_owner" in actions
    assert actions.count("version.stage") == 2  # v1 retired, v2 promoted
    owner_change = next(e for e in entries if e.action == "model.set_owner")
    assert owner_change.actor == "test"
    assert owner_change.before["owner_name"] == "Ada" and owner_change.after["owner_name"] == "Grace"


def test_registry_rejects_bad_input(store: Store) -> None:
    registry = Registry(store)
    registry.create_model(OPERATOR, ModelSpec(name="m", team="t"))
    with pytest.raises(ConflictError):
        registry.create_model(OPERATOR, ModelSpec(name="m", team="t"))
    for name in ("", "a/b", ".", "..", "n" * 201):  # a URL path cannot address them ('..' is its parent)
        with pytest.raises(InputError) as refused:
            registry.create_model(OPERATOR, ModelSpec(name=name, team="t"))
        expected = "expected a model name of 1 to 200 characters without '/', not . or .."
        assert str(refused.value) == f"name: {expected}, got {name!r}"
    with pytest.raises(InputError, match=r"^slos\.auc: unknown metric 'auc'; expected one of roc_auc, "):
        registry.create_model(OPERATOR, ModelSpec(name="m2", team="t", slos={"auc": 0.8}))
    with pytest.raises(InputError, match="stage"):
        registry.register_version(OPERATOR, "m", "v1", stage="production")
    with pytest.raises(NotFoundError):
        registry.get_model(OPERATOR, "nope")
    with pytest.raises(NotFoundError):
        registry.set_stage(OPERATOR, "m", "v9", "champion")


def test_tokens_are_hashed_scoped_and_revocable(store: Store) -> None:
    token = create_token(store, team="growth", name="ci", scopes=["read", "ingest"])
    with store.session() as session:
        rows = session.scalars(select(Token)).all()
    assert len(rows) == 1 and token not in (rows[0].digest, rows[0].prefix) and rows[0].prefix == token[:12]
    actor = authenticate(store, token)
    assert actor is not None and actor.scopes == {"read", "ingest"}
    actor.require("ingest")
    with pytest.raises(AccessDenied, match="admin"):
        actor.require("admin")
    assert authenticate(store, token + "x") is None
    revoke_token(store, token[:12])
    assert authenticate(store, token) is None
    with pytest.raises(InputError, match="scopes"):
        create_token(store, team="growth", name="bad", scopes=["write"])


def test_teams_cannot_see_each_others_models(store: Store) -> None:
    registry = Registry(store)
    registry.create_model(OPERATOR, ModelSpec(name="a-model", team="alpha"))
    registry.create_model(OPERATOR, ModelSpec(name="b-model", team="beta"))
    beta = authenticate(store, create_token(store, team="beta", name="x", scopes=["admin"]))
    assert [m["name"] for m in registry.list_models(beta)] == ["b-model"]
    with pytest.raises(NotFoundError):
        registry.get_model(beta, "a-model")
    with pytest.raises(NotFoundError):
        registry.set_owner(beta, "a-model", owner_name="mallory")
    with pytest.raises(AccessDenied):
        registry.create_model(beta, ModelSpec(name="c-model", team="alpha"))


def test_migrations_match_the_tables(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from mlwarden.store.schema import Base

    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


@pytest.mark.parametrize(
    ("slos", "segment_slos", "message"),
    [
        (
            {"roc_auc": 78},  # meant 0.78: breached by every window
            {},
            "slos.roc_auc: roc_auc lies in [0, 1]: expected a limit between 0 and 1, got 78",
        ),
        ({"mae": -1}, {}, "slos.mae: mae is an error ≥ 0: expected a finite limit ≥ 0, got -1"),
        ({"rmse": float("nan")}, {}, "slos.rmse: rmse is an error ≥ 0: expected a finite limit ≥ 0, got nan"),
        ({"mape": float("inf")}, {}, "slos.mape: mape is an error ≥ 0: expected a finite limit ≥ 0, got inf"),
        ({"f1": 10**400}, {}, f"slos.f1: expected a finite limit, got {10**400}"),
        (
            {},
            {"*": {"accuracy": 1.5}},
            "segment_slos.*.accuracy: accuracy lies in [0, 1]: expected a limit between 0 and 1, got 1.5",
        ),
    ],
    ids=["roc_auc 78", "mae -1", "rmse nan", "mape inf", "huge integer", "segment accuracy 1.5"],
)
def test_slo_limits_out_of_range_are_refused_by_the_config_files_check(
    store: Store, slos: dict, segment_slos: dict, message: str
) -> None:
    registry = Registry(store)
    with pytest.raises(InputError) as refused:
        registry.create_model(OPERATOR, ModelSpec(name="m", team="t", slos=slos, segment_slos=segment_slos))
    assert str(refused.value) == message
    registry.create_model(OPERATOR, ModelSpec(name="m", team="t", slos={"roc_auc": 0.78, "mae": 0.0}))
    with pytest.raises(InputError) as refused:
        registry.update_model(OPERATOR, "m", slos=slos, segment_slos=segment_slos)
    assert str(refused.value) == message


def test_an_out_of_range_slo_is_a_422_naming_the_field(store: Store) -> None:
    from fastapi.testclient import TestClient

    from mlwarden.server import create_app

    token = create_token(store, team="growth", name="ops", scopes=["admin"])
    with TestClient(create_app(store, evaluate_every=None)) as api:
        api.headers["Authorization"] = f"Bearer {token}"
        for body in ('{"name": "m", "slos": {"roc_auc": 78}}', '{"name": "m", "slos": {"mae": NaN}}'):
            answer = api.post("/v1/models", content=body, headers={"Content-Type": "application/json"})
            assert answer.status_code == 422, answer.text
            assert answer.json()["detail"].startswith("slos.")
        assert api.post("/v1/models", json={"name": "m", "slos": {"roc_auc": 0.78}}).status_code == 201
        answer = api.patch("/v1/models/m", json={"slos": {"mae": -1}})
        assert (answer.status_code, answer.json()["detail"]) == (
            422,
            "slos.mae: mae is an error ≥ 0: expected a finite limit ≥ 0, got -1",
        )
