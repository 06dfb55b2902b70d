"""The HTTP API (FastAPI): registry, references, ingestion, findings, alerts, /metrics and /healthz.

Stateless: every request reads and writes the store, so any number of replicas can share one PostgreSQL.
What the service guarantees (team isolation, no file reads, bounded caches) is in docs/service.md,
"Guarantees and limits", with the test proving each.
"""

import hmac
import logging
import os
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field
from sqlalchemy import select, text

from mlwarden.errors import AccessDenied, ConflictError, InputError, NotFoundError
from mlwarden.profile import DatasetProfile, merge, profile
from mlwarden.registry import Actor, ModelSpec, Registry, authenticate, find_model, model_mapping
from mlwarden.registry.registry import GRACE_SECONDS, WINDOW_SECONDS
from mlwarden.registry.tokens import digest
from mlwarden.server import batches
from mlwarden.server.cache import TTLCache
from mlwarden.server.ingest import ingest_labels, ingest_predictions, latest_reference_id_in
from mlwarden.server.metrics import LatencyMiddleware, ServiceMetrics, TeamView
from mlwarden.server.reference import read_reference, store_reference
from mlwarden.server.windows import Scheduler, evaluate_due
from mlwarden.store import Store
from mlwarden.store.schema import (
    Alert,
    AuditEntry,
    Model,
    PartialProfile,
    Reference,
    StoredFinding,
    Team,
    Window,
)

log = logging.getLogger("mlwarden.server")
DEFAULT_MAX_BODY = 64 * 1024 * 1024
MAX_CONTRACT = 1024 * 1024  # a contract's YAML (parsed contracts are cached: their size is bounded too)
SEVERITIES = ("info", "warning", "critical")
UPLOAD_TYPES = {
    "parquet": "application/vnd.apache.parquet",
    "pq": "application/vnd.apache.parquet",
    "arrow": "application/vnd.apache.arrow.file",
    "feather": "application/vnd.apache.arrow.file",
    "csv": "text/csv",
    "mlwprof": "application/octet-stream",
}
CACHE_SECONDS = 5.0  # how long a model/reference change or a token revocation may take to reach a replica
CACHE_ITEMS = 10_000  # entries per cache (tokens, models, references, teams): random ones cannot grow it
PROFILE_CACHE_ITEMS = 64  # decoded reference profiles (the largest entries: up to a few MB each)
WINDOW_FIELD = Field(ge=WINDOW_SECONDS[0], le=WINDOW_SECONDS[1], description="window length in seconds")
GRACE_FIELD = Field(ge=GRACE_SECONDS[0], le=GRACE_SECONDS[1], description="seconds to wait for late data")


class ErrorOut(BaseModel):
    """Every error but FastAPI's own request validation: one line naming the field and what was expected."""

    detail: str


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(BaseModel):
    """FastAPI's request validation error: a list of the fields that failed."""

    detail: list[FieldError]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no token, or an unknown or revoked one"},
    403: {"model": ErrorOut, "description": "the token lacks the scope"},
    404: {"model": ErrorOut, "description": "no such model in the caller's team"},
    409: {"model": ErrorOut, "description": "conflict (the name is taken in the team)"},
    413: {"model": ErrorOut, "description": "body above the size limit"},
    422: {"model": ErrorOut | ValidationErrorOut, "description": "invalid input, the field named"},
}


class ModelIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, pattern=r"^[^/]+$")
    team: str | None = Field(default=None, description="defaults to the token's team")
    description: str = ""
    owner_name: str | None = None
    owner_email: str | None = None
    oncall: str | None = None
    runbook_url: str | None = None
    slos: dict[str, float] = Field(default_factory=dict)
    columns: dict[str, Any] = Field(
        default_factory=dict,
        description=(
            "the model's column mapping: target, prediction, scores (a column, or {class: column} in the "
            "model's class order), positive_label, task, id, timestamp, ignore, categorical, numeric, "
            "segments, drift; roles left out default to id, timestamp, prediction, score and label"
        ),
    )
    window_seconds: Annotated[int, WINDOW_FIELD] = 3600
    grace_seconds: Annotated[int, GRACE_FIELD] = 60


class ModelUpdate(BaseModel):
    owner_name: str | None = None
    owner_email: str | None = None
    oncall: str | None = None
    runbook_url: str | None = None
    description: str | None = None
    slos: dict[str, float] | None = None
    columns: dict[str, Any] | None = Field(
        default=None, description="a new column mapping, replacing the old one (as in registration)"
    )
    window_seconds: Annotated[int, WINDOW_FIELD] | None = None
    grace_seconds: Annotated[int, GRACE_FIELD] | None = None


class VersionIn(BaseModel):
    version: str = Field(min_length=1, max_length=100)
    stage: str = "shadow"
    artifact_uri: str | None = None
    feature_fingerprint: str | None = None
    offline_metrics: dict[str, float] = Field(default_factory=dict)


class StageIn(BaseModel):
    stage: str


class LabelIn(BaseModel):
    id: str = Field(min_length=1, max_length=200)
    label: str | int | float | bool
    timestamp: datetime | None = None


class LabelsIn(BaseModel):
    batch_id: str = Field(min_length=1, max_length=200)
    labels: list[LabelIn] = Field(min_length=1, max_length=batches.MAX_ROWS)


def create_app(
    store: Store,
    *,
    auth: bool = True,
    evaluate_every: float | None = 10.0,
    max_body: int = DEFAULT_MAX_BODY,
    metrics_token: str | None = None,
    cache_items: int = CACHE_ITEMS,
) -> FastAPI:
    """The API over ``store``. ``auth=False`` serves without tokens (local use only);
    ``evaluate_every`` runs the window scheduler in-process (``None``: ``mlwarden worker`` does it);
    ``metrics_token`` (default: ``$MLWARDEN_METRICS_TOKEN``), when set, is a secret that lets a scraper read
    every team's series on ``/metrics`` (a team's read token reads its own team's); ``cache_items`` bounds
    each lookup cache."""
    if metrics_token is None:
        metrics_token = os.environ.get("MLWARDEN_METRICS_TOKEN") or None
    registry = Registry(store)
    metrics = ServiceMetrics(store)

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        scheduler = Scheduler(store, evaluate_every) if evaluate_every else None
        if scheduler:
            scheduler.start()
        yield
        if scheduler:
            scheduler.stop()

    app = FastAPI(title="mlwarden", version=_version(), lifespan=lifespan, responses=ERROR_RESPONSES)
    app.state.store, app.state.metrics = store, metrics
    app.add_middleware(LatencyMiddleware, metrics=metrics, logger=logging.getLogger("mlwarden.access"))

    for error, status in ((InputError, 422), (NotFoundError, 404), (ConflictError, 409), (AccessDenied, 403)):
        app.add_exception_handler(error, _handler(status))
    app.add_exception_handler(RequestValidationError, _invalid_request)

    actors, models = TTLCache(CACHE_SECONDS, cache_items), TTLCache(CACHE_SECONDS, cache_items)
    references, teams = TTLCache(CACHE_SECONDS, cache_items), TTLCache(CACHE_SECONDS, cache_items)
    profiles = TTLCache(float("inf"), PROFILE_CACHE_ITEMS)  # a stored reference never changes
    app.state.caches = {
        "actors": actors,
        "models": models,
        "references": references,
        "teams": teams,
        "profiles": profiles,
    }

    def actor(authorization: Annotated[str | None, Header()] = None) -> Actor:
        if not auth:
            return Actor.operator("anonymous")
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        token = token.strip()
        found = actors.get(digest(token), lambda: authenticate(store, token))
        if found is None:
            raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
        return found

    Caller = Annotated[Actor, Depends(actor)]

    def load_model(caller: Actor, name: str) -> Model | None:
        with store.session() as session:
            try:
                return find_model(session, caller, name)
            except NotFoundError:  # cached too: a flood of unknown names costs one query each per TTL
                return None

    def model_row(caller: Actor, name: str, scope: str) -> Model:
        """The caller's model ``name`` (404 for another team's, as for none), once ``scope`` is held."""
        caller.require(scope)
        found = models.get((caller.team_id, name), lambda: load_model(caller, name))
        if found is None:
            raise NotFoundError(f"no model named {name!r}")
        return found

    def forget_model(caller: Actor, name: str) -> None:
        models.forget((caller.team_id, name))

    def team_name(team_id: int) -> str:
        def load() -> str:
            with store.session() as session:
                return session.get(Team, team_id).name

        return teams.get(team_id, load)

    def reference_profile(reference_id: int) -> DatasetProfile | None:
        """The decoded reference, or None when its stored blob is corrupt (logged; batches are still
        stored, profiled without it, and window evaluation reports it as a critical ``data.corrupt``)."""

        def load() -> DatasetProfile | None:
            with store.session() as session:
                blob = session.get(Reference, reference_id).profile
            try:
                return DatasetProfile.from_bytes(blob)
            except InputError:
                log.exception("stored reference is corrupt", extra={"reference_id": reference_id})
                return None

        return profiles.get(reference_id, load)

    def latest_reference_id(model_id: int) -> int | None:
        with store.session() as session:
            return latest_reference_id_in(session, model_id)

    def current_reference(model: Model) -> DatasetProfile | None:
        ref_id = references.get(model.id, lambda: latest_reference_id(model.id))
        return reference_profile(ref_id) if ref_id is not None else None

    def count_batch(model: Model, kind: str, result: Any) -> None:
        team = team_name(model.team_id)
        metrics.batches.labels(team, model.name, kind, "duplicate" if result.duplicate else "stored").inc()
        if not result.duplicate:
            metrics.rows.labels(team, model.name, kind).inc(result.rows)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        with store.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok", "store": store.backend}

    def scraper(authorization: Annotated[str | None, Header()] = None) -> str | None:
        """Whose series a /metrics request may read: a team's name, or None for every team's (the
        configured ``metrics_token``, or a server without auth)."""
        scheme, _, token = (authorization or "").partition(" ")
        given, wanted = token.strip().encode(), (metrics_token or "").encode()
        if wanted and scheme.lower() == "bearer" and hmac.compare_digest(given, wanted):
            return None
        caller = actor(authorization)
        caller.require("read")
        return None if caller.team_id is None else team_name(caller.team_id)

    @app.get("/metrics", include_in_schema=False)
    def prometheus(team: Annotated[str | None, Depends(scraper)]) -> Response:
        """Prometheus metrics: a team's token reads its own team's series; ``metrics_token`` every team's."""
        return Response(generate_latest(TeamView(metrics.registry, team)), media_type=CONTENT_TYPE_LATEST)

    @app.post("/v1/models", status_code=201)
    def create_model(body: ModelIn, caller: Caller) -> dict[str, Any]:
        team = body.team or _team_of(store, caller)
        spec = ModelSpec(**{**body.model_dump(exclude={"team"}), "team": team})
        created = registry.create_model(caller, spec)
        forget_model(caller, body.name)  # a 404 cached a moment ago
        return created

    @app.get("/v1/models")
    def list_models(caller: Caller) -> list[dict[str, Any]]:
        return registry.list_models(caller)

    @app.get("/v1/models/{name}")
    def get_model(name: str, caller: Caller) -> dict[str, Any]:
        return registry.get_model(caller, name)

    @app.patch("/v1/models/{name}")
    def update_model(name: str, body: ModelUpdate, caller: Caller) -> dict[str, Any]:
        updated = registry.update_model(caller, name, **body.model_dump(exclude_none=True))
        forget_model(caller, name)
        return updated

    @app.post("/v1/models/{name}/versions", status_code=201)
    def register_version(name: str, body: VersionIn, caller: Caller) -> dict[str, Any]:
        return registry.register_version(caller, name, **body.model_dump())

    @app.put("/v1/models/{name}/versions/{version}/stage")
    def set_stage(name: str, version: str, body: StageIn, caller: Caller) -> dict[str, Any]:
        return registry.set_stage(caller, name, version, body.stage)

    @app.get(
        "/v1/models/{name}/contract",
        response_class=Response,
        responses={200: {"content": {"application/yaml": {}}}},
    )
    def get_contract(name: str, caller: Caller) -> Response:
        """The model's input/output contract (inferred from its first reference, or as last PUT)."""
        model = model_row(caller, name, "read")
        if model.contract is None:
            raise NotFoundError(f"model {name!r} has no contract yet: upload a reference or PUT one")
        return Response(model.contract, media_type="application/yaml")

    @app.put("/v1/models/{name}/contract")
    async def put_contract(name: str, request: Request, caller: Caller) -> dict[str, Any]:
        """Replace the contract with an edited YAML; every later batch is validated against it. The body
        is YAML text, never a path: the server opens no file a request names."""
        from mlwarden.quality import Contract

        model_row(caller, name, "admin")  # another team's model, or none: 404 before the body is read
        body, _ = await _read_body(request, min(max_body, MAX_CONTRACT))
        text = body.decode("utf-8", errors="replace")
        contract = Contract.from_yaml_text(text)  # rejects invalid YAML with the offending key named
        updated = registry.update_model(caller, name, contract=text)
        forget_model(caller, name)
        return {"name": updated["name"], "columns": len(contract.columns)}

    @app.post("/v1/models/{name}/reference", status_code=201)
    async def post_reference(name: str, request: Request, caller: Caller) -> dict[str, Any]:
        """The reference: a saved profile, or Parquet / Arrow IPC / CSV data — as the raw body with its
        Content-Type, or as a multipart file upload (field ``file``; the type from the file name)."""
        model = model_row(caller, name, "ingest")
        body, content_type = await _read_upload(request, max_body)
        data = await run_in_threadpool(read_reference, body, content_type)
        stored = await run_in_threadpool(store_reference, store, model, data)
        references.forget(model.id)
        forget_model(caller, name)
        return stored

    @app.put("/v1/models/{name}/versions/{version}/training-profile")
    async def put_training_profile(
        name: str, version: str, request: Request, caller: Caller
    ) -> dict[str, Any]:
        """The profile of the data a version was trained on (a saved profile, or data to profile — binned
        on the reference's edges, as windows are, so that window skew checks compare bin by bin)."""
        model = model_row(caller, name, "admin")
        body, content_type = await _read_upload(request, max_body)
        data = await run_in_threadpool(read_reference, body, content_type)

        def training_profile() -> DatasetProfile:
            if isinstance(data, DatasetProfile):
                return data
            return profile(data, mapping=model_mapping(model), reference=current_reference(model))

        training = await run_in_threadpool(training_profile)
        return registry.set_training_profile(caller, name, version, training.to_bytes())

    @app.post("/v1/models/{name}/batches")
    async def post_batch(
        name: str,
        request: Request,
        caller: Caller,
        batch_id: Annotated[str | None, Query(description="required for Parquet/Arrow bodies")] = None,
        fingerprint: str | None = None,
        model_version: str | None = None,
        layout: Annotated[
            Literal["columns", "records"],
            Query(
                description="Parquet/Arrow bodies: columns named by the model's mapping, or records' layout"
            ),
        ] = "columns",
    ) -> dict[str, Any]:
        model = model_row(caller, name, "ingest")
        body, content_type = await _read_body(request, max_body)

        def work() -> dict[str, Any]:
            mapping = model_mapping(model)
            if content_type in batches.TABLE_TYPES:
                batch = batches.from_table(
                    body,
                    content_type,
                    batch_id,
                    mapping,
                    layout=layout,
                    fingerprint=fingerprint,
                    model_version=model_version,
                )
            elif content_type in batches.JSON_TYPES:
                batch = batches.from_json(batches.parse_json(body), mapping)
            else:
                raise InputError(
                    f"Content-Type {content_type!r} not supported: use application/json, "
                    "application/vnd.apache.parquet or application/vnd.apache.arrow.stream"
                )
            result = ingest_predictions(store, model, batch, current_reference(model))
            count_batch(model, "predictions", result)
            return result.to_dict()

        return await run_in_threadpool(work)

    @app.post("/v1/models/{name}/labels")
    def post_labels(name: str, body: LabelsIn, caller: Caller) -> dict[str, Any]:
        import pandas as pd

        model = model_row(caller, name, "ingest")
        frame = pd.DataFrame(
            {
                "id": [x.id for x in body.labels],
                "label": [x.label for x in body.labels],
                "timestamp": pd.to_datetime([x.timestamp for x in body.labels], utc=True),
            }
        )
        result = ingest_labels(store, model, body.batch_id, frame)
        count_batch(model, "labels", result)
        return result.to_dict()

    @app.get("/v1/models/{name}/findings")
    def get_findings(
        name: str,
        caller: Caller,
        since: datetime | None = None,
        until: datetime | None = None,
        check: str | None = Query(
            default=None, description="exact check, or a prefix ending in '.' (literally: no wildcards)"
        ),
        severity: str | None = Query(default=None, description="minimum severity"),
        limit: int = Query(default=500, ge=1, le=10_000),
    ) -> list[dict[str, Any]]:
        model = model_row(caller, name, "read")
        query = select(StoredFinding).where(StoredFinding.model_id == model.id)
        if since is not None:
            query = query.where(StoredFinding.window_start >= since)
        if until is not None:
            query = query.where(StoredFinding.window_start < until)
        if check is not None:
            query = query.where(
                StoredFinding.check.startswith(check, autoescape=True)
                if check.endswith(".")
                else StoredFinding.check == check
            )
        if severity is not None:
            if severity not in SEVERITIES:
                raise InputError(f"severity: expected one of {', '.join(SEVERITIES)}, got {severity!r}")
            query = query.where(StoredFinding.severity.in_(SEVERITIES[SEVERITIES.index(severity) :]))
        query = query.order_by(StoredFinding.window_start.desc(), StoredFinding.id).limit(limit)
        with store.session() as session:
            return [_finding_dict(f, model.name) for f in session.scalars(query)]

    @app.get("/v1/models/{name}/windows")
    def get_windows(
        name: str, caller: Caller, limit: int = Query(default=100, ge=1, le=10_000)
    ) -> list[dict]:
        model = model_row(caller, name, "read")
        with store.session() as session:
            rows = session.scalars(
                select(Window).where(Window.model_id == model.id).order_by(Window.start.desc()).limit(limit)
            )
            return [
                {
                    "start": w.start.isoformat(),
                    "end": w.end.isoformat(),
                    "status": w.status,
                    "evaluated_at": w.evaluated_at.isoformat() if w.evaluated_at else None,
                    "summary": w.summary,
                }
                for w in rows
            ]

    @app.get(
        "/v1/models/{name}/profile",
        response_class=Response,
        responses={200: {"content": {"application/octet-stream": {}}}},
    )
    def get_profile(
        name: str, caller: Caller, since: datetime | None = None, until: datetime | None = None
    ) -> Response:
        """The merged profile of every batch in ``[since, until)`` (a day, a week: any roll-up of windows),
        in the binary profile format — save it and run ``mlwarden check reference.mlwprof it.mlwprof``."""
        model = model_row(caller, name, "read")
        query = select(PartialProfile.profile).where(PartialProfile.model_id == model.id)
        if since is not None:
            query = query.where(PartialProfile.window_start >= since)
        if until is not None:
            query = query.where(PartialProfile.window_start < until)
        with store.session() as session:
            blobs = session.scalars(query.order_by(PartialProfile.id)).all()
        if not blobs:
            raise NotFoundError(f"model {name!r} has no ingested data in that time range")
        merged = merge(DatasetProfile.from_bytes(blob) for blob in blobs)
        return Response(merged.to_bytes(), media_type="application/octet-stream")

    @app.post("/v1/evaluate")
    def evaluate_now(caller: Caller) -> dict[str, int]:
        """Evaluate every due window of the caller's team now (the scheduler does this on its own every few
        seconds, for every team)."""
        caller.require("admin")
        return {"evaluated": evaluate_due(store, team_id=caller.team_id)}

    @app.get("/v1/alerts")
    def get_alerts(
        caller: Caller, status: str = Query(default="open", pattern="^(open|resolved|all)$")
    ) -> list[dict]:
        caller.require("read")
        query = select(Alert, Model.name).join(Model, Model.id == Alert.model_id)
        if caller.team_id is not None:
            query = query.where(Model.team_id == caller.team_id)
        if status != "all":
            query = query.where(Alert.status == status)
        with store.session() as session:
            return [
                _alert_dict(a, name) for a, name in session.execute(query.order_by(Alert.last_seen.desc()))
            ]

    @app.get("/v1/audit")
    def get_audit(caller: Caller, limit: int = Query(default=200, ge=1, le=10_000)) -> list[dict]:
        caller.require("admin")
        if caller.team_id is not None:
            raise AccessDenied("the audit log spans all teams: only the operator may read it")
        with store.session() as session:
            rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
            return [
                {
                    "at": r.at.isoformat(),
                    "actor": r.actor,
                    "action": r.action,
                    "entity": r.entity,
                    "before": r.before,
                    "after": r.after,
                }
                for r in rows
            ]

    return app


def _version() -> str:
    from mlwarden import __version__

    return __version__


async def _invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 without the offending ``input``: a body value such as ``Infinity`` has no JSON form, and
    echoing it made the error answer itself fail (a 500)."""
    errors = [{key: error[key] for key in ("loc", "msg", "type") if key in error} for error in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)


def _handler(status: int):
    async def handle(_: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=status)

    return handle


async def _read_upload(request: Request, limit: int) -> tuple[bytes, str]:
    """A raw body, or the ``file`` field of a multipart upload with a type told by its file name."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        return await _read_body(request, limit)
    declared = request.headers.get("content-length")
    if declared is None or not declared.isdigit() or int(declared) > limit:
        raise HTTPException(413, f"multipart uploads need a Content-Length of at most {limit:,} bytes")
    form = await request.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise InputError("file: expected a multipart field named 'file' holding the data or profile")
    suffix = (upload.filename or "").rsplit(".", 1)[-1].lower()
    return await upload.read(), UPLOAD_TYPES.get(suffix, upload.content_type or "application/octet-stream")


async def _read_body(request: Request, limit: int) -> tuple[bytes, str]:
    """The request body, refusing (413) anything above ``limit`` bytes before reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"body of {int(declared):,} bytes exceeds the limit of {limit:,}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body exceeds the limit of {limit:,} bytes")
        chunks.append(chunk)
    content_type = (
        request.headers.get("content-type", "application/octet-stream").split(";")[0].strip().lower()
    )
    return b"".join(chunks), content_type


def _team_of(store: Store, caller: Actor) -> str:
    if caller.team_id is None:
        raise InputError("team: required when registering without a team token")
    with store.session() as session:
        return session.get(Team, caller.team_id).name


def _finding_dict(row: StoredFinding, model: str) -> dict[str, Any]:
    return {
        "check": row.check,
        "severity": row.severity,
        "model": model,
        "column": row.column,
        "value": row.value,
        "threshold": row.threshold,
        "message": row.message,
        "window_start": row.window_start.isoformat() if row.window_start else None,
        "window_end": row.window_end.isoformat() if row.window_end else None,
        "evidence": row.evidence,
        "created_at": row.created_at.isoformat(),
    }


def _alert_dict(row: Alert, model: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "model": model,
        "check": row.check,
        "column": row.column or None,
        "severity": row.severity,
        "status": row.status,
        "message": row.message,
        "occurrences": row.occurrences,
        "first_seen": row.first_seen.isoformat(),
        "last_seen": row.last_seen.isoformat(),
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
    }
