"""Window evaluation: when a window closes, merge its partial profiles and run the model's checks.

A window is due once ``end + grace`` has passed and it has never been evaluated, or partial profiles
arrived after its last evaluation (late data: it is evaluated again and its findings replaced). An
evaluator claims a window for a few minutes first, so replicas and workers never evaluate it twice at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import ColumnElement, Select, delete, exists, func, null, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from mlwarden.alerts.owners import evaluate_hygiene
from mlwarden.alerts.state import update_alerts
from mlwarden.errors import InputError
from mlwarden.findings import Finding, Severity
from mlwarden.profile import DatasetProfile, merge
from mlwarden.profile.segments import segment_columns, split_columns, split_name, split_values
from mlwarden.registry.columns import model_mapping
from mlwarden.registry.registry import GRACE_SECONDS
from mlwarden.schema import ColumnMapping
from mlwarden.server.cache import TTLCache
from mlwarden.server.ingest import stored_finding
from mlwarden.server.labels import typed_frame, typed_mapping
from mlwarden.server.prepared import (
    CorruptBlob,
    ReferenceKey,
    decoded,
    latest_reference_key,
    prepared_fit,
    reference_profile,
)
from mlwarden.server.retrain_plan import after_window, retrain_findings
from mlwarden.store import Store
from mlwarden.store.schema import Batch as BatchRow

if TYPE_CHECKING:
    from mlwarden.segments import SegmentResult
from mlwarden.store.schema import (
    Label,
    Model,
    ModelVersion,
    PartialProfile,
    Prediction,
    StoredFinding,
    Window,
)
from mlwarden.store.statistics import refresh_statistics
from mlwarden.threads import single_threaded

log = logging.getLogger("mlwarden.evaluator")
CLAIM = timedelta(minutes=5)
HYGIENE_EVERY = 60.0  # seconds between ownership hygiene passes (no traffic, stale evaluation, ...)
EVALUATORS = 2  # windows a scheduler evaluates at once (one per model), so that one slow window holds none up
MERGED_ITEMS = 64  # windows' merged profiles kept per process (each ~0.2 MB with its row sample)
# the merged profile of each window evaluated in this process, for the dashboard's window page: merging the
# hundreds of partial profiles of a window fed by small batches takes seconds under ingestion
merged_profiles = TTLCache(float("inf"), MERGED_ITEMS)
DRIFT_ITEMS = 64  # windows' drift results kept per process (a few kB each: scores and verdicts per column)
# the drift of each window evaluated in this process (SegmentDrift), for its re-evaluations when labels alone
# arrived: the univariate tests and the domain classifier depend on the profiles only, and cost about half
# of a window's evaluation (see _checked for the key)
drift_results = TTLCache(float("inf"), DRIFT_ITEMS)


def _grace(seconds: int) -> timedelta:
    """A model's grace, within the bounds registration enforces (rows written before it did may exceed
    them: 10**15 seconds would overflow a datetime and stop every team's windows)."""
    return timedelta(seconds=min(max(seconds, GRACE_SECONDS[0]), GRACE_SECONDS[1]))


def due_windows(
    store: Store, now: datetime | None = None, team_id: int | None = None
) -> list[tuple[int, int]]:
    """``(model_id, window_id)`` of windows ready for (re-)evaluation, oldest first (of one team's models
    when ``team_id`` is given)."""
    now = now or datetime.now(UTC)
    return [(m, w) for m, w, due in _with_news(store, now, team_id) if due <= now]


def next_due(store: Store, now: datetime | None = None) -> datetime | None:
    """When the next window holding data becomes due (its end + grace, after ``now``); ``None`` when no
    window waits for its close. The scheduler sleeps until then, so a window is evaluated as it closes."""
    now = now or datetime.now(UTC)
    return min((due for _, _, due in _with_news(store, now, None) if due > now), default=None)


def _with_news(store: Store, now: datetime, team_id: int | None) -> list[tuple[int, int, datetime]]:
    """``(model_id, window_id, due at)`` of the unclaimed windows with news, oldest first."""
    with store.session() as session:
        rows = session.execute(
            select(Window.model_id, Window.id, Window.end, Model.grace_seconds)
            .join(Model, Model.id == Window.model_id)
            .where(
                _unclaimed(now),
                _has_news(),
                Model.team_id == team_id if team_id is not None else True,
            )
            .order_by(Window.start)
        ).all()
    return [(m, w, end + _grace(grace)) for m, w, end, grace in rows]


def _unclaimed(now: datetime) -> ColumnElement[bool]:
    return or_(Window.claimed_until.is_(None), Window.claimed_until < now)


def _has_news() -> ColumnElement[bool]:
    """Partial profiles after the window's last evaluation, or labels since."""
    late = exists().where(
        PartialProfile.model_id == Window.model_id,
        PartialProfile.window_start == Window.start,
        PartialProfile.id > Window.evaluated_upto,
    )
    return or_(late, Window.labels_arrived)


def claim(store: Store, window_id: int, now: datetime) -> int | None:
    """Claim a due window for :data:`CLAIM`, in one atomic UPDATE, for exactly one of several evaluators
    (replicas, workers) racing for it; returns the claimed window's horizon, or None when another evaluator
    has it or it has no news any more. The update re-checks that the window is unclaimed *and* still has
    news, so an evaluator that listed it before another one finished it does not evaluate it again (on
    PostgreSQL a concurrent update re-reads the row it waited for, then re-checks the condition).

    The horizon is the newest partial profile id of the window read after the update, in its transaction:
    every profile up to it is committed. Ids come from a sequence in insertion order, not commit order, so
    on PostgreSQL a batch could hold an uncommitted lower id than one already visible; a batch takes a share
    lock on its windows' rows before it inserts a profile (:func:`mlwarden.server.ingest.ingest_predictions`),
    which the update waits for, and a batch locking after the update draws higher ids than the horizon. An
    evaluation of the profiles up to the horizon can therefore never skip one for good."""
    with store.session() as session:
        result = session.execute(
            update(Window)
            .where(Window.id == window_id, _unclaimed(now), _has_news())
            .values(claimed_until=now + CLAIM, labels_arrived=False)  # labels after this re-flag it
            .returning(Window.model_id, Window.start)
        ).one_or_none()
        if result is None:
            return None
        return _horizon(session, *result)


def _horizon(session: Session, model_id: int, start: datetime) -> int:
    """The newest partial profile id of a window (0 without any)."""
    newest = session.scalar(
        select(func.max(PartialProfile.id)).where(
            PartialProfile.model_id == model_id, PartialProfile.window_start == start
        )
    )
    return newest or 0


def evaluate_due(
    store: Store,
    now: datetime | None = None,
    team_id: int | None = None,
    evaluated: Callable[[], None] | None = None,
) -> int:
    """Evaluate every due window (of one team's models when ``team_id`` is given); returns how many were
    evaluated, calling ``evaluated`` as soon as each one's alerts are committed (the sender's wake-up: its
    notifications wait neither for the window's follow-up steps nor for the other windows). One window's
    failure is logged and recorded on it, never raised: the others go on."""
    due = due_windows(store, now, team_id)
    if due:
        _refresh_statistics(store)
    return sum(evaluate_one(store, model_id, window_id, evaluated) for model_id, window_id in due)


def evaluate_one(
    store: Store, model_id: int, window_id: int, evaluated: Callable[[], None] | None = None
) -> bool:
    """Claim and evaluate one due window; False when another evaluator has it. A failure is logged and
    recorded on the window (or the window given back when the store failed), never raised."""
    extra = {"model_id": model_id, "window_id": window_id}
    horizon = None
    try:
        started = datetime.now(UTC)
        horizon = claim(store, window_id, started)
        if horizon is None:
            return False
        evaluate_window(store, model_id, window_id, stored=evaluated, upto=horizon)
        seconds = (datetime.now(UTC) - started).total_seconds()
        log.info("window evaluated", extra={**extra, "started": started.isoformat(), "seconds": seconds})
        return True
    except DBAPIError:  # the store is busy or away: give the window back, to be retried at the next tick
        log.exception("evaluating window failed; retrying at the next tick", extra=extra)
        _give_back(store, window_id)
    except Exception as exc:  # the window's data or the model's settings: a retry would fail the same way
        log.exception("evaluating window failed; window marked failed", extra=extra)
        _fail(store, model_id, window_id, exc, stored=evaluated, upto=horizon)
    return False


def _refresh_statistics(store: Store) -> None:
    """Fresh planner statistics before joining labels (a failure only costs plan quality: logged)."""
    try:
        refresh_statistics(store)
    except DBAPIError:
        log.exception("refreshing planner statistics failed")


def _give_back(store: Store, window_id: int) -> None:
    try:
        with store.session() as session:
            session.execute(
                update(Window).where(Window.id == window_id).values(claimed_until=None, labels_arrived=True)
            )
    except DBAPIError:  # still away: the claim expires on its own after CLAIM
        log.exception("giving a window back failed", extra={"window_id": window_id})


def _fail(
    store: Store,
    model_id: int,
    window_id: int,
    exc: Exception,
    stored: Callable[[], None] | None = None,
    upto: int | None = None,
) -> None:
    """Record a window that cannot be evaluated: a critical finding naming the cause and an alert, status
    ``failed``, the partial profiles up to ``upto`` (the claim's horizon; None: every one so far) counted
    as seen (new data or labels make it due again)."""
    check = "data.corrupt" if isinstance(exc, CorruptBlob) else "evaluation.failed"
    try:
        with store.session() as session:
            model = session.get(Model, model_id)
            window = session.get(Window, window_id)
            if upto is None:
                upto = _horizon(session, model_id, window.start)
        finding = Finding(
            check=check,
            severity=Severity.CRITICAL,
            model=model.name,
            message=f"window not evaluated: {exc}",
        )
        summary = {"rows": None, "evaluated": False, "error": str(exc)}
        _store_results(
            store,
            model,
            window,
            [finding],
            summary,
            upto,
            lambda _: False,
            status="failed",
            stored=stored,
        )
    except Exception:  # the failure cannot even be recorded: let the claim expire, the log has it
        log.exception("recording a failed window failed", extra={"window_id": window_id})


def evaluate_window(
    store: Store,
    model_id: int,
    window_id: int,
    stored: Callable[[], None] | None = None,
    upto: int | None = None,
) -> list[Finding]:
    """Run the model's checks on one window and store findings, alerts and a summary. The model's column
    mapping says what each column is; the class set and positive label come from it and the reference,
    never from the labels this window happens to hold. A mapping the data contradicts (score columns in
    another class order, labels outside the score map) is one critical ``evaluation.failed`` finding.
    ``stored`` is called once the findings and alerts are committed, before the follow-up steps. ``upto``:
    the partial profiles checked are those up to this id (the horizon :func:`claim` returns; None: every
    one stored), and later ones make the window due again."""
    with store.session() as session:
        model = session.get(Model, model_id)
        window = session.get(Window, window_id)
        if upto is None:
            upto = _horizon(session, model_id, window.start)
        partials = session.execute(
            select(PartialProfile.id, PartialProfile.profile, served_batch(model_id))
            .join(BatchRow, BatchRow.id == PartialProfile.batch_pk)
            .where(
                PartialProfile.model_id == model_id,
                PartialProfile.window_start == window.start,
                PartialProfile.id <= upto,
            )
            .order_by(PartialProfile.id)
        ).all()
        reference = latest_reference_key(store, session, model_id)
        mapping = model_mapping(model)
        outputs = outputs_between(session, model, mapping, window.start, window.end)
        training = _champion_training_profile(session, model_id)
    # the served traffic (the champion's, or unversioned batches); shadow versions' batches score the same
    # requests and are compared with it by mlwarden.server.shadow
    served = [(pid, blob) for pid, blob, is_served in partials if is_served]
    if not served:  # only shadow versions' batches so far: nothing served to check
        _store_results(
            store, model, window, [], {"rows": 0, "evaluated": False}, upto, _judged({}), stored=stored
        )
        return []
    current = merge(decoded(blob, f"partial profile {pid}") for pid, blob in served)
    if reference is not None and len(served) == len(partials):  # the page shows shadow traffic's too
        merged_profiles.get(
            merged_key(reference, model_id, window.start, [p for p, _ in served]), lambda: current
        )
    summary: dict[str, Any] = {"rows": current.rows, "evaluated": False}
    if reference is None:
        findings = [
            Finding(
                check="reference.missing",
                severity=Severity.WARNING,
                message=f"model {model.name} has no reference: register one to evaluate its windows",
            )
        ]
    else:
        try:
            served_ids = [pid for pid, _ in served]
            findings, summary = _checked(store, model, mapping, reference, current, served_ids, outputs)
        except InputError as exc:  # the mapping contradicts the data: retrying cannot help, the owner can
            findings = [_not_evaluated(model, exc)]
    if training is not None:
        findings += _training_skew(mapping, training, current)
    retrain, plan = retrain_findings(store, model_id, window, summary)
    findings = [replace(f, model=model.name) for f in findings + retrain]
    _store_results(store, model, window, findings, summary, upto, _judged(summary), stored=stored)
    after_window(store, model_id, window_id, plan)
    return findings


def merged_key(reference: ReferenceKey, model_id: int, start: datetime, ids: list[int]) -> tuple:
    """The :data:`merged_profiles` key of the merge of a window's partial profiles ``ids`` (ascending):
    partial profiles are never updated or deleted, so their ids name the merge (all of them: which batches
    count as served changes with the champion, so a set of the same size and newest id may be another
    one); the reference (its creation time) tells a store emptied and filled again apart."""
    return (reference, model_id, start, tuple(ids))


def _checked(
    store: Store,
    model: Model,
    mapping: ColumnMapping,
    reference: ReferenceKey,
    current: DatasetProfile,
    served_ids: list[int],
    outputs: pd.DataFrame,
) -> tuple[list[Finding], dict[str, Any]]:
    """Every check of a window against the reference (its profile and estimators, the whole data's and each
    segment's, prepared once for every window, :mod:`mlwarden.server.prepared`): its findings and the
    window's summary. ``current`` is the merge of the partial profiles ``served_ids`` (ascending), and
    ``outputs`` the window's predictions with their labels so far.

    The drift — the whole data's and each segment's, univariate tests and domain classifier — depends on
    the two profiles and the mapping alone, so it is kept in :data:`drift_results` and reused when the
    window is evaluated again with the same partial profiles (labels arrived): keyed by the reference
    (a new one is checked anew), the model, the ids of the served partial profiles (never updated, each of
    one window: they name the window and its data, whichever versions are served; a new batch adds one)
    and the mapping checked, which sets the drift config. Realized performance, the estimate (on the
    outputs' rows), the id checks and every other check run again."""
    from mlwarden.comparison import decide_drift, evaluate
    from mlwarden.quality import check_ids

    ref_profile = reference_profile(store, reference)
    checked, unsplit = _available_segments(mapping, ref_profile, current)
    checked = window_mapping(checked, current)
    # one OpenMP thread for the model fits (domain classifier, loss model): the server ingests on the
    # other threads, and OpenMP's spin-waiting under contention stalls a fit a hundredfold
    with single_threaded():
        ref = prepared_fit(store, reference, ref_profile, mapping, checked)
        decided = None
        if ref_profile.rows and current.rows:  # evaluate reports an empty side itself
            key = (reference, model.id, tuple(served_ids), repr(checked))
            decided = drift_results.get(key, lambda: decide_drift(ref_profile, current, mapping=checked))
        report = evaluate(
            ref_profile,
            current,
            mapping=checked,
            ref_rows=ref.rows,
            cur_rows=outputs,
            slo=model.slos,
            fit=ref.fit,
            segment_slo=model.segment_slos,
            segment_fits=ref.segments,
            decided=decided,
        )
    findings = [*report.findings, *check_ids(outputs[mapping.id], column=mapping.id), *unsplit]
    summary = {
        "rows": current.rows,
        "evaluated": True,
        "drift": {c.column: c.score for c in report.drift.columns if c.score is not None},
        # each score's threshold on its method's scale: the dashboard's heatmap colours score / threshold
        "drift_thresholds": {c.column: c.threshold for c in report.drift.columns if c.score is not None},
        "drifted_columns": report.drift.drifted_columns,
        "performance": report.performance,
        "labelled": int(outputs[mapping.target].notna().sum()),
    }
    if report.segments:
        summary["segments"] = {s.segment: segment_summary(s) for s in report.segments}
    return findings, summary


def segment_summary(result: SegmentResult) -> dict[str, Any]:
    """A segment's part of a window's summary: rows, drift scores, drifted columns, performance."""
    drift = result.drift
    return {
        "rows": result.rows["current"],
        "reference_rows": result.rows["reference"],
        "drift": {} if drift is None else {c.column: c.score for c in drift.columns if c.score is not None},
        "drifted_columns": [] if drift is None else drift.drifted_columns,
        "performance": result.performance,
    }


def _available_segments(
    mapping: ColumnMapping, reference: DatasetProfile, current: DatasetProfile
) -> tuple[ColumnMapping, list[Finding]]:
    """The mapping with only the segment splits both profiles hold (a reference uploaded before the model's
    segments were set has none), and an info finding naming the splits left out."""
    if not mapping.segments:
        return mapping, []
    kept, missing = [], []
    for spec in mapping.segments:
        name = split_name(split_columns(spec))
        (kept if name in reference.segments and name in current.segments else missing).append(spec)
    if not missing:
        return mapping, []
    names = ", ".join(split_name(split_columns(spec)) for spec in missing)
    finding = Finding(
        check="segment.unavailable",
        severity=Severity.INFO,
        message=f"segments {names}: not checked — the reference (or this window's batches) was profiled "
        "without them; upload the reference again",
    )
    return mapping.model_copy(update={"segments": kept}), [finding]


def _not_evaluated(model: Model, exc: InputError) -> Finding:
    return Finding(
        check="evaluation.failed",
        severity=Severity.CRITICAL,
        message=f"window not evaluated: {exc} — fix the model's columns (PATCH /v1/models/{model.name})",
    )


def window_mapping(mapping: ColumnMapping, current: DatasetProfile) -> ColumnMapping:
    """The mapping a window is evaluated with: class labels typed as the window's labels are; without the
    prediction or the score columns when the window's batches carried none (a model that sends only
    scores, or only predictions)."""
    update: dict[str, Any] = {}
    if mapping.prediction not in current.columns:
        update["prediction"] = None
    if not all(column in current.columns for column in mapping.score_columns):
        update["scores"] = None  # a missing score column is the contract's finding, not a misread class
    return typed_mapping(mapping.model_copy(update=update) if update else mapping)


def _champion_training_profile(session: Session, model_id: int) -> DatasetProfile | None:
    """The training-data profile of the model's champion version, if one was attached."""
    blob = session.scalar(
        select(ModelVersion.training_profile).where(
            ModelVersion.model_id == model_id,
            ModelVersion.stage == "champion",
            ModelVersion.training_profile.is_not(None),
        )
    )
    return decoded(blob, "the champion's training profile") if blob is not None else None


def _training_skew(
    mapping: ColumnMapping, training: DatasetProfile, current: DatasetProfile
) -> list[Finding]:
    """Distributional skew of the window's features against the champion's training features (thresholds
    half of drift's: serving should compute what training computed, not merely something similar)."""
    from mlwarden.features import SkewConfig, skew_result

    features = mapping.features(training.columns)
    if not features:
        return []
    # alpha 0.01 and no domain classifier: an hourly check must not cry wolf (docs/features.md has the rates);
    # the joint distribution is already watched by drift's domain classifier against the reference
    config = SkewConfig(columns=features, alpha=0.01, multivariate=False)
    return skew_result(training, current, config=config)[1]


def _batch_findings(session: Session, model: Model, window: Window) -> list[Finding]:
    """Findings filed by ingestion under this window (fingerprint, contract): they count for its alerts."""
    rows = session.scalars(
        select(StoredFinding).where(
            StoredFinding.model_id == model.id,
            StoredFinding.window_id.is_(None),
            StoredFinding.window_start == window.start,
        )
    )
    return [
        Finding(check=r.check, severity=r.severity, message=r.message, column=r.column, segment=r.segment)
        for r in rows
    ]


def served_batch(model_id: int) -> ColumnElement[bool]:
    """True for a batch of the served traffic: unversioned, or of a version not registered in a stage other
    than champion (shadow, challenger and retired versions score the same requests beside it)."""
    return or_(BatchRow.model_version.is_(None), BatchRow.model_version.not_in(_unserved_versions(model_id)))


def _unserved_versions(model_id: int) -> Select:
    return select(ModelVersion.version).where(
        ModelVersion.model_id == model_id, ModelVersion.stage != "champion"
    )


def outputs_query(
    model_id: int,
    start: datetime,
    end: datetime,
    *,
    version: str | None = None,
    served_only: bool = True,
    scores: bool = True,
    segments: bool = True,
) -> Select:
    """Predictions timed in ``[start, end)``, each with its latest label (``None`` until one arrives): one
    ``version``'s when given, else the served traffic's (:func:`served_batch`) — or every batch's with
    ``served_only=False`` (a model with no version outside the champion stage: no join needed). Columns:
    prediction id, prediction, score, scores, label, segment values; ``scores=False`` or ``segments=False``
    read ``None`` for the JSON score map or segment values (decoding them costs as much as the query
    itself on SQLite, for a model with one score column or no segments).

    Only these predictions are read (``ix_predictions_time``: model, time), and each looks up its own latest
    label, one backward step in ``ix_labels_latest`` (model, prediction id, label id): the cost is the
    window's rows, never the model's label history (migration 0009)."""
    latest = (
        select(Label.label)
        .where(Label.model_id == model_id, Label.prediction_id == Prediction.prediction_id)
        .order_by(Label.id.desc())
        .limit(1)
        .correlate(Prediction)
        .scalar_subquery()
    )
    query = select(
        Prediction.prediction_id,
        Prediction.prediction,
        Prediction.score,
        Prediction.scores if scores else null(),
        latest,
        Prediction.segment_values if segments else null(),
    ).where(Prediction.model_id == model_id, Prediction.ts >= start, Prediction.ts < end)
    if version is None and not served_only:
        return query
    whose = served_batch(model_id) if version is None else BatchRow.model_version == version
    return query.join(BatchRow, BatchRow.id == Prediction.batch_pk).where(whose)


def outputs_between(
    session: Session,
    model: Model,
    mapping: ColumnMapping,
    start: datetime,
    end: datetime,
    version: str | None = None,
) -> pd.DataFrame:
    """The predictions of :func:`outputs_query` with their labels as a frame: columns named by the mapping,
    the score columns in its class order."""
    served_only = version is None and session.scalar(select(exists(_unserved_versions(model.id))))
    names = mapping.score_columns
    query = outputs_query(
        model.id,
        start,
        end,
        version=version,
        served_only=served_only,
        scores=len(names) > 1,
        segments=bool(mapping.segments),
    )
    rows = session.execute(query).all()
    fields = ["id", "prediction", "score", "scores", "label", "segment_values"]
    # column by column: a frame built from 5,000 result rows costs twice the query itself (~120 ms)
    values = [list(column) for column in zip(*rows, strict=True)] if rows else [[] for _ in fields]
    frame = pd.DataFrame(dict(zip(fields, values, strict=True)))
    out = pd.DataFrame({mapping.id: frame["id"], mapping.target: frame["label"]})
    out[mapping.prediction] = frame["prediction"]
    if len(names) == 1:
        out[names[0]] = frame["score"].astype(float)
    elif frame["scores"].notna().any():
        stored = pd.DataFrame(frame["scores"].tolist(), index=frame.index)
        out = out.join(stored.reindex(columns=names))  # the mapping's class order, whatever was stored
    if mapping.segments:
        columns = segment_columns(mapping.segments)
        out = out.join(
            split_values(frame["segment_values"], columns).drop(columns=out.columns, errors="ignore")
        )
    return typed_frame(out, mapping)


def _judged(summary: dict[str, Any]) -> Callable[[str], bool]:
    """Which checks a window's evaluation could judge: nothing without a reference; realized performance
    (and its disagreement with the estimate) only with labels."""
    if not summary.get("evaluated"):
        return lambda check: False
    if not summary.get("labelled"):
        return lambda check: check not in ("performance.realized", "performance.estimate_mismatch")
    return lambda check: True


def _store_results(
    store: Store,
    model: Model,
    window: Window,
    findings: list[Finding],
    summary: dict,
    upto: int,
    judged: Callable[[str], bool],
    status: str = "evaluated",
    stored: Callable[[], None] | None = None,
) -> None:
    """Replace the window's findings, move its model's alerts on (their outbox rows in the same
    transaction) and mark it evaluated; then call ``stored`` (the sender's wake-up)."""
    now = datetime.now(UTC)
    with store.session() as session:
        session.execute(delete(StoredFinding).where(StoredFinding.window_id == window.id))
        session.add_all(stored_finding(model.id, f, window=window) for f in findings)
        update_alerts(
            session,
            model,
            findings + _batch_findings(session, model, window),
            window_start=window.start,
            now=now,
            judged=judged,
        )
        session.execute(
            update(Window)
            .where(Window.id == window.id)
            .values(
                status=status,
                evaluated_at=now,
                evaluated_upto=upto,
                claimed_until=None,
                summary=summary,
                evaluations=Window.evaluations + 1,
            )
        )
    if stored is not None:
        stored()


class Scheduler:
    """Evaluates due windows — at start, as soon as the next window closes (its end + grace,
    :func:`next_due`), as soon as an evaluation ends, and at least every ``interval`` seconds (for windows
    new batches opened) — from a loop on a daemon thread (:meth:`start`, in ``serve``) or the calling one
    (:meth:`run`, in ``worker``). Up to ``parallel`` windows are evaluated at once, on their own threads, so
    a window that closes while a slow one is evaluated does not wait for it; one window per model at a
    time, oldest first, so a model's alerts see its windows in order. ``evaluated`` is called once each
    window's alerts are committed (the sender's wake-up). Runs ownership hygiene every
    :data:`HYGIENE_EVERY` seconds."""

    def __init__(
        self,
        store: Store,
        interval: float = 10.0,
        evaluated: Callable[[], None] | None = None,
        parallel: int = EVALUATORS,
    ) -> None:
        self.store, self.interval, self.evaluated, self.parallel = store, interval, evaluated, parallel
        self._stop = False
        self._wake = threading.Event()  # stop, or an evaluation ended
        self._lock = threading.Lock()
        self._running: dict[int, int] = {}  # window id → model id, being evaluated
        self._pool = ThreadPoolExecutor(parallel, thread_name_prefix="mlwarden-evaluator")
        self._thread = threading.Thread(target=self.run, name="mlwarden-scheduler", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """End the loop started by :meth:`start`, waiting up to 30 s for the evaluations under way."""
        self._stop = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=30)

    def run(self) -> None:
        """The scheduler's loop, until :meth:`stop`; waits for the evaluations under way before it returns."""
        last_hygiene = float("-inf")
        try:
            while not self._stop:
                try:
                    wait = self._round()
                except Exception:
                    log.exception("scheduler tick failed")
                    wait = self.interval
                if time.monotonic() - last_hygiene >= HYGIENE_EVERY:
                    last_hygiene = time.monotonic()
                    run_hygiene(self.store)
                self._wake.wait(wait)
                self._wake.clear()
        finally:
            self._pool.shutdown(wait=True)

    def _round(self) -> float:
        """Start evaluating the due windows there is room for; returns the seconds to wait before the next
        round (an evaluation that ends wakes it earlier)."""
        now = datetime.now(UTC)
        with self._lock:
            running = dict(self._running)
        room = self.parallel - len(running)
        if room <= 0:
            return self.interval
        busy_models = set(running.values())
        due = [(m, w) for m, w in due_windows(self.store, now) if w not in running]
        chosen: list[tuple[int, int]] = []
        for model_id, window_id in due:  # oldest first: one window per model, the model's oldest
            if model_id not in busy_models and len(chosen) < room:
                chosen.append((model_id, window_id))
            busy_models.add(model_id)
        if chosen:
            _refresh_statistics(self.store)
        for model_id, window_id in chosen:
            with self._lock:
                self._running[window_id] = model_id
            self._pool.submit(self._evaluate, model_id, window_id)
        if len(due) > len(chosen):  # more are due: the next evaluation to end wakes the loop
            return self.interval
        upcoming = next_due(self.store, now)
        return (
            self.interval
            if upcoming is None
            else min(self.interval, max(0.0, (upcoming - now).total_seconds()))
        )

    def _evaluate(self, model_id: int, window_id: int) -> None:
        done = False
        try:
            done = evaluate_one(self.store, model_id, window_id, self.evaluated)
        finally:
            with self._lock:
                del self._running[window_id]
            if done:  # look again at once: windows may have closed meanwhile (a failure waits for the timer)
                self._wake.set()


def run_hygiene(store: Store) -> None:
    """One ownership hygiene pass (:func:`~mlwarden.alerts.owners.evaluate_hygiene`); a failure is logged."""
    try:
        evaluate_hygiene(store)
    except Exception:
        log.exception("hygiene pass failed")
