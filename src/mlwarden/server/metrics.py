"""Prometheus metrics of the service: ingestion counters and latencies in-process, drift scores, open alerts
and failed windows read from the store at scrape time (so every replica and worker reports the same truth).

Every series about a model carries its ``team`` label, and :class:`TeamView` shows a team only the series
labelled with it: a scrape with a team's token never sees another team's model, column or alert. Series
about the whole service (request latencies) carry no team and are shown to the all-teams scrape only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from starlette.types import ASGIApp, Receive, Scope, Send

from mlwarden.store import Store
from mlwarden.store.schema import Alert, Model, Team, Window

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
    windows whose evaluation failed (corrupt data, a setting the data contradicts)."""

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
        yield drift
        yield alerts
        yield age
        yield failed


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
