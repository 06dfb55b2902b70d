"""One APIRouter per resource; :data:`ROUTERS` is what the app serves, in this order."""

from fastapi.routing import APIRoute

from mlwarden.server.routes import (
    alerts,
    audit,
    batches,
    findings,
    health,
    labels,
    metrics,
    models,
    references,
    versions,
    windows,
)

ROUTERS = [
    health.router,
    metrics.router,
    models.router,
    versions.router,
    references.router,
    batches.router,
    labels.router,
    findings.router,
    windows.router,
    alerts.router,
    audit.router,
]


def api_routes() -> list[APIRoute]:
    """Every route the app serves through :data:`ROUTERS` (the route table the security tests are
    generated from: a route added to a router is covered without editing a test)."""
    return [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]
