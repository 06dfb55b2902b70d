"""Prometheus metrics of the service: ingestion counters and latencies in-process, drift scores, open alerts,
failed windows, performance (estimated, realized, the SLO), rows per window and freshness (seconds since the
last batch, label and evaluation) read from the store at scrape time (so every replica and worker reports the
same truth). ``deploy/prometheus/rules.yml`` alerts on them.

Every series about a model carries its ``team`` label, and :class:`TeamView` shows a team only the series
labelled with it: a scrape with a team's token never sees another team's model, column or alert. Series
about the whole service (request latencies) carry no team and are shown to the all-teams scrape only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Receive, Scope, Send

from mlwarden.store import Store
from mlwarden.store.schema import Alert, Batch, Model, Team, Window

RECENT_WINDOWS = 48  # realized performance: the newest of a model's latest windows that had labels
LOWER_IS_BETTER = ("mae", "rmse", "mape")  # an SLO on these is a maximum, on the others a minimum
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class ServiceMetrics:
    """One registry per app, so tests can run several apps in one process."""

    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        self.batches = Counter(
            "mlwarden_ingested_batches",
            "Batches received",
            ["team", "model", "kind", "outcome"],
            registry=self.registry,
        )
        self.rows = Counter(
            "mlwarden_ingested_rows", "Rows stored", ["team", "model", "kind"], registry=self.registry
        )
        self.latency = Histogram(
            "mlwarden_request_duration_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(StoreCollector(store))


class TeamView(Collector):
    """The series of ``registry`` labelled ``team=<team>`` (every series when ``team`` is None: the
    all-teams scrape). A series without a team label is about the whole service and never shown to a team."""

    def __init__(self, registry: Collector, team: str | None) -> None:
        self.registry, self.team = registry, team

    def collect(self) -> Iterator[Metric]:
        for family in self.registry.collect():
            if self.team is None:
                yield family
                continue
            samples = [s for s in family.samples if s.labels.get("team") == self.team]
            if samples:
                shown = Metric(family.name, family.documentation, family.type, family.unit)
                shown.samples = samples
                yield shown


class StoreCollector(Collector):
    """Gauges from the store: latest window's drift score per model and column, open alerts per severity,
    windows whose evaluation failed (corrupt data, a setting the data contradicts), and the
    :class:`HealthCollector`'s performance, volume and freshness."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        drift = GaugeMetricFamily(
            "mlwarden_drift_score",
            "Drift score of the latest evaluated window",
            labels=["team", "model", "column"],
        )
        alerts = GaugeMetricFamily(
            "mlwarden_open_alerts", "Open alerts", labels=["team", "model", "severity"]
        )
        age = GaugeMetricFamily(
            "mlwarden_last_evaluation_timestamp_seconds",
            "When a model's latest window was evaluated",
            labels=["team", "model"],
        )
        failed = GaugeMetricFamily(
            "mlwarden_failed_windows",
            "Windows whose evaluation failed (a critical finding and an alert say why)",
            labels=["team", "model"],
        )
        with self.store.session() as session:
            latest = (
                select(Window.model_id, func.max(Window.start).label("start"))
                .where(Window.status == "evaluated")
                .group_by(Window.model_id)
                .subquery()
            )
            rows = session.execute(
                select(Team.name, Model.name, Window.summary, Window.evaluated_at)
                .select_from(Window)
                .join(latest, (latest.c.model_id == Window.model_id) & (latest.c.start == Window.start))
                .join(Model, Model.id == Window.model_id)
                .join(Team, Team.id == Model.team_id)
            ).all()
            for team, name, summary, evaluated_at in rows:
                for column, score in (summary.get("drift") or {}).items():
                    drift.add_metric([team, name, column], float(score))
                if evaluated_at is not None:
                    age.add_metric([team, name], evaluated_at.timestamp())
            counts = session.execute(
                select(Team.name, Model.name, Alert.severity, func.count())
                .select_from(Alert)
                .join(Model, Model.id == Alert.model_id)
                .join(Team, Team.id == Model.team_id)
                .where(Alert.status == "firing")
                .group_by(Team.name, Model.name, Alert.severity)
            ).all()
            for team, name, severity, count in counts:
                alerts.add_metric([team, name, severity], float(count))
            failures = session.execute(
                select(Team.name, Model.name, func.count())
                .select_from(Window)
                .join(Model, Model.id == Window.model_id)
                .join(Team, Team.id == Model.team_id)
                .where(Window.status == "failed")
                .group_by(Team.name, Model.name)
            ).all()
            for team, name, count in failures:
                failed.add_metric([team, name], float(count))
            health = list(_health(session))
        yield drift
        yield alerts
        yield age
        yield failed
        yield from health


def _health(session) -> Iterator[GaugeMetricFamily]:
    """Performance per model and metric (the latest window's estimate, the newest realized value among the
    latest :data:`RECENT_WINDOWS` windows, the SLO), rows in the latest evaluated window, and seconds since
    the last prediction batch, label batch and evaluation."""
    labels = ["team", "model", "metric"]
    estimated = GaugeMetricFamily(
        "mlwarden_estimated_performance",
        "Estimated performance of the latest evaluated window",
        labels=labels,
    )
    band = GaugeMetricFamily(
        "mlwarden_estimated_performance_bound",
        "Confidence band of the latest estimate (bound: lower or upper)",
        labels=[*labels, "bound"],
    )
    realized = GaugeMetricFamily(
        "mlwarden_realized_performance",
        "Realized performance (labels joined) of the newest recent window that had labels",
        labels=labels,
    )
    slo = GaugeMetricFamily(
        "mlwarden_performance_slo",
        "The model's SLO per metric (direction: min, or max for error metrics)",
        labels=[*labels, "direction"],
    )
    rows = GaugeMetricFamily(
        "mlwarden_window_rows", "Rows in the latest evaluated window", labels=["team", "model"]
    )
    since = {
        kind: GaugeMetricFamily(
            f"mlwarden_seconds_since_last_{kind}",
            f"Seconds since the model's last {kind}",
            labels=["team", "model"],
        )
        for kind in ("batch", "label", "evaluation")
    }
    now = datetime.now(UTC)
    models = {
        model_id: (team, name, slos or {})
        for model_id, team, name, slos in session.execute(
            select(Model.id, Team.name, Model.name, Model.slos).join(Team, Team.id == Model.team_id)
        )
    }
    for team, name, slos in models.values():
        for metric, bound in slos.items():
            direction = "max" if metric in LOWER_IS_BETTER else "min"
            slo.add_metric([team, name, metric, direction], float(bound))
    recent = (
        select(
            Window.model_id,
            Window.summary,
            func.row_number().over(partition_by=Window.model_id, order_by=Window.start.desc()).label("n"),
        )
        .where(Window.status == "evaluated")
        .subquery()
    )
    seen_estimate, seen_realized = set(), set()
    for model_id, summary, n in session.execute(
        select(recent.c.model_id, recent.c.summary, recent.c.n)
        .where(recent.c.n <= RECENT_WINDOWS)
        .order_by(recent.c.model_id, recent.c.n)
    ):
        if model_id not in models:
            continue
        team, name, _ = models[model_id]
        summary = summary or {}
        performance = summary.get("performance") or {}
        if n == 1 and summary.get("rows") is not None:
            rows.add_metric([team, name], float(summary["rows"]))
        if model_id not in seen_estimate and performance.get("estimated"):
            seen_estimate.add(model_id)
            for metric, value in _metrics(performance["estimated"]):
                estimated.add_metric([team, name, metric], value)
                for bound in ("lower", "upper"):
                    edge = performance["estimated"].get(f"{metric}_{bound}")
                    if edge is not None:
                        band.add_metric([team, name, metric, bound], float(edge))
        if model_id not in seen_realized and summary.get("labelled") and performance.get("realized"):
            seen_realized.add(model_id)
            for metric, value in _metrics(performance["realized"]):
                realized.add_metric([team, name, metric], value)
    last = {
        (model_id, kind): at
        for model_id, kind, at in session.execute(
            select(Batch.model_id, Batch.kind, func.max(Batch.received_at)).group_by(
                Batch.model_id, Batch.kind
            )
        )
    }
    evaluated = dict(
        session.execute(
            select(Window.model_id, func.max(Window.evaluated_at)).group_by(Window.model_id)
        ).all()
    )
    for model_id, (team, name, _) in models.items():
        for kind, at in (
            ("batch", last.get((model_id, "predictions"))),
            ("label", last.get((model_id, "labels"))),
            ("evaluation", evaluated.get(model_id)),
        ):
            if at is not None:
                since[kind].add_metric([team, name], max(0.0, (now - at).total_seconds()))
    yield from (estimated, band, realized, slo, rows, *since.values())


def _metrics(side: dict) -> Iterator[tuple[str, float]]:
    """The metric values of one side of a window's performance: no row counts, no band edges, no nulls."""
    for metric, value in side.items():
        if value is None or metric == "n" or metric.startswith("n_") or metric.endswith(("_lower", "_upper")):
            continue
        yield metric, float(value)


class LatencyMiddleware:
    """Pure ASGI middleware: one latency observation and one JSON access-log line per request."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics, logger: logging.Logger) -> None:
        self.app, self.metrics, self.log = app, metrics, logger

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            elapsed = time.perf_counter() - start
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            self.metrics.latency.labels(scope["method"], path, str(status["code"])).observe(elapsed)
            self.log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": path,
                    "status": status["code"],
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
