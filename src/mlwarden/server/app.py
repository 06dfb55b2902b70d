"""The HTTP API (FastAPI): registry, references, ingestion, findings, alerts, /metrics and /healthz — one
APIRouter per resource in :mod:`mlwarden.server.routes`, sharing :class:`~mlwarden.server.deps.Services`.

Stateless: every request reads and writes the store, so any number of replicas can share one PostgreSQL.
What the service guarantees (team isolation, no file reads, bounded caches) is in docs/service.md,
"Guarantees and limits", with the test proving each.
"""

import logging
import os
from contextlib import asynccontextmanager

from fastapi import FastAPI

from mlwarden.server.deps import CACHE_ITEMS, Services
from mlwarden.server.errors import ERROR_RESPONSES, install_handlers
from mlwarden.server.metrics import LatencyMiddleware
from mlwarden.server.routes import ROUTERS
from mlwarden.server.windows import Scheduler
from mlwarden.store import Store

DEFAULT_MAX_BODY = 64 * 1024 * 1024


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
    ``evaluate_every`` runs the window scheduler in-process every that many seconds (``None``:
    ``mlwarden worker`` does it); ``max_body`` bounds request bodies (bytes); ``metrics_token`` (default:
    ``$MLWARDEN_METRICS_TOKEN``), when set, is a secret that lets a scraper read every team's series on
    ``/metrics`` (a team's read token reads its own team's); ``cache_items`` bounds each lookup cache."""
    if metrics_token is None:
        metrics_token = os.environ.get("MLWARDEN_METRICS_TOKEN") or None
    services = Services(
        store, auth=auth, max_body=max_body, metrics_token=metrics_token, cache_items=cache_items
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        scheduler = Scheduler(store, evaluate_every) if evaluate_every else None
        if scheduler:
            scheduler.start()
        yield
        if scheduler:
            scheduler.stop()

    app = FastAPI(title="mlwarden", version=_version(), lifespan=lifespan, responses=ERROR_RESPONSES)
    app.state.services = services
    app.add_middleware(
        LatencyMiddleware, metrics=services.metrics, logger=logging.getLogger("mlwarden.access")
    )
    install_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    return app


def _version() -> str:
    from mlwarden import __version__

    return __version__
