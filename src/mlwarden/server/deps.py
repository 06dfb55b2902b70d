"""What every route needs, shared through FastAPI dependencies: the caller, the store, the registry, the
metrics and the bounded lookup caches (:class:`Services`, one per app, in ``app.state.services``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, HTTPException, Path, Request

from mlwarden.errors import InputError, NotFoundError
from mlwarden.profile import DatasetProfile
from mlwarden.registry import Actor, Registry, authenticate, find_model
from mlwarden.registry.tokens import digest
from mlwarden.server.cache import TTLCache
from mlwarden.server.metrics import ServiceMetrics
from mlwarden.server.prepared import CorruptBlob, ReferenceKey, latest_reference_key, reference_profile
from mlwarden.store import Store
from mlwarden.store.schema import Model, Team

CACHE_SECONDS = 5.0  # how long a model/reference change or a token revocation may take to reach a replica
CACHE_ITEMS = 10_000  # entries per cache (tokens, models, references, teams): random ones cannot grow it


@dataclass
class Services:
    """The app's shared state. ``auth=False`` serves without tokens (local use only); ``max_body`` bounds
    request bodies in bytes; ``metrics_token`` lets a scraper read every team's series on ``/metrics``."""

    store: Store
    auth: bool = True
    max_body: int = 64 * 1024 * 1024
    metrics_token: str | None = None
    cache_items: int = CACHE_ITEMS
    registry: Registry = field(init=False)
    metrics: ServiceMetrics = field(init=False)
    caches: dict[str, TTLCache] = field(init=False)

    def __post_init__(self) -> None:
        self.registry = Registry(self.store)
        self.metrics = ServiceMetrics(self.store)
        self.caches = {
            name: TTLCache(CACHE_SECONDS, self.cache_items)
            for name in ("actors", "models", "references", "teams")
        }

    def actor(self, authorization: str | None) -> Actor:
        """The caller of a request with this ``Authorization`` header (401 without a valid bearer token)."""
        if not self.auth:
            return Actor.operator("anonymous")
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        token = token.strip()
        found = self.caches["actors"].get(digest(token), lambda: authenticate(self.store, token))
        if found is None:
            raise HTTPException(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
        return found

    def model_row(self, caller: Actor, name: str, scope: str) -> Model:
        """The caller's model ``name`` (404 for another team's, as for none), once ``scope`` is held."""
        caller.require(scope)

        def load() -> Model | None:
            with self.store.session() as session:
                try:
                    return find_model(session, caller, name)
                except NotFoundError:  # cached too: a flood of unknown names costs one query each per TTL
                    return None

        found = self.caches["models"].get((caller.team_id, name), load)
        if found is None:
            raise NotFoundError(f"no model named {name!r}")
        return found

    def forget_model(self, caller: Actor, name: str) -> None:
        """Drop a cached model lookup after a change (or a cached 404 after a creation)."""
        self.caches["models"].forget((caller.team_id, name))

    def team_name(self, team_id: int) -> str:
        def load() -> str:
            with self.store.session() as session:
                return session.get(Team, team_id).name

        return self.caches["teams"].get(team_id, load)

    def team_of(self, caller: Actor) -> str:
        """The caller's team name (a team is required to register a model)."""
        if caller.team_id is None:
            raise InputError("team: required when registering without a team token")
        return self.team_name(caller.team_id)

    def current_reference(self, model: Model) -> DatasetProfile | None:
        """The model's newest reference profile (None before the first upload, or when its stored blob is
        corrupt: batches are then still stored, profiled without it, and window evaluation reports it as a
        critical ``data.corrupt``). Which reference is newest is cached for :data:`CACHE_SECONDS` (this
        process's uploads call :meth:`forget_reference`); its decoded profile is the one window evaluation
        uses (:func:`mlwarden.server.prepared.reference_profile`)."""

        def load() -> ReferenceKey | None:
            with self.store.session() as session:
                return latest_reference_key(self.store, session, model.id)

        key = self.caches["references"].get(model.id, load)
        if key is None:
            return None
        try:
            return reference_profile(self.store, key)
        except CorruptBlob:  # logged once where it was found
            return None

    def forget_reference(self, model: Model) -> None:
        self.caches["references"].forget(model.id)

    def count_batch(self, model: Model, kind: str, result: Any) -> None:
        """Count an ingested batch (and its rows when stored) in the Prometheus metrics."""
        team = self.team_name(model.team_id)
        status = "duplicate" if result.duplicate else "stored"
        self.metrics.batches.labels(team, model.name, kind, status).inc()
        if not result.duplicate:
            self.metrics.rows.labels(team, model.name, kind).inc(result.rows)


def services(request: Request) -> Services:
    return request.app.state.services


def caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Actor:
    return services(request).actor(authorization)


Svc = Annotated[Services, Depends(services)]
Caller = Annotated[Actor, Depends(caller)]
RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="a stored row's id (a 64-bit integer)")]
