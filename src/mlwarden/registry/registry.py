"""The model registry: models with owners, on-call, runbook, SLOs and staged versions; changes are audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mlwarden.errors import AccessDenied, ConflictError, InputError, NotFoundError
from mlwarden.registry.actor import Actor
from mlwarden.registry.columns import service_mapping, stored_columns
from mlwarden.registry.tokens import get_or_create_team
from mlwarden.schema.config import SLO_BOUND, check_slo, model_name_problem, segment_key_problem
from mlwarden.store import Store
from mlwarden.store.audit import record
from mlwarden.store.schema import Model, ModelVersion, Team, utcnow

STAGES = ("shadow", "challenger", "champion", "retired")
OWNER_FIELDS = ("owner_name", "owner_email", "oncall", "runbook_url")
SETTABLE = (
    *OWNER_FIELDS,
    "description",
    "slos",
    "segment_slos",
    "columns",
    "window_seconds",
    "grace_seconds",
    "contract",
)
# a window from a minute to a month, a grace of up to a week: beyond these a window never closes in time to
# matter, and datetime arithmetic on the seconds would overflow
WINDOW_SECONDS = (60, 31 * 86_400)
GRACE_SECONDS = (0, 7 * 86_400)
BOUNDS = {"window_seconds": WINDOW_SECONDS, "grace_seconds": GRACE_SECONDS}


@dataclass(slots=True)
class ModelSpec:
    """What a model is registered with. ``columns`` is its :class:`~mlwarden.schema.ColumnMapping` as a dict
    (``{"target": "churned", "scores": {"a": "p_a", "b": "p_b"}, "ignore": [...], ...}``): the names of the
    columns of tabular batches and of the reference, with the defaults of
    :data:`~mlwarden.registry.columns.SERVICE_DEFAULTS` for the roles it leaves out."""

    name: str
    team: str
    description: str = ""
    owner_name: str | None = None
    owner_email: str | None = None
    oncall: str | None = None
    runbook_url: str | None = None
    slos: dict[str, float] = field(default_factory=dict)
    # per segment ("country=FR"; "*": every segment) of columns.segments: {segment: {metric: limit}}
    segment_slos: dict[str, dict[str, float]] = field(default_factory=dict)
    columns: dict[str, Any] = field(default_factory=dict)
    window_seconds: int = 3600
    grace_seconds: int = 60


def model_dict(model: Model, team: Team, versions: list[ModelVersion] | None = None) -> dict[str, Any]:
    """A JSON-ready view of a model (the API's and the CLI's shape)."""
    out = {
        "name": model.name,
        "team": team.name,
        "description": model.description,
        "owner": {"name": model.owner_name, "email": model.owner_email},
        "oncall": model.oncall,
        "runbook_url": model.runbook_url,
        "slos": model.slos,
        "segment_slos": model.segment_slos or {},
        "columns": stored_columns(service_mapping(model.columns)),  # rows of the first release normalised
        "window_seconds": model.window_seconds,
        "grace_seconds": model.grace_seconds,
        "has_contract": model.contract is not None,
        "created_at": model.created_at.isoformat(),
        "updated_at": model.updated_at.isoformat(),
    }
    if versions is not None:
        out["versions"] = [version_dict(v) for v in versions]
    return out


def version_dict(version: ModelVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "stage": version.stage,
        "artifact_uri": version.artifact_uri,
        "feature_fingerprint": version.feature_fingerprint,
        "offline_metrics": version.offline_metrics,
        "has_training_profile": version.training_profile is not None,
        "created_at": version.created_at.isoformat(),
    }


def _editable(model: Model) -> dict[str, Any]:
    return {name: getattr(model, name) for name in SETTABLE}


def validate_settings(values: dict[str, Any]) -> None:
    """Reject SLOs on unknown metrics, non-numeric limits or limits out of the metric's range (the one
    :func:`~mlwarden.schema.config.check_slo` of the config file and ``--slo``), per-segment SLOs not keyed
    by segment names, and window or grace seconds outside :data:`BOUNDS` (``window_seconds: expected a
    whole number of seconds from 60 to 2678400, got 1``). Segment keys are checked against the model's
    segments by :func:`check_segment_slos`."""
    _check_limits(values.get("slos") or {}, "slos")
    segment_slos = values.get("segment_slos") or {}
    if not isinstance(segment_slos, dict):
        raise InputError(f"segment_slos: expected {{segment: {{metric: limit}}}}, got {segment_slos!r}")
    for segment, limits in segment_slos.items():
        problem = segment_key_problem(segment, None)
        if problem:
            raise InputError(f"segment_slos.{segment}: {problem}")
        if not isinstance(limits, dict):
            raise InputError(f"segment_slos.{segment}: expected {{metric: limit}}, got {limits!r}")
        _check_limits(limits, f"segment_slos.{segment}")
    for name, (low, high) in BOUNDS.items():
        value = values.get(name)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high
        ):
            expected = f"a whole number of seconds from {low} to {high}"
            raise InputError(f"{name}: expected {expected}, got {value!r}")


def _check_limits(limits: dict[str, Any], path: str) -> None:
    """``{metric: limit}`` at ``path``: each a number, checked by :func:`check_slo` on its metric's side
    (``slos.roc_auc: roc_auc lies in [0, 1]: expected a limit between 0 and 1, got 78``)."""
    for metric, limit in limits.items():
        if not isinstance(limit, int | float) or isinstance(limit, bool):
            raise InputError(f"{path}.{metric}: expected a number, got {limit!r}")
        try:
            check_slo(metric, SLO_BOUND.get(metric, "min"), float(limit))
        except OverflowError:  # an integer past float's range: no metric's limit
            raise InputError(f"{path}.{metric}: expected a finite limit, got {limit}") from None
        except ValueError as exc:
            raise InputError(f"{path}.{metric}: {exc}") from None


def check_segment_slos(segment_slos: dict[str, Any], columns: dict[str, Any]) -> None:
    """Raise :class:`InputError` naming the path (``segment_slos.region=EU: 'region' is not one of the
    model's segments (columns.segments: country)``) when a per-segment SLO's key is not a segment of the
    model's ``columns.segments`` (stored form) or ``"*"``."""
    splits = service_mapping(columns).segments
    for segment in segment_slos or {}:
        problem = segment_key_problem(segment, splits)
        if problem:
            raise InputError(f"segment_slos.{segment}: {problem}")


def checked_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` without ``None`` values, validated, the column mapping in its stored form; raises
    :class:`InputError` naming the field."""
    unknown = set(changes) - set(SETTABLE)
    if unknown:
        raise InputError(f"cannot change {sorted(unknown)}; settable: {', '.join(SETTABLE)}")
    changes = {k: v for k, v in changes.items() if v is not None}
    validate_settings(changes)
    if "columns" in changes:
        changes["columns"] = stored_columns(service_mapping(changes["columns"]))
    return changes


def find_model(session: Session, actor: Actor, name: str) -> Model:
    """The model named ``name`` in the actor's team (names are unique per team, and hold no ``/``). Another
    team's model does not exist for a team's token: :class:`NotFoundError`, exactly as for a name nobody
    uses. The operator (no team) sees every team's models: a name several teams use is ambiguous
    (:class:`InputError`) unless given as ``team/name``."""
    team, _, bare = name.rpartition("/")
    query = select(Model).where(Model.name == bare)
    if team:
        query = query.join(Team, Team.id == Model.team_id).where(Team.name == team)
    if actor.team_id is not None:
        query = query.where(Model.team_id == actor.team_id)
    found = session.scalars(query.limit(2)).all()
    if not found:
        raise NotFoundError(f"no model named {name!r}")
    if len(found) > 1:
        raise InputError(f"model {name!r}: several teams use this name; give it as TEAM/{name}")
    return found[0]


class Registry:
    """Models, owners and versions in a :class:`~mlwarden.store.Store`, scoped to what an actor may see."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def create_model(self, actor: Actor, spec: ModelSpec) -> dict[str, Any]:
        actor.require("admin")
        problem = model_name_problem(spec.name)
        if problem:
            raise InputError(f"name: {problem}")
        validate_settings(
            {
                "slos": spec.slos,
                "segment_slos": spec.segment_slos,
                "window_seconds": spec.window_seconds,
                "grace_seconds": spec.grace_seconds,
            }
        )
        columns = stored_columns(service_mapping(spec.columns))
        check_segment_slos(spec.segment_slos, columns)
        with self.store.session() as session:
            team = get_or_create_team(session, spec.team)
            if actor.team_id is not None and team.id != actor.team_id:
                raise AccessDenied(f"a token of another team cannot register models for team {spec.team!r}")
            taken = select(Model.id).where(Model.team_id == team.id, Model.name == spec.name)
            if session.scalar(taken) is not None:  # names are per team: another team's names are not seen
                raise ConflictError(f"team {spec.team!r} already has a model named {spec.name!r}")
            model = Model(
                name=spec.name,
                team_id=team.id,
                description=spec.description,
                owner_name=spec.owner_name,
                owner_email=spec.owner_email,
                oncall=spec.oncall,
                runbook_url=spec.runbook_url,
                slos=dict(spec.slos),
                segment_slos=dict(spec.segment_slos),
                columns=columns,
                window_seconds=spec.window_seconds,
                grace_seconds=spec.grace_seconds,
            )
            session.add(model)
            try:
                session.flush()
            except IntegrityError:  # registered by a concurrent request a moment ago
                raise ConflictError(f"team {spec.team!r} already has a model named {spec.name!r}") from None
            out = model_dict(model, team, [])
            record(session, actor=actor.name, action="model.create", entity=f"model:{spec.name}", after=out)
        return out

    def list_models(self, actor: Actor) -> list[dict[str, Any]]:
        actor.require("read")
        with self.store.session() as session:
            query = select(Model, Team).join(Team, Team.id == Model.team_id).order_by(Model.name)
            if actor.team_id is not None:
                query = query.where(Model.team_id == actor.team_id)
            return [model_dict(m, t) for m, t in session.execute(query).all()]

    def get_model(self, actor: Actor, name: str) -> dict[str, Any]:
        actor.require("read")
        with self.store.session() as session:
            model = find_model(session, actor, name)
            versions = session.scalars(
                select(ModelVersion).where(ModelVersion.model_id == model.id).order_by(ModelVersion.id)
            ).all()
            return model_dict(model, session.get(Team, model.team_id), list(versions))

    def update_model(self, actor: Actor, name: str, **changes: Any) -> dict[str, Any]:
        """Change owner fields, SLOs, description, the column mapping (replaced whole: roles left out take
        the service's defaults) or window settings; ``None`` values are left alone."""
        actor.require("admin")
        changes = checked_changes(changes)
        with self.store.session() as session:
            return self.update_in(session, actor, find_model(session, actor, name), changes)

    def update_in(
        self, session: Session, actor: Actor, model: Model, changes: dict[str, Any]
    ) -> dict[str, Any]:
        """Apply validated ``changes`` to ``model`` inside ``session``'s transaction, audited (the path
        :meth:`update_model` and applying a configuration file share)."""
        if "columns" in changes or "segment_slos" in changes:  # the two as they will be, together
            check_segment_slos(
                changes.get("segment_slos", model.segment_slos), changes.get("columns", model.columns)
            )
        before = _editable(model)
        for key, value in changes.items():
            setattr(model, key, value)
        model.updated_at = utcnow()
        after = _editable(model)
        action = "model.set_owner" if set(changes) <= set(OWNER_FIELDS) else "model.update"
        record(
            session, actor=actor.name, action=action, entity=f"model:{model.name}", before=before, after=after
        )
        return model_dict(model, session.get(Team, model.team_id))

    def set_owner(self, actor: Actor, name: str, **owner: str | None) -> dict[str, Any]:
        unknown = set(owner) - set(OWNER_FIELDS)
        if unknown:
            raise InputError(f"unknown owner fields {sorted(unknown)}; expected {', '.join(OWNER_FIELDS)}")
        return self.update_model(actor, name, **owner)

    def register_version(
        self,
        actor: Actor,
        name: str,
        version: str,
        *,
        stage: str = "shadow",
        artifact_uri: str | None = None,
        feature_fingerprint: str | None = None,
        offline_metrics: dict[str, float] | None = None,
        training_profile: bytes | None = None,
    ) -> dict[str, Any]:
        actor.require("admin")
        if stage not in STAGES:
            raise InputError(f"stage: expected one of {', '.join(STAGES)}, got {stage!r}")
        if not version:
            raise InputError("version: expected a non-empty version label")
        with self.store.session() as session:
            model = find_model(session, actor, name)
            exists = session.scalar(
                select(ModelVersion.id).where(
                    ModelVersion.model_id == model.id, ModelVersion.version == version
                )
            )
            if exists is not None:
                raise ConflictError(f"model {name!r} already has a version {version!r}")
            if stage == "champion":
                self._demote_champion(session, actor, model)
            row = ModelVersion(
                model_id=model.id,
                version=version,
                stage=stage,
                artifact_uri=artifact_uri,
                feature_fingerprint=feature_fingerprint,
                offline_metrics=dict(offline_metrics or {}),
                training_profile=training_profile,
            )
            session.add(row)
            session.flush()
            out = version_dict(row)
            record(
                session,
                actor=actor.name,
                action="version.create",
                entity=f"model:{name}@{version}",
                after=out,
            )
        return out

    def set_stage(self, actor: Actor, name: str, version: str, stage: str) -> dict[str, Any]:
        """Move a version to ``stage``; promoting a champion retires the previous one (both audited)."""
        actor.require("admin")
        if stage not in STAGES:
            raise InputError(f"stage: expected one of {', '.join(STAGES)}, got {stage!r}")
        with self.store.session() as session:
            model = find_model(session, actor, name)
            row = session.scalar(
                select(ModelVersion).where(ModelVersion.model_id == model.id, ModelVersion.version == version)
            )
            if row is None:
                raise NotFoundError(f"model {name!r} has no version {version!r}")
            if stage == "champion" and row.stage != "champion":
                self._demote_champion(session, actor, model)
            before = version_dict(row)
            row.stage = stage
            record(
                session,
                actor=actor.name,
                action="version.stage",
                entity=f"model:{name}@{version}",
                before=before,
                after=version_dict(row),
            )
            return version_dict(row)

    def set_training_profile(self, actor: Actor, name: str, version: str, profile: bytes) -> dict[str, Any]:
        """Attach the profile of a version's training data (replacing any earlier one; audited)."""
        actor.require("admin")
        with self.store.session() as session:
            model = find_model(session, actor, name)
            row = session.scalar(
                select(ModelVersion).where(ModelVersion.model_id == model.id, ModelVersion.version == version)
            )
            if row is None:
                raise NotFoundError(f"model {name!r} has no version {version!r}")
            before = row.training_profile is not None
            row.training_profile = profile
            record(
                session,
                actor=actor.name,
                action="version.training_profile",
                entity=f"model:{name}@{version}",
                before={"has_training_profile": before},
                after={"has_training_profile": True, "bytes": len(profile)},
            )
            return version_dict(row)

    def _demote_champion(self, session: Session, actor: Actor, model: Model) -> None:
        for old in session.scalars(
            select(ModelVersion).where(ModelVersion.model_id == model.id, ModelVersion.stage == "champion")
        ):
            record(
                session,
                actor=actor.name,
                action="version.stage",
                entity=f"model:{model.name}@{old.version}",
                before={"stage": "champion"},
                after={"stage": "retired"},
            )
            old.stage = "retired"
