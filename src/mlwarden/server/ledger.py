"""The retrain ledger (DESIGN §8): one record per retrain, promotion and rollback, and the outcome.

A record holds the trigger and its evidence, the parent (the champion when it was made) and candidate
versions, the code commit and feature fingerprint, the training data's window and profile digest, the gate's
configuration and result (slices included), who promoted it and when, the candidate's shadow statistics and,
filled in later, the **outcome**: once the replaced champion has scored ``outcome_windows`` windows in
shadow beside the new one, the gate's paired test of new against old on those same live rows says whether
the retrain helped (the improvement's interval above 0), hurt (below 0) or made no difference.

Promotion and rollback change stages in one transaction with an audit entry naming the ledger record.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mlwarden.errors import ConflictError, InputError, NotFoundError
from mlwarden.registry import Actor, find_model, model_mapping
from mlwarden.registry.registry import version_dict
from mlwarden.schema.retraining import GateSettings, RetrainSection
from mlwarden.server.shadow import (
    CHALLENGER,
    CHAMPION,
    champion_version,
    comparison,
    paired_frame,
    shadow_history,
    shadow_summary,
)
from mlwarden.store import Store
from mlwarden.store.audit import record as audit
from mlwarden.store.schema import Model, ModelVersion, Retrain, ShadowWindow

OUTCOMES = {"promote": "helped", "reject": "hurt", "hold": "no_difference"}
GATE_KEYS = ("decision", "metric", "test", "n", "champion", "challenger", "delta", "ci", "p_value")


def retrain_dict(row: Retrain) -> dict[str, Any]:
    """A JSON-ready ledger record."""

    def iso(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    return {
        "id": row.id,
        "created_at": iso(row.created_at),
        "created_by": row.created_by,
        "trigger": row.trigger,
        "evidence": row.evidence,
        "parent_version": row.parent_version,
        "candidate_version": row.candidate_version,
        "code_commit": row.code_commit,
        "feature_fingerprint": row.feature_fingerprint,
        "data_window": {"start": iso(row.data_start), "end": iso(row.data_end)},
        "profile_digest": row.profile_digest,
        "gate_config": row.gate_config,
        "gate": row.gate_result,
        "decision": row.decision,
        "promoted_by": row.promoted_by,
        "promoted_at": iso(row.promoted_at),
        "rolled_back_at": iso(row.rolled_back_at),
        "shadow": row.shadow,
        "outcome_windows": row.outcome_windows,
        "outcome": row.outcome,
        "outcome_status": row.outcome_status or ("pending" if row.promoted_at else None),
    }


def _version(session: Session, model: Model, version: str) -> ModelVersion:
    row = session.scalar(
        select(ModelVersion).where(ModelVersion.model_id == model.id, ModelVersion.version == version)
    )
    if row is None:
        raise NotFoundError(f"model {model.name!r} has no version {version!r}")
    return row


def record_retrain(
    store: Store,
    actor: Actor,
    name: str,
    candidate: str,
    *,
    section: RetrainSection | None = None,
    gate_result: dict[str, Any] | None = None,
    gate_config: dict[str, Any] | None = None,
    trigger: str | None = None,
    evidence: dict[str, Any] | None = None,
    code_commit: str | None = None,
    feature_fingerprint: str | None = None,
    data_start: datetime | None = None,
    data_end: datetime | None = None,
    profile_digest: str | None = None,
) -> dict[str, Any]:
    """Add a ledger record for ``candidate`` (a registered version). ``gate_result`` is a gate decision made
    elsewhere (``mlwarden retrain evaluate --record``: DESIGN §8 JSON); without it the gate is run here on
    the candidate's shadow traffic — every labelled prediction id it and the champion both scored — at
    ``section.gate``'s settings (overall only: the stored rows hold outputs, not the slice columns).
    ``feature_fingerprint`` defaults to the version's. Raises NotFoundError for an unknown model or version,
    InputError for a gate result without a valid decision, ConflictError when nothing can be compared."""
    actor.require("admin")
    section = section or RetrainSection()
    if gate_result is not None and gate_result.get("decision") not in OUTCOMES:
        raise InputError("gate.decision: expected promote, hold or reject")
    with store.session() as session:
        model = find_model(session, actor, name)
        version = _version(session, model, candidate)
        parent = champion_version(session, model.id)
        if parent == candidate:
            raise ConflictError(f"version {candidate!r} is already the champion of {name!r}")
        if gate_result is None:
            gate_result, gate_config = (
                shadow_gate(session, model, candidate, section.gate),
                section.gate.model_dump(),
            )
        shadow = shadow_summary(shadow_history(session, model.id, candidate))
        row = Retrain(
            model_id=model.id,
            created_by=actor.name,
            trigger=trigger or "manual",
            evidence=evidence or {},
            parent_version=parent,
            candidate_version=candidate,
            code_commit=code_commit,
            feature_fingerprint=feature_fingerprint or version.feature_fingerprint,
            data_start=data_start,
            data_end=data_end,
            profile_digest=profile_digest,
            gate_config=gate_config or {},
            gate_result=gate_result,
            decision=gate_result["decision"],
            shadow=shadow,
            outcome_windows=section.outcome_windows,
        )
        session.add(row)
        session.flush()
        out = retrain_dict(row)
        audit(
            session,
            actor=actor.name,
            action="retrain.record",
            entity=f"model:{model.name}@{candidate}",
            after={"retrain": row.id, "decision": row.decision},
        )
    return out


def shadow_gate(session: Session, model: Model, candidate: str, settings: GateSettings) -> dict[str, Any]:
    """The gate on the candidate's shadow traffic (every window it scored), as DESIGN §8 JSON."""
    windows = session.execute(
        select(ShadowWindow.window_start, ShadowWindow.window_end).where(
            ShadowWindow.model_id == model.id, ShadowWindow.version == candidate
        )
    ).all()
    if not windows:
        raise ConflictError(
            f"version {candidate!r} has no shadow traffic to judge yet: log batches with "
            f"model_version={candidate!r}, or record a decision made offline (retrain evaluate --record)"
        )
    frame = _pooled(session, model, [(s, e) for s, e in windows], candidate, settings.metric)
    return _gate_dict(frame, model, settings)


def _pooled(
    session: Session, model: Model, windows: list[tuple[datetime, datetime]], version: str, metric: str
) -> pd.DataFrame:
    """Labelled rows the served traffic and ``version`` both scored, over ``windows``."""
    from mlwarden.server.windows import outputs_between

    mapping = model_mapping(model)
    parts = []
    for start, end in sorted(set(windows)):
        served = outputs_between(session, model, mapping, start, end)
        shadow = outputs_between(session, model, mapping, start, end, version)
        frame, _ = paired_frame(served, shadow, mapping, metric)
        parts.append(frame)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return frame[frame[mapping.target].notna()] if not frame.empty else frame


def _gate_dict(
    frame: pd.DataFrame, model: Model, settings: GateSettings, *, served_is_challenger: bool = False
) -> dict[str, Any]:
    """The gate's decision (DESIGN §8 JSON) on pooled paired rows; the served traffic is the champion
    unless ``served_is_challenger`` (the outcome: the new champion is served, the old one in shadow)."""
    mapping = model_mapping(model)
    if frame.empty:
        raise ConflictError("no labelled prediction id was scored by both versions yet")
    sides = {"champion": CHALLENGER, "challenger": CHAMPION} if served_is_challenger else {}
    result = comparison(frame, mapping, settings, full=True, **sides)
    if "note" in result:
        raise ConflictError(f"the versions cannot be compared: {result['note']}")
    return result


def history(store: Store, actor: Actor, name: str) -> dict[str, Any]:
    """Every ledger record of the model (newest first) and the summary: how many promoted retrains helped,
    hurt, made no difference, or await their outcome."""
    actor.require("read")
    with store.session() as session:
        model = find_model(session, actor, name)
        rows = session.scalars(
            select(Retrain).where(Retrain.model_id == model.id).order_by(Retrain.id.desc())
        ).all()
        records = [retrain_dict(r) for r in rows]
        summary = outcome_summary(session, model.id)
    return {"model": name, "summary": summary, "retrains": records}


def outcome_summary(session: Session, model_id: int) -> dict[str, int]:
    """How many of the model's retrains there are, and how many helped, hurt, made no difference or await
    their outcome (promoted, outcome not yet known) — counted in SQL over every record."""
    summary = {"retrains": 0, "helped": 0, "hurt": 0, "no_difference": 0, "pending": 0}
    promoted = Retrain.promoted_at.is_not(None)
    for status, was_promoted, n in session.execute(
        select(Retrain.outcome_status, promoted, func.count())
        .where(Retrain.model_id == model_id)
        .group_by(Retrain.outcome_status, promoted)
    ):
        summary["retrains"] += n
        key = status or ("pending" if was_promoted else None)  # retrain_dict's rule
        if key in summary:
            summary[key] += n
    return summary


def promote(
    store: Store, actor: Actor, name: str, version: str, section: RetrainSection | None = None
) -> dict[str, Any]:
    """Make ``version`` the champion — only when its latest ledger record's gate decision is ``promote``.
    In one transaction: the candidate becomes champion, the champion it replaces goes to ``shadow`` (it
    keeps scoring for the outcome), the record gets who and when and its shadow statistics, and the audit
    log an entry naming the record. With ``section.mlflow`` the ``champion`` alias moves to ``version`` in
    MLflow first (its failure changes nothing here). Raises ConflictError when the decision is not
    ``promote``, :class:`~mlwarden.registry.mlflow.MlflowError` when MLflow refuses."""
    actor.require("admin")
    now = datetime.now(UTC)
    with store.session() as session:
        model = find_model(session, actor, name)
        row = _version(session, model, version)
        if row.stage == "champion":
            raise ConflictError(f"version {version!r} is already the champion of {name!r}")
        ledger = session.scalar(
            select(Retrain)
            .where(Retrain.model_id == model.id, Retrain.candidate_version == version)
            .order_by(Retrain.id.desc())
            .limit(1)
        )
        if ledger is None:
            raise ConflictError(
                f"version {version!r} has no gate decision in the ledger: record one first "
                f"(mlwarden retrain evaluate ... --record {name} --candidate {version})"
            )
        if ledger.decision != "promote":
            reasons = "; ".join(ledger.gate_result.get("reasons") or [])
            raise ConflictError(f"version {version!r}: the gate decided {ledger.decision} ({reasons})")
        before = {"champion": champion_version(session, model.id), "candidate": version_dict(row)}
        for old in session.scalars(
            select(ModelVersion).where(ModelVersion.model_id == model.id, ModelVersion.stage == "champion")
        ):
            old.stage = "shadow"
        row.stage = "champion"
        ledger.parent_version = before["champion"]
        ledger.promoted_by, ledger.promoted_at = actor.name, now
        ledger.shadow = shadow_summary(shadow_history(session, model.id, version))
        session.flush()
        after = {"champion": version, "previous_champion_stage": "shadow", "retrain": ledger.id}
        if section is not None and section.mlflow is not None:
            from mlwarden.registry.mlflow import client_for

            with client_for(section.mlflow) as mlflow:
                mlflow.set_alias(section.mlflow.model or model.name, version)
            after["mlflow"] = {"uri": section.mlflow.tracking_uri, "alias": "champion", "version": version}
        audit(
            session,
            actor=actor.name,
            action="retrain.promote",
            entity=f"model:{model.name}@{version}",
            before=before,
            after=after,
        )
        return retrain_dict(ledger)


def rollback(store: Store, actor: Actor, name: str, version: str) -> dict[str, Any]:
    """Undo the promotion of ``version`` (the current champion): its parent is champion again and
    ``version`` retired, in one transaction, audited and written on the ledger record."""
    actor.require("admin")
    with store.session() as session:
        model = find_model(session, actor, name)
        row = _version(session, model, version)
        if row.stage != "champion":
            raise ConflictError(f"version {version!r} is not the champion of {name!r} (stage {row.stage})")
        ledger = session.scalar(
            select(Retrain)
            .where(
                Retrain.model_id == model.id,
                Retrain.candidate_version == version,
                Retrain.promoted_at.is_not(None),
                Retrain.rolled_back_at.is_(None),
            )
            .order_by(Retrain.id.desc())
            .limit(1)
        )
        if ledger is None or ledger.parent_version is None:
            raise ConflictError(
                f"version {version!r} was not promoted over another version: nothing to restore"
            )
        parent = _version(session, model, ledger.parent_version)
        row.stage, parent.stage = "retired", "champion"
        ledger.rolled_back_at = datetime.now(UTC)
        session.flush()
        audit(
            session,
            actor=actor.name,
            action="retrain.rollback",
            entity=f"model:{model.name}@{version}",
            before={"champion": version},
            after={"champion": parent.version, "retired": version, "retrain": ledger.id},
        )
        return retrain_dict(ledger)


def update_outcomes(store: Store, model_id: int, section: RetrainSection) -> list[dict[str, Any]]:
    """Fill in the outcome of promoted retrains whose replaced champion has scored ``outcome_windows``
    windows with labels in shadow beside the new champion; the old version is then retired. Returns the
    records completed now."""
    done = []
    with store.session() as session:
        pending = session.scalars(
            select(Retrain).where(
                Retrain.model_id == model_id,
                Retrain.promoted_at.is_not(None),
                Retrain.rolled_back_at.is_(None),
                Retrain.outcome.is_(None),
                Retrain.parent_version.is_not(None),
            )
        ).all()
        model = session.get(Model, model_id)
        for ledger in pending:
            windows = session.execute(
                select(ShadowWindow.window_start, ShadowWindow.window_end).where(
                    ShadowWindow.model_id == model_id,
                    ShadowWindow.version == ledger.parent_version,
                    ShadowWindow.champion_version == ledger.candidate_version,
                    ShadowWindow.labelled > 0,
                )
            ).all()
            if len(windows) < ledger.outcome_windows:
                continue
            settings = GateSettings(**{**section.gate.model_dump(), **_gate_settings(ledger.gate_config)})
            frame = _pooled(
                session, model, [(s, e) for s, e in windows], ledger.parent_version, settings.metric
            )
            try:
                result = _gate_dict(frame, model, settings, served_is_challenger=True)
            except ConflictError as exc:
                result = {"decision": "hold", "reasons": [str(exc)]}
            status = OUTCOMES[result["decision"]]
            ledger.outcome = {
                **result,
                "windows": [s.isoformat() for s, _ in sorted(windows)],
                "old": ledger.parent_version,
                "new": ledger.candidate_version,
                "summary": _outcome_sentence(status, result),
            }
            ledger.outcome_status = status
            old = _version(session, model, ledger.parent_version)
            if old.stage == "shadow":
                old.stage = "retired"
            audit(
                session,
                actor="mlwarden",
                action="retrain.outcome",
                entity=f"model:{model.name}@{ledger.candidate_version}",
                after={"retrain": ledger.id, "outcome": status, "retired": old.version},
            )
            done.append(retrain_dict(ledger))
    return done


def _gate_settings(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k in ("metric", "confidence")}


def _outcome_sentence(status: str, result: dict[str, Any]) -> str:
    if result.get("delta") is None or result.get("ci") is None:
        return "no difference measured: " + "; ".join(result.get("reasons") or [])
    low, high = result["ci"]
    verdict = {"helped": "helped", "hurt": "hurt", "no_difference": "made no significant difference"}[status]
    return (
        f"the retrain {verdict}: {result['metric']} {result['challenger']:.4g} (new) vs "
        f"{result['champion']:.4g} (old) on the same {result['n']:,} live rows, difference "
        f"{result['delta']:+.4g} [{low:+.4g}, {high:+.4g}]"
    )
