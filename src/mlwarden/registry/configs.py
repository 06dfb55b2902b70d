"""Model configuration as code (DESIGN §5): apply a YAML file to a model, versioned and audited.

Applying validates the whole file first (an error names the path and changes nothing: the previous
configuration stays in force), then in one transaction updates the model's owner, runbook, window, columns
and SLOs from the file (the registry's own update path, audited) and stores the text as the next version.
The text is stored as given: ``${ENV}`` references stay references, their values are never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mlwarden.errors import InputError, NotFoundError
from mlwarden.registry.actor import Actor
from mlwarden.registry.columns import service_mapping
from mlwarden.registry.registry import BOUNDS, ModelSpec, Registry, checked_changes, find_model
from mlwarden.schema.alerting import parse_duration
from mlwarden.schema.config import ModelConfig, segment_key_problem
from mlwarden.store import Store
from mlwarden.store.audit import record
from mlwarden.store.schema import Model, ModelConfigVersion, Team

MAX_CONFIG = 1024 * 1024  # bytes of YAML


@dataclass(frozen=True, slots=True)
class CheckedConfig:
    """A validated configuration file: the parsed model and the registry changes it implies."""

    config: ModelConfig
    changes: dict[str, Any]


def check_config(text: str, *, name: str | None = None, source: str | None = None) -> CheckedConfig:
    """Validate ``text`` as a whole; raise :class:`InputError` naming the failing path. ``name``: the model
    it is applied to (a ``model:`` naming another is an error)."""
    if len(text.encode()) > MAX_CONFIG:
        raise InputError(f"configuration: larger than {MAX_CONFIG:,} bytes")
    config = ModelConfig.from_text(text, source=source)
    if name is not None and config.model is not None and config.model != name.rpartition("/")[2]:
        raise InputError(f"model: the file configures {config.model!r}, not {name!r}")
    try:
        return CheckedConfig(config, checked_changes(_changes(config)))
    except InputError as exc:  # named like the file's other errors: "churn.yaml: window: ..."
        raise InputError(f"{source}: {exc}" if source else str(exc)) from None


def _changes(config: ModelConfig) -> dict[str, Any]:
    """The model fields the file sets (sections it leaves out leave the model's values alone)."""
    owner = config.owner or {}
    changes: dict[str, Any] = {
        "owner_name": owner.get("name"),
        "owner_email": owner.get("email"),
        "oncall": owner.get("oncall"),
        "runbook_url": config.runbook,
        "columns": config.mapping if "columns" in config.model_fields_set else None,
        "slos": config.slo_limits() if config.slo else None,
        "segment_slos": config.segment_slo_limits() if config.slo else None,
    }
    if config.window is not None:
        try:
            seconds = parse_duration(config.window)
        except ValueError as exc:
            raise InputError(f"window: {exc}") from None
        low, high = BOUNDS["window_seconds"]
        if seconds != int(seconds) or not low <= seconds <= high:  # named as in the file, not window_seconds
            expected = f"whole seconds from {low} ({low // 60}m) to {high} ({high // 86_400}d)"
            raise InputError(f"window: expected {expected}, got {config.window!r}")
        changes["window_seconds"] = int(seconds)
    for key in ("name", "email", "oncall"):
        if owner.get(key) is not None and not isinstance(owner[key], str):
            raise InputError(f"owner.{key}: expected text, got {owner[key]!r}")
    return changes


def apply_config(
    registry: Registry, actor: Actor, name: str, text: str, *, create: bool = False
) -> dict[str, Any]:
    """Apply configuration ``text`` to model ``name`` (registered first when missing and ``create``: in the
    actor's team, or the file's ``owner.team`` for the operator). Returns ``{"model", "version",
    "changed"}``; ``changed`` is False when the text equals the current version (nothing is stored)."""
    actor.require("admin")
    checked = check_config(text, name=name)
    store = registry.store
    with store.session() as session:
        try:
            find_model(session, actor, name)
            missing = False
        except NotFoundError:
            missing = True
    if missing:
        if not create:
            raise NotFoundError(f"no model named {name!r}")
        registry.create_model(
            actor, ModelSpec(name=name.rpartition("/")[2], team=_team(actor, checked, store))
        )
    with store.session() as session:
        model = find_model(session, actor, name)
        current = latest(session, model.id)
        if current is not None and current.text == text:
            return {"model": model.name, "version": current.version, "changed": False}
        if "columns" not in checked.config.model_fields_set:  # segment SLOs against the model's segments
            _check_segment_keys(checked.config, model.columns)
        registry.update_in(session, actor, model, checked.changes)
        version = (current.version if current else 0) + 1
        session.add(ModelConfigVersion(model_id=model.id, version=version, text=text, actor=actor.name))
        record(
            session,
            actor=actor.name,
            action="model.config.apply",
            entity=f"model:{model.name}",
            before={"version": current.version if current else None},
            after={"version": version},
        )
    return {"model": model.name, "version": version, "changed": True}


def _check_segment_keys(config: ModelConfig, columns: dict[str, Any]) -> None:
    """Raise :class:`InputError` naming the file's path (``slo.roc_auc.segments.region=EU: ...``) when a
    per-segment SLO names a split that is not one of the model's ``columns.segments`` (stored form)."""
    splits = service_mapping(columns).segments
    for metric, bound in config.slo.items():
        for segment in bound.segments:
            problem = segment_key_problem(segment, splits)
            if problem:
                raise InputError(f"slo.{metric}.segments.{segment}: {problem}")


def _team(actor: Actor, checked: CheckedConfig, store: Store) -> str:
    """The team a new model is registered in: the token's, or the file's ``owner.team`` for the operator."""
    if actor.team_id is not None:
        with store.session() as session:
            return session.get(Team, actor.team_id).name
    team = (checked.config.owner or {}).get("team")
    if not isinstance(team, str) or not team:
        raise InputError("owner.team: required to register a new model without a team token")
    return team


def latest(session: Session, model_id: int) -> ModelConfigVersion | None:
    """The configuration in force for a model (its highest version), or ``None``."""
    return session.scalar(
        select(ModelConfigVersion)
        .where(ModelConfigVersion.model_id == model_id)
        .order_by(ModelConfigVersion.version.desc())
        .limit(1)
    )


def config_version(session: Session, model: Model, version: int | None = None) -> ModelConfigVersion:
    """Version ``version`` of a model's configuration (the latest when ``None``); :class:`NotFoundError`
    when there is none."""
    if version is None:
        row = latest(session, model.id)
    else:
        row = session.scalar(
            select(ModelConfigVersion).where(
                ModelConfigVersion.model_id == model.id, ModelConfigVersion.version == version
            )
        )
    if row is None:
        which = "no configuration" if version is None else f"no configuration version {version}"
        raise NotFoundError(f"model {model.name!r} has {which}")
    return row


def history(session: Session, model: Model) -> list[dict[str, Any]]:
    """Every applied version of a model's configuration, oldest first (without the text)."""
    rows = session.scalars(
        select(ModelConfigVersion)
        .where(ModelConfigVersion.model_id == model.id)
        .order_by(ModelConfigVersion.version)
    )
    return [version_dict(r, text=False) for r in rows]


def version_dict(row: ModelConfigVersion, *, text: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "version": row.version,
        "actor": row.actor,
        "applied_at": row.applied_at.isoformat(),
    }
    if text:
        out["text"] = row.text
    return out
