"""The retrain policy on the service: the plan (every trigger with its numbers), the ``retrain.trigger``
finding each evaluated window may carry, and the signed POST to ``retrain.notify`` when a retrain is due.

The triggers themselves are pure functions (:mod:`mlwarden.retrain.triggers`); this module reads what
they need from the store: the model's evaluated windows (their summaries: drift scores, drifted features,
estimated and realized performance), its labels since the last retrain, and the ledger's last retrain.

A due plan is notified once per firing: the notification's idempotency key is made of the fired
triggers' keys (``slo_breach@<window>``, ``schedule@<cron time>``), stored with a unique constraint, and
delivered with retries; every attempt is recorded on the ``retrain_notifications`` row.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mlwarden.errors import InputError
from mlwarden.findings import Finding, Severity
from mlwarden.registry import Actor, find_model, model_mapping
from mlwarden.retrain.triggers import Plan, WindowStats, importance_weights, plan
from mlwarden.schema.retraining import RetrainSection
from mlwarden.server.prepared import CorruptBlob, latest_reference_key, reference_profile
from mlwarden.store import Store
from mlwarden.store.schema import Label, Model, Retrain, RetrainNotification, Window

log = logging.getLogger("mlwarden.retrain")
HISTORY_WINDOWS = 500  # evaluated windows a plan reads (the SLO trigger needs at most its N latest)
ATTEMPTS = 3  # delivery attempts per tick; a notification not delivered is retried at the next window
BACKOFF = 0.5  # seconds before the second attempt, doubled before each further one
MAX_ATTEMPTS = 10  # after this many a notification is marked failed and left alone


def stored_section(session: Session, model: Model) -> RetrainSection | None:
    """The ``retrain:`` section of the model's configuration in force (``mlwarden apply -f``), if any."""
    from mlwarden.registry.configs import latest

    row = latest(session, model.id)
    return None if row is None else _section(row.id, row.text)


@lru_cache(maxsize=256)
def _section(config_id: int, text: str) -> RetrainSection | None:
    """The ``retrain:`` section of a stored configuration (validated when applied; parsed once per row)."""
    from mlwarden.schema.config import ModelConfig

    return ModelConfig.from_text(text, stored=True).retrain


def section_of(store: Store, model: Model) -> RetrainSection | None:
    """The model's stored ``retrain:`` section (see :func:`stored_section`)."""
    with store.session() as session:
        return stored_section(session, model)


def _windows(session: Session, model_id: int, current: WindowStats | None = None) -> list[WindowStats]:
    """The model's evaluated windows, oldest first; ``current`` (a window being evaluated) in its place."""
    rows = session.execute(
        select(Window.start, Window.end, Window.summary)
        .where(Window.model_id == model_id, Window.status == "evaluated")
        .order_by(Window.start.desc())
        .limit(HISTORY_WINDOWS)
    ).all()
    found = [WindowStats.from_summary(s, e, summary) for s, e, summary in rows if summary.get("evaluated")]
    if current is not None:
        found = [w for w in found if w.start != current.start] + [current]
    return sorted(found, key=lambda w: w.start)


def _last_retrain(session: Session, model_id: int) -> datetime | None:
    return session.scalar(select(func.max(Retrain.created_at)).where(Retrain.model_id == model_id))


def _labelled_since(session: Session, model_id: int, since: datetime | None) -> int:
    query = select(func.count(func.distinct(Label.prediction_id))).where(Label.model_id == model_id)
    if since is not None:
        query = query.where(Label.ts >= since)
    return int(session.scalar(query) or 0)


def _features(store: Store, session: Session, model: Model) -> list[str]:
    """The model's features in its newest reference (decoded once per process: the prepared reference)."""
    key = latest_reference_key(store, session, model.id)
    if key is None:
        return []
    try:
        columns = reference_profile(store, key).columns
    except CorruptBlob as exc:
        raise InputError(str(exc)) from None
    return model_mapping(model).features(columns)


def model_plan(
    store: Store,
    session: Session,
    model: Model,
    section: RetrainSection,
    now: datetime | None = None,
    current: WindowStats | None = None,
) -> Plan:
    """Every trigger and guard of ``section`` on the model's stored windows (``current``: a window being
    evaluated, its summary not stored yet), labels and ledger."""
    now = now or datetime.now(UTC)
    last = _last_retrain(session, model.id)
    features = _features(store, session, model)
    given = section.triggers.importances
    weights = importance_weights(features, importances=given) if features else {}
    return plan(
        section.triggers,
        _windows(session, model.id, current),
        slo=model.slos,
        weights=weights,
        labelled_since=_labelled_since(session, model.id, last),
        last_retrain=last,
        now=now,
    )


def plan_for(
    store: Store, actor: Actor, name: str, section: RetrainSection | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """The plan of a model as JSON: ``section`` when given, else the model's stored ``retrain:`` section.
    Raises InputError when there is neither."""
    actor.require("read")
    with store.session() as session:
        model = find_model(session, actor, name)
        source = "request"
        if section is None:
            section, source = stored_section(session, model), "stored configuration"
        if section is None:
            raise InputError(
                f"retrain: model {name!r} has no retrain: section in a stored configuration; "
                "apply one, or pass it with the request (mlwarden retrain plan --config FILE)"
            )
        result = model_plan(store, session, model, section, now)
        weighted = section.triggers.importances is not None
    out = result.to_dict()
    out |= {
        "model": name,
        "config": source,
        "importances": "given" if weighted else "equal (none configured)",
    }
    return out


def retrain_findings(
    store: Store, model_id: int, window: Window, summary: dict[str, Any]
) -> tuple[list[Finding], Plan | None]:
    """For a window being evaluated (its ``summary`` computed, not stored yet): the ``retrain.trigger``
    finding when a trigger fires — warning when the retrain is due, info when a guard holds it back — and
    the plan (None without a stored ``retrain:`` section)."""
    current = (
        WindowStats.from_summary(window.start, window.end, summary) if summary.get("evaluated") else None
    )
    with store.session() as session:
        model = session.get(Model, model_id)
        section = stored_section(session, model)
        if section is None:
            return [], None
        result = model_plan(store, session, model, section, current=current)
    if not result.fired:
        return [], result
    held = [g for g in result.guards if g.fires]
    reasons = "; ".join(f"{t.name}: {t.reason}" for t in result.fired)
    if held:
        message = f"retrain trigger fired but held back ({'; '.join(g.reason for g in held)}): {reasons}"
    else:
        message = f"retrain due: {reasons}"
    finding = Finding(
        check="retrain.trigger",
        severity=Severity.INFO if held else Severity.WARNING,
        message=message,
        model=model.name,
        evidence=result.to_dict(),
    )
    return [finding], result


def notify(
    store: Store, model_id: int, result: Plan | None, section: RetrainSection, window: Window | None = None
) -> None:
    """Post a due plan to ``section.notify.webhook`` once per firing, and retry earlier undelivered ones."""
    if section.notify.webhook is None:
        return
    with store.session() as session:
        model = session.get(Model, model_id)
    hook = section.notify.webhook
    if result is not None and result.due:
        keys = sorted(t.key or t.name for t in result.fired)
        key = "retrain-" + hashlib.sha256(f"{model_id}|{'|'.join(keys)}".encode()).hexdigest()[:40]
        payload = {
            "model": model.name,
            "due": True,
            "triggers": [t.to_dict() for t in result.fired],
            "guards": [g.to_dict() for g in result.guards],
            "window": None
            if window is None
            else {"start": window.start.isoformat(), "end": window.end.isoformat()},
            "idempotency_key": key,
        }
        try:
            with store.session() as session:
                session.add(RetrainNotification(model_id=model_id, key=key, url=hook.url, payload=payload))
        except IntegrityError:
            pass  # this firing was notified (or is being retried) already
    deliver_pending(store, model_id, hook.url, hook.secret)


def deliver_pending(store: Store, model_id: int, url: str, secret: str) -> int:
    """Deliver the model's undelivered notifications (a 2xx answer delivers; others and network errors are
    retried with backoff, :data:`ATTEMPTS` per call, up to :data:`MAX_ATTEMPTS` in all). Returns how many
    were delivered."""
    from mlwarden.schema.secrets import resolve
    from mlwarden.signing import post_signed

    with store.session() as session:
        pending = session.scalars(
            select(RetrainNotification).where(
                RetrainNotification.model_id == model_id, RetrainNotification.status == "pending"
            )
        ).all()
    delivered = 0
    for note in pending:
        try:
            resolved = resolve(secret, field="retrain.notify.webhook.secret")
        except InputError as exc:
            _attempt(store, note.id, None, str(exc))
            continue
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(BACKOFF * 2 ** (attempt - 1))
            try:
                response = post_signed(url, note.payload, secret=resolved, idempotency_key=note.key)
            except httpx.HTTPError as exc:
                status, error = None, f"{type(exc).__name__}: {exc}"
            else:
                status, error = response.status_code, None if response.is_success else response.text[:500]
            if _attempt(store, note.id, status, error):
                delivered += 1
                break
            if status is not None and 400 <= status < 500 and status != 429:
                break  # the receiver refuses this request: repeating it now will not help
    return delivered


def _attempt(store: Store, note_id: int, status: int | None, error: str | None) -> bool:
    """Record one attempt; True when it delivered."""
    ok = status is not None and 200 <= status < 300
    with store.session() as session:
        note = session.get(RetrainNotification, note_id)
        note.attempts += 1
        note.last_status, note.last_error = status, error
        if ok:
            note.status, note.delivered_at = "delivered", datetime.now(UTC)
        elif note.attempts >= MAX_ATTEMPTS:
            note.status = "failed"
            log.error(
                "retrain notification failed for good", extra={"notification": note.key, "error": error}
            )
    return ok


def notifications(session: Session, model_id: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(RetrainNotification)
        .where(RetrainNotification.model_id == model_id)
        .order_by(RetrainNotification.id)
    )
    return [
        {
            "key": r.key,
            "url": r.url,
            "status": r.status,
            "attempts": r.attempts,
            "last_status": r.last_status,
            "last_error": r.last_error,
            "created_at": r.created_at.isoformat(),
            "delivered_at": None if r.delivered_at is None else r.delivered_at.isoformat(),
            "payload": r.payload,
        }
        for r in rows
    ]


def after_window(store: Store, model_id: int, window_id: int, result: Plan | None) -> None:
    """What follows a window's evaluation: shadow comparisons, retrain outcomes, the retrain notification.
    Failures are logged; the window's own results are already stored."""
    from mlwarden.server.ledger import update_outcomes
    from mlwarden.server.shadow import compare_window

    with store.session() as session:
        model = session.get(Model, model_id)
        window = session.get(Window, window_id)
        section = stored_section(session, model) or RetrainSection()
    extra = {"model_id": model_id, "window_id": window_id}
    for step in (
        lambda: compare_window(store, model_id, window_id, section.gate),
        lambda: update_outcomes(store, model_id, section),
        lambda: notify(store, model_id, result, section, window),
    ):
        try:
            step()
        except Exception:
            log.exception("retrain step after a window failed", extra=extra)
