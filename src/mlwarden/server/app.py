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

from mlwarden.alerts.sender import Sender
from mlwarden.server import dashboard
from mlwarden.server.deps import CACHE_ITEMS, Services
from mlwarden.server.errors import ERROR_RESPONSES, install_handlers
from mlwarden.server.memory import Trimmer, trim_seconds
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
    send_every: float | None = 1.0,
    max_body: int = DEFAULT_MAX_BODY,
    metrics_token: str | None = None,
    cache_items: int = CACHE_ITEMS,
    trim_every: float | None = None,
) -> FastAPI:
    """The API over ``store``. ``auth=False`` serves without tokens (local use only);
    ``evaluate_every`` runs the window scheduler in-process every that many seconds (``None``:
    ``mlwarden worker`` does it); ``send_every`` runs the alert sender every that many seconds, and at
    once after an evaluation (``None``: others deliver); ``max_body`` bounds request bodies (bytes);
    ``metrics_token`` (default: ``$MLWARDEN_METRICS_TOKEN``), when set, is a secret that lets a scraper
    read every team's series on ``/metrics`` (a team's read token reads its own team's); ``cache_items``
    bounds each lookup cache; ``trim_every`` gives freed C-heap memory back to the OS every that many seconds
    (default ``$MLWARDEN_TRIM_SECONDS`` or 10; 0 never: see :mod:`mlwarden.server.memory`)."""
    trim_every = trim_seconds(trim_every)
    if metrics_token is None:
        metrics_token = os.environ.get("MLWARDEN_METRICS_TOKEN") or None
    services = Services(
        store, auth=auth, max_body=max_body, metrics_token=metrics_token, cache_items=cache_items
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        sender = Sender(store, send_every) if send_every else None
        scheduler = (
            Scheduler(store, evaluate_every, sender.wake if sender else None) if evaluate_every else None
        )
        trimmer = Trimmer(trim_every) if trim_every else None
        for worker in (sender, scheduler, trimmer):
            if worker:
                worker.start()
        yield
        for worker in (trimmer, scheduler, sender):
            if worker:
                worker.stop()

    app = FastAPI(title="mlwarden", version=_version(), lifespan=lifespan, responses=ERROR_RESPONSES)
    app.state.services = services
    app.add_middleware(
        LatencyMiddleware, metrics=services.metrics, logger=logging.getLogger("mlwarden.access")
    )
    install_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    app.include_router(dashboard.router)  # the web pages under /: session cookies, not the API's tokens
    return app


def _version() -> str:
    from mlwarden import __version__

    return __version__
