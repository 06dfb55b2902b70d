"""``GET /metrics``: Prometheus metrics, a team's series for its read token, every team's for the scrape
token (``metrics_token``)."""

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from mlwarden.server.deps import services
from mlwarden.server.metrics import TeamView

router = APIRouter(tags=["metrics"])


def scraper(request: Request, authorization: Annotated[str | None, Header()] = None) -> str | None:
    """Whose series a /metrics request may read: a team's name, or None for every team's (the configured
    ``metrics_token``, or a server without auth)."""
    svc = services(request)
    scheme, _, token = (authorization or "").partition(" ")
    given, wanted = token.strip().encode(), (svc.metrics_token or "").encode()
    if wanted and scheme.lower() == "bearer" and hmac.compare_digest(given, wanted):
        return None
    caller = svc.actor(authorization)
    caller.require("read")
    return None if caller.team_id is None else svc.team_name(caller.team_id)


@router.get("/metrics", include_in_schema=False)
def prometheus(request: Request, team: Annotated[str | None, Depends(scraper)]) -> Response:
    """Prometheus metrics: a team's token reads its own team's series; ``metrics_token`` every team's."""
    registry = services(request).metrics.registry
    return Response(generate_latest(TeamView(registry, team)), media_type=CONTENT_TYPE_LATEST)
