"""What the dashboard's pages show, read from the store: aggregated in SQL, one page of windows at a time.

Every function takes the caller's :class:`~mlwarden.registry.Actor` or an already resolved model (found with
:func:`~mlwarden.registry.find_model`, which hides other teams' models), so no query reaches another team.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from mlwarden.alerts.state import OPEN
from mlwarden.registry import Actor
from mlwarden.server.ledger import outcome_summary, retrain_dict
from mlwarden.server.shadow import shadow_dict
from mlwarden.store.schema import (
    Alert,
    AuditEntry,
    Batch,
    Model,
    ModelVersion,
    Retrain,
    ShadowWindow,
    StoredFinding,
    Team,
    Window,
)

SEVERITY_RANK = {"ok": 0, "info": 1, "warning": 2, "critical": 3}
QUALITY_PREFIXES = ("quality.", "output.", "contract.", "data.")  # the data-quality checks, over time
STAGE_ORDER = ("champion", "challenger", "shadow", "retired")


@dataclass(slots=True)
class FleetRow:
    """One model on the fleet page: who owns it, how healthy and how fresh it is."""

    name: str
    team: str
    owner_name: str | None
    owner_email: str | None
    stage: str
    version: str | None
    health: str  # the worst firing alert's severity, or "ok"
    open_alerts: int  # pending or firing
    last_rows: int | None  # rows in the latest window
    last_batch: datetime | None
    last_label: datetime | None
    last_evaluation: datetime | None


FLEET_SORTS = {
    "name": lambda r: r.name.lower(),
    "owner": lambda r: (r.owner_name or "").lower(),
    "stage": lambda r: STAGE_ORDER.index(r.stage) if r.stage in STAGE_ORDER else len(STAGE_ORDER),
    "health": lambda r: -SEVERITY_RANK[r.health],
    "rows": lambda r: -(r.last_rows or 0),
    "last_batch": lambda r: -(r.last_batch.timestamp() if r.last_batch else 0),
    "last_label": lambda r: -(r.last_label.timestamp() if r.last_label else 0),
    "last_evaluation": lambda r: -(r.last_evaluation.timestamp() if r.last_evaluation else 0),
    "alerts": lambda r: -r.open_alerts,
}


def fleet(session: Session, actor: Actor) -> list[FleetRow]:
    """Every model the actor sees, one row each, sorted by name: six grouped queries, whatever the count."""
    query = select(Model, Team.name).join(Team, Team.id == Model.team_id).order_by(Model.name)
    if actor.team_id is not None:
        query = query.where(Model.team_id == actor.team_id)
    models = session.execute(query).all()
    ids = [m.id for m, _ in models]
    if not ids:
        return []
    in_ids = Model.id.in_(ids)
    versions: dict[int, tuple[str, str]] = {}
    for model_id, version, stage in session.execute(
        select(ModelVersion.model_id, ModelVersion.version, ModelVersion.stage)
        .join(Model, Model.id == ModelVersion.model_id)
        .where(in_ids)
        .order_by(ModelVersion.id)
    ):
        held = versions.get(model_id)
        if held is None or _stage_rank(stage) <= _stage_rank(held[1]):
            versions[model_id] = (version, stage)
    alerts: dict[int, tuple[int, str]] = {}
    for model_id, severity, status, count in session.execute(
        select(Alert.model_id, Alert.severity, Alert.status, func.count())
        .where(Alert.model_id.in_(ids), Alert.status.in_(OPEN))
        .group_by(Alert.model_id, Alert.severity, Alert.status)
    ):
        total, worst = alerts.get(model_id, (0, "ok"))
        if status == "firing" and SEVERITY_RANK.get(severity, 0) > SEVERITY_RANK[worst]:
            worst = severity  # health: the worst firing alert (a pending one has not met its rule's `for`)
        alerts[model_id] = (total + count, worst)
    batches: dict[tuple[int, str], datetime] = {
        (model_id, kind): at
        for model_id, kind, at in session.execute(
            select(Batch.model_id, Batch.kind, func.max(Batch.received_at))
            .where(Batch.model_id.in_(ids))
            .group_by(Batch.model_id, Batch.kind)
        )
    }
    evaluated = dict(
        session.execute(
            select(Window.model_id, func.max(Window.evaluated_at))
            .where(Window.model_id.in_(ids))
            .group_by(Window.model_id)
        ).all()
    )
    latest = (
        select(Window.model_id, func.max(Window.start).label("start"))
        .where(Window.model_id.in_(ids), Window.status != "open")
        .group_by(Window.model_id)
        .subquery()
    )
    last_rows = {
        model_id: (summary or {}).get("rows")
        for model_id, summary in session.execute(
            select(Window.model_id, Window.summary).join(
                latest, and_(latest.c.model_id == Window.model_id, latest.c.start == Window.start)
            )
        )
    }
    rows = []
    for model, team in models:
        version, stage = versions.get(model.id, (None, "unversioned"))
        count, worst = alerts.get(model.id, (0, "ok"))
        rows.append(
            FleetRow(
                name=model.name,
                team=team,
                owner_name=model.owner_name,
                owner_email=model.owner_email,
                stage=stage,
                version=version,
                health=worst,
                open_alerts=count,
                last_rows=last_rows.get(model.id),
                last_batch=batches.get((model.id, "predictions")),
                last_label=batches.get((model.id, "labels")),
                last_evaluation=evaluated.get(model.id),
            )
        )
    return rows


def _stage_rank(stage: str) -> int:
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)


@dataclass(slots=True)
class Paged:
    """One page of rows, newest first, and how many there are in all."""

    rows: list[Any]
    total: int
    page: int
    pages: int


def _paged(session: Session, query: Select, count: Select, page: int, per_page: int) -> Paged:
    """Page ``page`` (clamped to the last) of the ordered ``query``'s ORM rows; ``count`` counts them all."""
    total = session.scalar(count) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = list(session.scalars(query.offset((page - 1) * per_page).limit(per_page)))
    return Paged(rows=rows, total=total, page=page, pages=pages)


@dataclass(slots=True)
class WindowPage:
    """One page of a model's windows, oldest first, and where the neighbouring pages are."""

    windows: list[Window]
    total: int
    page: int
    pages: int


def window_page(session: Session, model: Model, page: int, per_page: int) -> WindowPage:
    """Page ``page`` (1 = the newest ``per_page`` windows) of the model's windows, oldest first."""
    query = select(Window).where(Window.model_id == model.id).order_by(Window.start.desc())
    count = select(func.count()).select_from(Window).where(Window.model_id == model.id)
    paged = _paged(session, query, count, page, per_page)
    return WindowPage(
        windows=list(reversed(paged.rows)), total=paged.total, page=paged.page, pages=paged.pages
    )


def quality_counts(
    session: Session, model: Model, since: datetime | None, until: datetime | None
) -> list[tuple[datetime, str, str, int]]:
    """``(window_start, check, severity, count)`` of data-quality findings in ``[since, until]``."""
    query = (
        select(StoredFinding.window_start, StoredFinding.check, StoredFinding.severity, func.count())
        .where(
            StoredFinding.model_id == model.id,
            StoredFinding.window_start.is_not(None),
            or_(*(StoredFinding.check.startswith(p) for p in QUALITY_PREFIXES)),
        )
        .group_by(StoredFinding.window_start, StoredFinding.check, StoredFinding.severity)
        .order_by(StoredFinding.window_start)
    )
    if since is not None:
        query = query.where(StoredFinding.window_start >= since)
    if until is not None:
        query = query.where(StoredFinding.window_start <= until)
    return [tuple(row) for row in session.execute(query)]


def model_alerts(session: Session, model: Model, limit: int = 200) -> list[Alert]:
    """The model's latest alerts (open and resolved), newest first."""
    return list(
        session.scalars(
            select(Alert).where(Alert.model_id == model.id).order_by(Alert.last_seen.desc()).limit(limit)
        )
    )


@dataclass(slots=True)
class VersionRow:
    """A registered version and its latest shadow comparison with the champion (:func:`shadow_dict` shape:
    window, ``agreement``, ``rows``, ``labelled`` and the paired ``metric``, ``delta``, ``ci``, ``p_value``),
    ``None`` when it never scored in shadow."""

    version: ModelVersion
    shadow: dict[str, Any] | None


def versions(session: Session, model: Model, page: int = 1, per_page: int = 20) -> Paged:
    """Page ``page`` of the model's versions, newest first, each with its latest ``shadow_windows`` row —
    found in SQL (the latest window per version), for the versions shown only."""
    query = select(ModelVersion).where(ModelVersion.model_id == model.id).order_by(ModelVersion.id.desc())
    count = select(func.count()).select_from(ModelVersion).where(ModelVersion.model_id == model.id)
    paged = _paged(session, query, count, page, per_page)
    shown = paged.rows
    if not shown:
        return paged
    latest = (
        select(ShadowWindow.version, func.max(ShadowWindow.window_start).label("start"))
        .where(ShadowWindow.model_id == model.id, ShadowWindow.version.in_([v.version for v in shown]))
        .group_by(ShadowWindow.version)
        .subquery()
    )
    shadows = {
        w.version: shadow_dict(w)
        for w in session.scalars(
            select(ShadowWindow).join(
                latest,
                and_(
                    ShadowWindow.model_id == model.id,
                    ShadowWindow.version == latest.c.version,
                    ShadowWindow.window_start == latest.c.start,
                ),
            )
        )
    }
    paged.rows = [VersionRow(version=v, shadow=shadows.get(v.version)) for v in shown]
    return paged


def retrains(
    session: Session, model: Model, page: int = 1, per_page: int = 20
) -> tuple[Paged, dict[str, int]]:
    """Page ``page`` of the model's retrain ledger, newest first (records in
    :func:`~mlwarden.server.ledger.retrain_dict` shape), and the summary counted in SQL over every record:
    ``retrains``, ``helped``, ``hurt``, ``no_difference``, ``pending`` (promoted, outcome not yet known) —
    the keys of :func:`~mlwarden.server.ledger.history`'s summary."""
    where = Retrain.model_id == model.id
    query = select(Retrain).where(where).order_by(Retrain.id.desc())
    count = select(func.count()).select_from(Retrain).where(where)
    paged = _paged(session, query, count, page, per_page)
    paged.rows = [retrain_dict(r) for r in paged.rows]
    summary = outcome_summary(session, model.id)
    return paged, summary


def window_at(session: Session, model: Model, start: datetime) -> Window | None:
    return session.scalar(select(Window).where(Window.model_id == model.id, Window.start == start))


def window_findings(session: Session, model: Model, window: Window) -> list[StoredFinding]:
    """The window's findings: its evaluation's and those ingestion filed under it (contract, fingerprint)."""
    return list(
        session.scalars(
            select(StoredFinding)
            .where(
                StoredFinding.model_id == model.id,
                or_(
                    StoredFinding.window_id == window.id,
                    and_(StoredFinding.window_id.is_(None), StoredFinding.window_start == window.start),
                ),
            )
            .order_by(StoredFinding.id)
        )
    )


def alert_counts(session: Session, actor: Actor) -> dict[str, int]:
    """How many of the actor's team's alerts are in each stored state (pending, firing, resolved)."""
    query = select(Alert.status, func.count()).join(Model, Model.id == Alert.model_id)
    if actor.team_id is not None:
        query = query.where(Model.team_id == actor.team_id)
    return dict(session.execute(query.group_by(Alert.status)).all())


def audit(session: Session, actor: Actor, page: int, per_page: int = 100) -> tuple[list[AuditEntry], bool]:
    """Audit entries, newest first, and whether an older page exists. A team's user sees the changes its
    own tokens made (actor ``team/token``): entity names such as ``model:churn`` do not name the team, and
    another team may use the same model name. The operator sees every entry."""
    query = select(AuditEntry)
    if actor.team_id is not None:
        team = session.get(Team, actor.team_id).name
        query = query.where(AuditEntry.actor.startswith(f"{team}/", autoescape=True))
    rows = session.scalars(
        query.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)
    ).all()
    return list(rows[:per_page]), len(rows) > per_page


def performance_series(windows: list[Window]) -> dict[str, dict[str, list[Any]]]:
    """Per metric: window starts, estimated value and band, realized value — ``None`` where a window has
    none. Row counts (``n``, ``n_*``) are left out."""
    metrics: dict[str, None] = {}
    for w in windows:
        for side in ((w.summary or {}).get("performance") or {}).values():
            for name in side:
                if not name.endswith(("_lower", "_upper")) and name != "n" and not name.startswith("n_"):
                    metrics[name] = None
    out: dict[str, dict[str, list[Any]]] = {}
    for name in metrics:
        series: dict[str, list[Any]] = {k: [] for k in ("x", "estimated", "lower", "upper", "realized")}
        for w in windows:
            perf = (w.summary or {}).get("performance") or {}
            est, real = perf.get("estimated") or {}, perf.get("realized") or {}
            series["x"].append(w.start.isoformat())
            series["estimated"].append(est.get(name))
            series["lower"].append(est.get(f"{name}_lower"))
            series["upper"].append(est.get(f"{name}_upper"))
            series["realized"].append(real.get(name))
        out[name] = series
    return out


Matrix = list[list[float | None]]


def drift_matrix(windows: list[Window]) -> tuple[list[str], Matrix, Matrix]:
    """``(columns, ratio, score)``: per column (rows) and window (columns), the drift score divided by its
    threshold (at least 1 for a drifted column, whose frequencies may have decided it) and the raw score."""
    columns: dict[str, None] = {}
    for w in windows:
        columns.update(dict.fromkeys((w.summary or {}).get("drift") or {}))
    names = sorted(columns)
    ratio = [[None] * len(windows) for _ in names]
    score = [[None] * len(windows) for _ in names]
    index = {name: i for i, name in enumerate(names)}
    for j, w in enumerate(windows):
        summary = w.summary or {}
        thresholds = summary.get("drift_thresholds") or {}
        drifted = set(summary.get("drifted_columns") or ())
        for name, value in (summary.get("drift") or {}).items():
            i = index[name]
            score[i][j] = value
            limit = thresholds.get(name)
            r = value / limit if limit else (1.0 if name in drifted else None)
            if r is not None and name in drifted:
                r = max(r, 1.0)
            ratio[i][j] = r
    return names, ratio, score
