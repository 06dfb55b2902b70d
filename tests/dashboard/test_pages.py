"""The dashboard's pages on SQLite and PostgreSQL: sessions, CSRF, team isolation and escaping — the route
tests iterate the dashboard's route table, so a page added later is covered without editing this file."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import escape as html_escape
from urllib.parse import quote

import pytest
from dashboard_data import CANDIDATE, ESCAPED, MODEL, MODEL_ESCAPED, hour_records, seed
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import event

from mlwarden.registry import revoke_token
from mlwarden.server import create_app
from mlwarden.server.dashboard import auth, queries, router
from mlwarden.server.dashboard.queries import drift_matrix
from mlwarden.server.windows import evaluate_due
from mlwarden.store import Store
from mlwarden.store.schema import Model, Window

PAGES = sorted(r.path for r in router.routes if isinstance(r, APIRoute) and "GET" in r.methods)
GUARDED = [p for p in PAGES if p not in ("/login", "/static/{asset}")]
CANDIDATE_ESCAPED = "v2&lt;img src=x onerror=alert(2)&gt;"
FORMS = sorted(r.path for r in router.routes if isinstance(r, APIRoute) and "POST" in r.methods)


class Site:
    def __init__(self, client: TestClient, store: Store) -> None:
        self.client, self.store = client, store
        self.tokens = seed(client, store)
        with store.session() as session:
            self.window_start = session.query(Window.start).order_by(Window.start).first()[0]

    def url(self, path: str) -> str:
        values = {"name": quote(MODEL, safe=""), "start": quote(self.window_start.isoformat(), safe="")}
        return path.format(asset="dashboard.css", alert_id=1, silence_id=1, **values)

    def login(self, token: str) -> TestClient:
        self.client.cookies.clear()
        page = self.client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]
        done = self.client.post("/login", data={"token": token, "csrf": csrf}, follow_redirects=False)
        assert done.status_code == 303, done.text
        return self.client

    def csrf(self) -> str:
        return re.search(r'name="csrf" value="([^"]+)"', self.client.get("/").text)[1]


@pytest.fixture
def site(store: Store):
    with TestClient(create_app(store, evaluate_every=None)) as client:
        yield Site(client, store)


def test_every_page_redirects_to_login_without_a_session(site: Site) -> None:
    assert GUARDED, "the route table lists the dashboard's pages"
    for path in GUARDED:
        response = site.client.get(site.url(path), follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=%2F"), path


def test_forged_expired_or_revoked_sessions_are_sent_to_login(site: Site) -> None:
    site.login(site.tokens["growth_read"])
    assert site.client.get("/", follow_redirects=False).status_code == 200
    good = site.client.cookies[auth.SESSION_COOKIE]
    secret = site.client.app.state.session_secret
    session = auth.verify(good, secret)
    forged = auth.issue(session.digest, "another-secret")
    expired = auth.issue(session.digest, secret, now=datetime.now(UTC).timestamp() - auth.SESSION_SECONDS - 5)
    for cookie in (forged, expired, good[:-4], "garbage"):
        site.client.cookies.set(auth.SESSION_COOKIE, cookie)
        assert site.client.get("/", follow_redirects=False).status_code == 303
    site.client.cookies.set(auth.SESSION_COOKIE, good)
    revoke_token(site.store, site.tokens["growth_read"][:12])
    site.client.app.state.services.caches["actors"].forget(session.digest)
    assert site.client.get("/", follow_redirects=False).status_code == 303


def test_login_sets_an_httponly_strict_cookie_and_refuses_bad_tokens(site: Site) -> None:
    def attempt(token: str, csrf: str | None = None, **extra: str):
        form = site.client.get("/login").text  # every login page draws a fresh CSRF nonce
        csrf = csrf or re.search(r'name="csrf" value="([^"]+)"', form)[1]
        form = {"token": token, "csrf": csrf, **extra}
        return site.client.post("/login", data=form, follow_redirects=False)

    assert attempt("mlw_nonsense").status_code == 401
    ingest_only = attempt(site.tokens["growth_ingest"])
    assert ingest_only.status_code == 403 and "read" in ingest_only.text
    assert attempt(site.tokens["growth_read"], csrf="x").status_code == 403
    done = attempt(site.tokens["growth_read"], next="//evil.example/")
    assert done.status_code == 303 and done.headers["location"] == "/"  # never off-site
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
    assert site.tokens["growth_read"] not in cookie  # the session holds the digest, never the token


def test_every_form_needs_the_sessions_csrf_token(site: Site) -> None:
    site.login(site.tokens["growth_admin"])
    assert FORMS
    for path in FORMS:
        if path == "/login":
            continue
        response = site.client.post(site.url(path), data={"csrf": "forged"}, follow_redirects=False)
        assert response.status_code == 403, path
    done = site.client.post("/logout", data={"csrf": site.csrf()}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    assert site.client.get("/", follow_redirects=False).status_code == 303


def test_another_teams_model_is_not_found_on_every_model_page(site: Site) -> None:
    model_pages = [p for p in GUARDED if "{name}" in p]
    assert model_pages
    site.login(site.tokens["risk_admin"])
    for path in model_pages:
        response = site.client.get(site.url(path))
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html") and "no model named" in response.text
    fleet = site.client.get("/").text
    assert "fraud" in fleet and MODEL_ESCAPED not in fleet
    assert MODEL_ESCAPED not in site.client.get("/alerts?status=all").text
    assert "growth/" not in site.client.get("/audit").text  # the other team's changes are not shown
    site.login(site.tokens["growth_read"])
    for path in model_pages:
        assert site.client.get(site.url(path)).status_code == 200, path
    assert "fraud" not in site.client.get("/").text


def test_every_page_escapes_names_from_the_data(site: Site) -> None:
    """Column, category and owner names of ``<script>alert(1)</script>`` and a model name of
    ``<img src=x onerror=alert(1)>``: shown, never run."""
    site.login(site.tokens["growth_admin"])
    for path in GUARDED:
        response = site.client.get(site.url(path))
        assert response.status_code == 200, path
        html = response.text
        assert "<script>alert" not in html and "<img" not in html, path
        assert 'href="javascript:' not in html, path  # the runbook URL is shown as text, not linked
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        scripts = re.findall(r"<script(?: [^>]*)?>", html)
        assert all("src=" in s or 'type="application/json"' in s for s in scripts), path
    model = site.client.get(site.url("/models/{name}")).text
    assert MODEL_ESCAPED in model and model.count(ESCAPED) >= 4  # description, owner, on-call, config file
    assert "configuration file, version 1" in model
    window = site.client.get(site.url("/models/{name}/windows/{start}")).text
    assert ESCAPED in window  # the column's card and the category in its plot
    # the heatmap's labels: entities for plotly (which reads tags), JSON-escaped for the script element
    assert "\\u0026lt;script\\u0026gt;" in model


def test_fleet_shows_health_volume_and_freshness(site: Site) -> None:
    site.login(site.tokens["growth_read"])
    html = site.client.get("/").text
    row = html[html.index(MODEL_ESCAPED) :]
    row = row[: row.index("</tr>")]
    assert "champion" in row and 'badge critical">critical' in row
    assert re.search(r'class="num">600<', row)  # rows in the latest window
    assert row.count(" ago") == 3  # last batch, label and evaluation
    assert site.client.get("/?sort=nonsense").status_code == 422


def test_model_page_charts_the_drift_and_the_performance(site: Site) -> None:
    site.login(site.tokens["growth_read"])
    html = site.client.get(site.url("/models/{name}")).text
    figures = re.findall(r'<script type="application/json" id="fig-([\w-]+)">', html)
    assert {"heatmap", "perf-1", "alerts"} <= set(figures)
    assert "SLO (min 0.8)" in html and "roc_auc: estimated vs realized" in html
    link = quote(site.window_start.isoformat(), safe="")
    assert f"/windows/{link}" in html


def test_model_page_lists_a_window_not_evaluated_yet(site: Site) -> None:
    """An open window's summary has no ``rows`` yet: a dash, not a 500 (found by bench/load.py)."""
    with site.store.session() as session:
        model_id = session.query(Model.id).filter(Model.name == MODEL).scalar()
        latest = session.query(Window.start).filter(Window.model_id == model_id).order_by(Window.start.desc())
        start = latest.first()[0] + timedelta(hours=1)
        session.add(Window(model_id=model_id, start=start, end=start + timedelta(hours=1)))
    site.login(site.tokens["growth_read"])
    response = site.client.get(site.url("/models/{name}"))
    assert response.status_code == 200, response.text[-500:]
    windows = _section(response.text, "windows")
    row = re.search(r"<tr><td><a [^>]*>[^<]*</a></td><td>open</td>\s*<td[^>]*>([^<]*)</td>", windows)
    assert row is not None and row[1] == "–"


def test_window_page_is_the_report_of_that_window(site: Site) -> None:
    site.login(site.tokens["growth_read"])
    later = site.window_start + timedelta(hours=1)
    html = site.client.get(
        f"/models/{quote(MODEL, safe='')}/windows/{quote(later.isoformat(), safe='')}"
    ).text
    assert "Findings" in html and "x2" in html and "drifted" in html
    assert html.index("x2") < html.index("x3")  # the drifted column first
    missing = (
        f"/models/{quote(MODEL, safe='')}/windows/{quote((later + timedelta(days=9)).isoformat(), safe='')}"
    )
    assert site.client.get(missing).status_code == 404
    assert site.client.get(f"/models/{quote(MODEL, safe='')}/windows/yesterday").status_code == 422


def test_window_page_shows_what_its_evaluation_saw_and_merges_its_profiles_once(site: Site) -> None:
    """A window's comparison is computed once (bench/load.py: merging a window's hundreds of partial
    profiles on every request took seconds): a second view reads no profile; a late batch appears once
    the window is evaluated again, with the findings it raised."""
    site.login(site.tokens["growth_read"])
    start = site.window_start + timedelta(hours=1)
    path = f"/models/{quote(MODEL, safe='')}/windows/{quote(start.isoformat(), safe='')}"
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    def view() -> tuple[str, int]:
        html = site.client.get(path).text
        rows = re.search(r"([\d,]+) rows in this window", html)[1]
        return re.sub(r'name="csrf" value="[^"]+"', "", html), int(rows.replace(",", ""))

    event.listen(site.store.engine, "before_cursor_execute", record)
    try:
        first, rows = view()
        read_first = [s for s in statements if "partial_profiles.profile" in s]
        statements.clear()
        second, _ = view()
    finally:
        event.remove(site.store.engine, "before_cursor_execute", record)
    assert len(read_first) == 1  # the window's profiles in one query
    assert second == first
    assert not [s for s in statements if ".profile" in s or ".labelled" in s]  # no profile, no reference
    assert len(statements) <= 8, statements  # session, model and team, window, reference, ids, findings

    admin = {"Authorization": f"Bearer {site.tokens['growth_admin']}"}
    late, _ = hour_records(start, prefix="late", drifted=True, seed=7)
    body = {"batch_id": "late", "records": late[:100], "model_version": CANDIDATE}
    assert site.client.post(
        f"/v1/models/{quote(MODEL, safe='')}/batches", json=body, headers=admin
    ).is_success
    assert view() == (first, rows)  # not evaluated yet: the page shows what the findings were raised on
    evaluate_due(site.store)
    assert view()[1] == rows + 100


def test_plotly_is_served_from_the_installed_package(site: Site) -> None:
    response = site.client.get("/static/plotly.min.js")
    assert response.status_code == 200 and len(response.content) > 1_000_000
    assert response.headers["content-type"].startswith("text/javascript")
    assert site.client.get("/static/..%2Fpages.py").status_code == 404


def test_without_auth_the_operator_sees_every_team_and_forms_still_need_csrf(store: Store) -> None:
    with TestClient(create_app(store, auth=False, evaluate_every=None)) as client:
        seed(client, store)
        assert client.get("/login", follow_redirects=False).headers["location"] == "/"
        fleet = client.get("/")
        assert fleet.status_code == 200 and "fraud" in fleet.text and MODEL_ESCAPED in fleet.text
        assert auth.LOGIN_COOKIE in fleet.headers["set-cookie"]  # the browser's CSRF nonce
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/alerts").text)[1]
        alert = re.search(r'<tr id="alert-(\d+)" data-state="firing"', client.get("/alerts").text)[1]
        assert client.post(f"/alerts/{alert}/ack", data={"csrf": "forged"}).status_code == 403
        assert client.post(f"/alerts/{alert}/ack", data={"csrf": csrf}).status_code == 200
        assert "alert.acknowledge" in client.get("/audit").text


def firing(site: Site) -> list[tuple[str, str]]:
    """``(alert id, state)`` of the inbox's rows."""
    return re.findall(r'<tr id="alert-(\d+)" data-state="(\w+)"', site.client.get("/alerts?status=all").text)


def test_acknowledging_and_silencing_from_the_inbox(site: Site) -> None:
    site.login(site.tokens["growth_read"])
    rows = [(alert, state) for alert, state in firing(site) if state == "firing"]
    assert len(rows) >= 2
    inbox = site.client.get("/alerts").text
    assert (
        "need a token with the admin scope" in inbox and '<form method="post" action="/alerts/' not in inbox
    )
    first, second = rows[0][0], rows[1][0]
    refused = site.client.post(f"/alerts/{first}/ack", data={"csrf": site.csrf()})
    assert refused.status_code == 403  # a read token may look, not act
    site.login(site.tokens["risk_admin"])
    assert site.client.post(f"/alerts/{first}/ack", data={"csrf": site.csrf()}).status_code == 404
    site.login(site.tokens["growth_admin"])
    done = site.client.post(
        f"/alerts/{first}/ack", data={"csrf": site.csrf(), "back": "all"}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/alerts?status=all"
    form = {"csrf": site.csrf(), "duration": "1d", "comment": "known: the <b>pipeline</b> fix ships today"}
    assert site.client.post(f"/alerts/{second}/silence", data=form).status_code == 200  # redirected
    states = dict(firing(site))
    assert states[first] == "acknowledged" and states[second] == "silenced"
    inbox = site.client.get("/alerts?status=acknowledged").text
    assert f'id="alert-{first}"' in inbox and "by growth/admin" in inbox
    assert "known: the &lt;b&gt;pipeline&lt;/b&gt; fix ships today" in site.client.get("/alerts").text
    bad = site.client.post(f"/alerts/{second}/silence", data={**form, "csrf": site.csrf(), "duration": "9y"})
    assert bad.status_code == 422 and "duration" in bad.text
    silence = re.search(r'action="/silences/(\d+)/expire"', site.client.get("/alerts").text)[1]
    assert site.client.post(f"/silences/{silence}/expire", data={"csrf": site.csrf()}).status_code == 200
    assert dict(firing(site))[second] == "firing"
    audit = site.client.get("/audit").text
    assert "alert.acknowledge" in audit and "silence.create" in audit and "silence.expire" in audit


def test_drift_matrix_colours_score_over_threshold() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    windows = [
        Window(
            start=start, summary={"drift": {"a": 0.05, "b": 0.01}, "drift_thresholds": {"a": 0.1, "b": 0.1}}
        ),
        Window(
            start=start + timedelta(hours=1),
            summary={
                "drift": {"a": 0.3, "c": 0.02},
                "drift_thresholds": {"a": 0.1, "c": 0.1},
                "drifted_columns": ["c"],
            },
        ),
    ]
    names, ratio, score = drift_matrix(windows)
    assert names == ["a", "b", "c"]
    assert ratio == [[pytest.approx(0.5), pytest.approx(3.0)], [pytest.approx(0.1), None], [None, 1.0]]
    assert score[2] == [None, 0.02]


def _section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}">')
    return html[start : html.index("</section>", start)]


def _diff(stats: dict) -> str:
    low, high = stats["ci"]
    return f"{stats['metric']} {stats['delta']:+.3g} [{low:+.3g}, {high:+.3g}]"


def test_model_page_shows_the_retrain_ledger_and_each_versions_shadow_agreement(site: Site) -> None:
    """The seeded candidate was gated on its shadow hour, promoted, and helped in the next hour: the ledger
    card and the versions card show what the API's ledger and shadow endpoints hold, escaped."""
    api = {"Authorization": f"Bearer {site.tokens['growth_read']}"}
    ledger = site.client.get(f"/v1/models/{quote(MODEL, safe='')}/retrains", headers=api).json()
    shadow = site.client.get(f"/v1/models/{quote(MODEL, safe='')}/shadow", headers=api).json()
    (record,) = ledger["retrains"]
    assert record["decision"] == "promote" and record["outcome_status"] == "helped"
    site.login(site.tokens["growth_read"])
    html = site.client.get(site.url("/models/{name}")).text

    card = _section(html, "ledger")
    assert "1 retrains: 1 helped, 0 hurt, 0 made no difference, 0 await their outcome" in card
    assert ESCAPED in card  # the trigger
    assert f"v1 → {CANDIDATE_ESCAPED}" in card
    assert 'badge promote">promote' in card and 'badge helped">helped' in card
    assert _diff(record["gate"]) in card and _diff(record["outcome"]) in card
    assert record["gate"]["delta"] > 0 and record["outcome"]["ci"][0] > 0
    assert "by growth/admin" in card  # recorded and promoted by

    versions = _section(html, "versions")
    rows = dict(re.findall(r"<tr><td>([^<]*)</td><td>(\w+)</td>", versions))
    assert rows == {CANDIDATE_ESCAPED: "champion", "v1": "retired"}  # v1 retired once the outcome was known
    for stage, version, champion in (("champion", CANDIDATE, "v1"), ("retired", "v1", CANDIDATE)):
        (latest,) = [w for w in shadow["windows"] if w["version"] == version]
        row = re.search(rf"<tr><td>[^<]*</td><td>{stage}</td>.*?</tr>", versions, re.S)[0]
        assert f"{latest['agreement'] * 100:.1f} %" in row and _diff(latest) in row
        assert html_escape(champion) in row and f">{latest['rows']}<" in row


def test_the_versions_and_the_ledger_are_paginated(site: Site) -> None:
    with site.store.session() as session:
        model = session.query(Model).filter_by(name=MODEL).one()
        first = queries.versions(session, model, 1, per_page=1)
        last = queries.versions(session, model, 9, per_page=1)
        records, summary = queries.retrains(session, model, 5, per_page=1)
    assert (first.total, first.pages, first.rows[0].version.version) == (2, 2, CANDIDATE)
    assert (last.page, last.rows[0].version.version, last.rows[0].shadow["champion_version"]) == (
        2,
        "v1",
        CANDIDATE,
    )
    assert (records.page, records.pages, len(records.rows)) == (1, 1, 1)
    assert summary == {"retrains": 1, "helped": 1, "hurt": 0, "no_difference": 0, "pending": 0}
    site.login(site.tokens["growth_read"])
    assert site.client.get(site.url("/models/{name}") + "?ledger_page=7&versions_page=3").status_code == 200
    bad = site.client.get(site.url("/models/{name}") + "?ledger_page=0")
    assert bad.status_code == 422 and "ledger_page" in bad.text
