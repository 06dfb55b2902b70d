"""The dashboard's pages under ``/``: login, fleet, model, window drill-down, alerts inbox, audit log.

Server-rendered Jinja2 (autoescape on for every template, ``.j2`` included); charts drawn in the browser by
the ``plotly.min.js`` of the installed ``plotly`` package, served at ``/static/plotly.min.js`` (no CDN).
Every page needs a session (:mod:`.auth`; without one: a redirect to ``/login``) and shows only the
session's team's models — another team's model is a 404, exactly like a name nobody uses.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import ChoiceLoader, Environment, PackageLoader, Undefined

from mlwarden.alerts import silences
from mlwarden.alerts import state as alert_state
from mlwarden.errors import AccessDenied, InputError, NotFoundError
from mlwarden.registry import Actor, authenticate, configs, find_model
from mlwarden.registry.tokens import authenticate_digest, digest
from mlwarden.server.dashboard import auth, charts, queries
from mlwarden.server.dashboard.window_report import window_context
from mlwarden.server.deps import RowId, services
from mlwarden.store import Store
from mlwarden.store.schema import Alert, Model, Team

FLEET_PAGE = 50
WINDOW_PAGE = 168  # a week of hourly windows per page of the model page
VERSIONS_PAGE = 20  # versions per page of the model page
LEDGER_PAGE = 20  # retrain ledger records per page of the model page
ALERT_STATUSES = ("open", "firing", "acknowledged", "silenced", "resolved", "all")
SILENCE_DURATIONS = ("1h", "4h", "1d", "7d")
STATIC = Path(__file__).parent / "static"
SECURITY_HEADERS = {
    # plotly injects its own <style> elements: inline styles allowed, inline scripts never
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

env = Environment(
    loader=ChoiceLoader(
        [
            PackageLoader("mlwarden.server.dashboard", "templates"),
            PackageLoader("mlwarden.report", "templates"),
        ]
    ),
    autoescape=True,  # every template: select_autoescape(["html"]) would leave .html.j2 unescaped
)


def _json(value: Any, **options: Any) -> str:
    """``tojson``'s encoder: orjson writes NaN and infinities as null (``JSON.parse`` rejects NaN)."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 if options.get("indent") else 0).decode()


env.policies["json.dumps_function"] = _json


def _when(value: datetime | str | None) -> str:
    """A time (or an ISO-8601 text, as the API's dicts hold it) in minutes, UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def _diff(stats: dict[str, Any] | None) -> str:
    """A paired comparison (the gate's JSON: ``metric``, ``delta``, ``ci``) as ``roc_auc +0.05 [+0.03,
    +0.07]``; its ``note`` or ``–`` when it has no difference."""
    stats = stats or {}
    if stats.get("delta") is None:
        return stats.get("note") or "–"
    low, high = stats.get("ci") or (None, None)
    ci = f" [{low:+.3g}, {high:+.3g}]" if low is not None and high is not None else ""
    return f"{stats.get('metric', '')} {stats['delta']:+.3g}{ci}".strip()


def _ago(value: datetime | None) -> str:
    if value is None:
        return "never"
    seconds = max(0.0, (datetime.now(UTC) - value).total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"


def _num(value: Any, digits: int = 3) -> str:
    """A number for a table cell; a dash for none, a non-finite one, or a key a summary lacks (a window
    not evaluated yet has no ``rows``)."""
    if (
        value is None
        or isinstance(value, Undefined)
        or (isinstance(value, float) and not math.isfinite(value))
    ):
        return "–"
    if isinstance(value, int) or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


env.filters.update(when=_when, ago=_ago, num=_num, diff=_diff, q=lambda text: quote(str(text), safe=""))


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking, and the CSRF token their forms carry."""

    actor: Actor
    csrf: str
    nonce: str


_SECRET_LOCK = threading.Lock()


def _store(request: Request) -> Store:
    return services(request).store


def _secret(request: Request) -> str:
    """The app's session-signing secret, drawn once (under a lock: two first requests must agree)."""
    state = request.app.state
    with _SECRET_LOCK:
        if getattr(state, "session_secret", None) is None:
            state.session_secret = auth.session_secret()
    return state.session_secret


def _auth_on(request: Request) -> bool:
    return services(request).auth


def _to_login(request: Request) -> HTTPException:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(303, "log in first", headers={"Location": f"/login?next={quote(target, safe='')}"})


def viewer(request: Request) -> Viewer:
    """The session's viewer; no valid session (or a revoked token): a redirect to the login page."""
    secret = _secret(request)
    if not _auth_on(request):  # local use without tokens: the operator; forms keyed to a browser nonce
        nonce = request.cookies.get(auth.LOGIN_COOKIE) or auth.new_nonce()
        request.state.new_nonce = nonce if auth.LOGIN_COOKIE not in request.cookies else None
        return Viewer(Actor.operator("dashboard"), auth.csrf_token(nonce, secret), nonce)
    session = auth.verify(request.cookies.get(auth.SESSION_COOKIE), secret)
    if session is None:
        raise _to_login(request)
    svc = services(request)  # the API's token cache: a revocation reaches sessions as fast as tokens
    actor = svc.caches["actors"].get(session.digest, lambda: authenticate_digest(svc.store, session.digest))
    if actor is None:
        raise _to_login(request)
    actor.require("read")
    return Viewer(actor, auth.csrf_token(session.nonce, secret), session.nonce)


Seen = Annotated[Viewer, Depends(viewer)]
ERRORS = {
    NotFoundError: (404, "Not found"),
    InputError: (422, "Invalid request"),
    AccessDenied: (403, "Forbidden"),
}


class PageRoute(APIRoute):
    """A dashboard route: a user's mistake (an unknown model, a bad parameter, a missing scope) is an HTML
    page with the one-line reason, never the API's JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except (NotFoundError, InputError, AccessDenied) as exc:
                code, title = next(v for k, v in ERRORS.items() if isinstance(exc, k))
                return _error_page(request, code, title, str(exc))
            except RequestValidationError as exc:
                reasons = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
                return _error_page(request, 422, "Invalid request", reasons)

        return handle


def _error_page(request: Request, code: int, title: str, message: str) -> Response:
    return _page(request, "error.html.j2", None, code, title=title, message=message, status=code)


router = APIRouter(include_in_schema=False, route_class=PageRoute)


def _page(request: Request, template: str, seen: Viewer | None, code: int = 200, **context: Any) -> Response:
    html = env.get_template(template).render(viewer=seen, path=request.url.path, **context)
    response = HTMLResponse(html, status_code=code, headers=SECURITY_HEADERS)
    nonce = getattr(request.state, "new_nonce", None)
    if nonce:
        _set_cookie(request, response, auth.LOGIN_COOKIE, nonce)
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int | None = None):
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def _check_csrf(seen: Viewer, given: str | None, request: Request) -> None:
    if not auth.csrf_ok(given, seen.nonce, _secret(request)):
        raise AccessDenied("csrf: the form's token is missing or not this session's; reload the page")


def _model(request: Request, seen: Viewer, name: str) -> tuple[Model, Team]:
    with _store(request).session() as session:
        model = find_model(session, seen.actor, name)
        session.expunge(model)
        team = session.get(Team, model.team_id)
        session.expunge(team)
        return model, team


def _safe_next(target: str | None) -> str:
    """Only a path on this site: ``//evil.example`` or ``https://…`` would send the user elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


# --- login and logout -------------------------------------------------------------------------------------


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    if not _auth_on(request):
        return RedirectResponse(_safe_next(next), 303)
    return _login_page(request, next, None, 200)


def _login_page(request: Request, target: str, error: str | None, status: int) -> Response:
    nonce = auth.new_nonce()
    response = _page(
        request,
        "login.html.j2",
        None,
        status,
        csrf=auth.csrf_token(nonce, _secret(request), "login"),
        next=_safe_next(target),
        error=error,
    )
    _set_cookie(request, response, auth.LOGIN_COOKIE, nonce)
    return response


@router.post("/login")
def login(
    request: Request,
    token: Annotated[str, Form()] = "",
    csrf: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Exchange a token for a session cookie (the token itself is never stored in it)."""
    secret = _secret(request)
    if not auth.csrf_ok(csrf, request.cookies.get(auth.LOGIN_COOKIE), secret, "login"):
        return _login_page(request, next, "The form expired: please try again.", 403)
    token = token.strip()
    actor = authenticate(_store(request), token) if token else None
    if actor is None:
        return _login_page(request, next, "Unknown or revoked token.", 401)
    if "read" not in actor.scopes and "admin" not in actor.scopes:
        return _login_page(request, next, "This token lacks the 'read' scope the dashboard needs.", 403)
    response = RedirectResponse(_safe_next(next), 303)
    _set_cookie(
        request, response, auth.SESSION_COOKIE, auth.issue(digest(token), secret), auth.SESSION_SECONDS
    )
    response.delete_cookie(auth.LOGIN_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, seen: Seen, csrf: Annotated[str, Form()] = "") -> Response:
    _check_csrf(seen, csrf, request)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


# --- fleet ------------------------------------------------------------------------------------------------


@router.get("/")
def fleet(
    request: Request,
    seen: Seen,
    sort: Annotated[str, Query(pattern="^-?[a-z_]+$")] = "health",
    page: Annotated[int, Query(ge=1, le=10**9)] = 1,
) -> Response:
    """Every model of the viewer's team: owner, stage, health, volume, freshness, open alerts."""
    key = sort.lstrip("-")
    if key not in queries.FLEET_SORTS:
        raise InputError(f"sort: expected one of {', '.join(queries.FLEET_SORTS)}, got {sort!r}")
    with _store(request).session() as session:
        rows = queries.fleet(session, seen.actor)
    rows.sort(key=queries.FLEET_SORTS[key], reverse=sort.startswith("-"))
    pages = max(1, -(-len(rows) // FLEET_PAGE))
    page = min(page, pages)
    shown = rows[(page - 1) * FLEET_PAGE : page * FLEET_PAGE]
    return _page(
        request, "fleet.html.j2", seen, rows=shown, total=len(rows), sort=sort, page=page, pages=pages
    )


# --- model ------------------------------------------------------------------------------------------------


@router.get("/models/{name}")
def model_page(
    request: Request,
    name: str,
    seen: Seen,
    page: Annotated[int, Query(ge=1, le=10**9)] = 1,
    versions_page: Annotated[int, Query(ge=1, le=10**9)] = 1,
    ledger_page: Annotated[int, Query(ge=1, le=10**9)] = 1,
) -> Response:
    """One model: drift heatmap, performance against its SLOs, data quality, alerts, versions with their
    latest shadow comparison, the retrain ledger, owner, configuration — for one page of windows (page 1:
    the latest week of hourly windows), of versions and of ledger records."""
    model, team = _model(request, seen, name)
    with _store(request).session() as session:
        windows = queries.window_page(session, model, page, WINDOW_PAGE)
        shown = windows.windows
        since, until = (shown[0].start, shown[-1].start) if shown else (None, None)
        quality = queries.quality_counts(session, model, since, until) if shown else []
        alerts = queries.model_alerts(session, model)
        versions = queries.versions(session, model, versions_page, VERSIONS_PAGE)
        retrains, outcomes = queries.retrains(session, model, ledger_page, LEDGER_PAGE)
        config = configs.latest(session, model.id)  # the configuration file as last applied, if any
    now = datetime.now(UTC)
    figures = {
        "heatmap": charts.drift_heatmap(shown),
        "quality": charts.quality(quality),
        "alerts": charts.alert_timeline(alerts, now),
    }
    performance = charts.performance(shown, model.slos or {})
    latest = next((w for w in reversed(shown) if w.status == "evaluated"), None)
    return _page(
        request,
        "model.html.j2",
        seen,
        model=model,
        team=team,
        windows=windows,
        figures=figures,
        performance=performance,
        alerts=alerts,
        versions=versions,
        retrains=retrains,
        outcomes=outcomes,
        config=config,
        latest=latest,
        window_url=charts.window_url,
    )


@router.get("/models/{name}/windows/{start}")
def window_page(request: Request, name: str, start: str, seen: Seen) -> Response:
    """One window's report against the reference: findings by column, performance, distributions."""
    model, team = _model(request, seen, name)
    try:
        at = datetime.fromisoformat(start)
    except ValueError:
        raise InputError(f"start: expected an ISO-8601 window start, got {start!r}") from None
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    with _store(request).session() as session:
        window = queries.window_at(session, model, at)
        if window is None:
            raise NotFoundError(f"model {name!r} has no window starting at {at.isoformat()}")
        context = window_context(_store(request), session, model, window)
    return _page(request, "window.html.j2", seen, model=model, team=team, window=window, **context)


# --- alerts and audit -------------------------------------------------------------------------------------


@router.get("/alerts")
def alerts_inbox(request: Request, seen: Seen, status: str = "open") -> Response:
    """The team's alerts by state — open (pending or firing), firing (neither acknowledged nor silenced),
    acknowledged, silenced, resolved, all — with acknowledge and silence forms, and the team's silences."""
    now = datetime.now(UTC)
    with _store(request).session() as session:
        rows = alert_state.listed(session, seen.actor, status, now)  # InputError for an unknown status
        counts = queries.alert_counts(session, seen.actor)
        muting = [silences.silence_dict(s, now) for s in silences.listed(session, seen.actor)[:50]]
    return _page(
        request,
        "alerts.html.j2",
        seen,
        rows=rows,
        counts=counts,
        status=status,
        statuses=ALERT_STATUSES,
        silences=[s for s in muting if s["state"] != "expired"],
        durations=SILENCE_DURATIONS,
        can_act="admin" in seen.actor.scopes,
    )


def _back_to_inbox(status: str) -> Response:
    shown = status if status in ALERT_STATUSES else "open"
    return RedirectResponse(f"/alerts?status={shown}", 303)


@router.post("/alerts/{alert_id}/ack")
def acknowledge_alert(
    request: Request,
    alert_id: RowId,
    seen: Seen,
    csrf: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "open",
) -> Response:
    """Acknowledge a pending or firing alert (admin scope; audited)."""
    _check_csrf(seen, csrf, request)
    with _store(request).session() as session:
        alert_state.acknowledge(session, seen.actor, alert_id, datetime.now(UTC))
    return _back_to_inbox(back)


@router.post("/alerts/{alert_id}/silence")
def silence_alert(
    request: Request,
    alert_id: RowId,
    seen: Seen,
    csrf: Annotated[str, Form()] = "",
    duration: Annotated[str, Form()] = "4h",
    comment: Annotated[str, Form(max_length=1000)] = "",
    back: Annotated[str, Form()] = "open",
) -> Response:
    """Silence this alert's notifications for ``duration``: a silence matching its model, check, column
    and segment (admin scope; audited)."""
    _check_csrf(seen, csrf, request)
    if duration not in SILENCE_DURATIONS:
        raise InputError(f"duration: expected one of {', '.join(SILENCE_DURATIONS)}, got {duration!r}")
    now = datetime.now(UTC)
    with _store(request).session() as session:
        alert = session.get(Alert, alert_id)
        model = session.get(Model, alert.model_id) if alert is not None else None
        if model is None or not seen.actor.sees(model.team_id):
            raise NotFoundError(f"no alert {alert_id}")
        labels = {"model": model.name, "check": alert.check, "column": alert.column, "segment": alert.segment}
        matchers = [{"name": k, "value": v} for k, v in labels.items() if v]
        silences.create(session, seen.actor, matchers, now=now, duration=duration, comment=comment)
    return _back_to_inbox(back)


@router.post("/silences/{silence_id}/expire")
def expire_silence(
    request: Request,
    silence_id: RowId,
    seen: Seen,
    csrf: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "open",
) -> Response:
    """End a silence now (admin scope; audited)."""
    _check_csrf(seen, csrf, request)
    with _store(request).session() as session:
        silences.expire(session, seen.actor, silence_id, datetime.now(UTC))
    return _back_to_inbox(back)


@router.get("/audit")
def audit_log(request: Request, seen: Seen, page: Annotated[int, Query(ge=1, le=10**9)] = 1) -> Response:
    """Who changed what: the team's own changes (the operator sees every entry)."""
    with _store(request).session() as session:
        entries, more = queries.audit(session, seen.actor, page)
    return _page(request, "audit.html.j2", seen, entries=entries, page=page, more=more)


# --- static assets ----------------------------------------------------------------------------------------


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


ASSETS = {
    "plotly.min.js": _plotly_js,
    "dashboard.js": lambda: STATIC / "dashboard.js",
    "dashboard.css": lambda: STATIC / "dashboard.css",
}


@router.get("/static/{asset}")
def static(asset: str) -> Response:
    """The dashboard's script and style, and plotly's bundle from the installed package (no CDN)."""
    where = ASSETS.get(asset)
    if where is None:
        raise NotFoundError(f"no static asset {asset!r}")
    media = "text/css" if asset.endswith(".css") else "text/javascript"
    return FileResponse(where(), media_type=media, headers={"Cache-Control": "public, max-age=3600"})
