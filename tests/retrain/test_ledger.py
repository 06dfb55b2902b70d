"""Shadow traffic, the ledger, promotion, rollback and the outcome, on a real SQLite file and PostgreSQL."""

from __future__ import annotations

import pytest
from retrain_service import OPERATOR, evaluate, label, log, register, traffic
from service_data import past_window
from sqlalchemy import select

from mlwarden.errors import ConflictError
from mlwarden.schema.retraining import RetrainSection
from mlwarden.server import ledger
from mlwarden.store import Store
from mlwarden.store.schema import AuditEntry, Window

N = 1_500


def hour(store: Store, k: int, versions: tuple[str, ...], seed: int, labelled: bool = True) -> None:
    """One window of shifted traffic scored by each of ``versions`` under the same ids, then labelled."""
    frame = traffic(N, seed=seed, shifted=True)
    start = past_window(10 - k)
    for version in versions:
        log(store, "churn", frame, start, version, prefix=f"h{k}")
    if labelled:
        label(store, "churn", frame, prefix=f"h{k}")


def test_shadow_promotion_outcome_and_rollback(store: Store) -> None:
    registry = register(store)
    registry.register_version(OPERATOR, "churn", "v1", stage="champion")
    registry.register_version(OPERATOR, "churn", "v2", stage="shadow", feature_fingerprint="fp-2")

    hour(store, 0, ("v1", "v2"), seed=10)
    assert evaluate(store) == 1
    with store.session() as session:
        window = session.scalars(select(Window)).one()
        shadow = ledger.shadow_history(session, window.model_id, "v2")
    assert window.summary["rows"] == N  # the served traffic only: the shadow's copy is not counted twice
    assert window.summary["labelled"] == N
    (row,) = shadow
    assert (row["version"], row["champion_version"], row["rows"], row["labelled"]) == ("v2", "v1", N, N)
    assert 0.5 < row["agreement"] < 1.0
    assert row["metric"] == "roc_auc" and row["test"] == "delong"
    assert row["delta"] > 0.05 and row["ci"][0] > 0  # v2 uses x2, which now matters

    record = ledger.record_retrain(
        store, OPERATOR, "churn", "v2", section=RetrainSection(outcome_windows=2), trigger="important_drift"
    )
    assert record["decision"] == "promote" and record["parent_version"] == "v1"
    assert record["gate"]["ci"][0] > 0 and record["feature_fingerprint"] == "fp-2"
    assert record["shadow"]["windows"] == 1 and record["shadow"]["rows"] == N

    promoted = ledger.promote(store, OPERATOR, "churn", "v2")
    assert promoted["promoted_by"] == "test" and promoted["outcome_status"] == "pending"
    stages = {v["version"]: v["stage"] for v in registry.get_model(OPERATOR, "churn")["versions"]}
    assert stages == {"v1": "shadow", "v2": "champion"}

    # the old champion keeps scoring in shadow for two windows; then the outcome is measured on those rows
    hour(store, 1, ("v2", "v1"), seed=11)
    evaluate(store)
    assert ledger.history(store, OPERATOR, "churn")["summary"]["pending"] == 1
    hour(store, 2, ("v2", "v1"), seed=12)
    evaluate(store)
    result = ledger.history(store, OPERATOR, "churn")
    (done,) = result["retrains"]
    assert done["outcome_status"] == "helped" and result["summary"]["helped"] == 1
    outcome = done["outcome"]
    assert outcome["n"] == 2 * N and outcome["ci"][0] > 0 and outcome["delta"] > 0.05
    assert (outcome["old"], outcome["new"]) == ("v1", "v2") and "helped" in outcome["summary"]
    stages = {v["version"]: v["stage"] for v in registry.get_model(OPERATOR, "churn")["versions"]}
    assert stages == {"v1": "retired", "v2": "champion"}

    rolled = ledger.rollback(store, OPERATOR, "churn", "v2")
    assert rolled["rolled_back_at"] is not None
    stages = {v["version"]: v["stage"] for v in registry.get_model(OPERATOR, "churn")["versions"]}
    assert stages == {"v1": "champion", "v2": "retired"}
    with store.session() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert [a for a in actions if a.startswith("retrain.")] == [
        "retrain.record",
        "retrain.promote",
        "retrain.outcome",
        "retrain.rollback",
    ]


def test_worse_and_identical_challengers_are_never_promoted(store: Store) -> None:
    registry = register(store)
    registry.register_version(OPERATOR, "churn", "v1", stage="champion")
    for version in ("v0", "v1-copy", "v9"):
        registry.register_version(OPERATOR, "churn", version)
    frame = traffic(N, seed=20, shifted=False)
    for version in ("v1", "v0", "v1-copy"):
        log(store, "churn", frame, past_window(5), version, prefix="w")
    label(store, "churn", frame, prefix="w")
    evaluate(store)

    worse = ledger.record_retrain(store, OPERATOR, "churn", "v0")
    assert worse["decision"] == "reject" and worse["gate"]["ci"][1] < 0
    assert "worse" in worse["gate"]["reasons"][0]
    with pytest.raises(ConflictError, match="the gate decided reject"):
        ledger.promote(store, OPERATOR, "churn", "v0")
    same = ledger.record_retrain(store, OPERATOR, "churn", "v1-copy")
    assert same["decision"] == "hold" and same["gate"]["delta"] == 0.0
    assert "same output on every row" in same["gate"]["reasons"][0]
    with pytest.raises(ConflictError, match="the gate decided hold"):
        ledger.promote(store, OPERATOR, "churn", "v1-copy")
    with pytest.raises(ConflictError, match="no shadow traffic"):
        ledger.record_retrain(store, OPERATOR, "churn", "v9")
    with pytest.raises(ConflictError, match="no gate decision"):
        ledger.promote(store, OPERATOR, "churn", "v9")
    with pytest.raises(ConflictError, match="not promoted over another version"):
        ledger.rollback(store, OPERATOR, "churn", "v1")
