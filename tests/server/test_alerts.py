"""Alert bookkeeping after a window: one alert per check and subject, the worst severity wins, unjudged checks
stay firing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from mlwarden.alerts.state import update_alerts
from mlwarden.findings import Finding, Severity
from mlwarden.registry import Actor, ModelSpec, Registry
from mlwarden.server.windows import _judged
from mlwarden.store import Store
from mlwarden.store.schema import Alert, Model


def perf(metric: str, severity: Severity, check: str = "performance.estimated") -> Finding:
    return Finding(
        check=check, severity=severity, message=f"{metric} {severity}", evidence={"metric": metric}
    )


def alerts(store: Store) -> dict[tuple[str, str], tuple[str, str]]:
    with store.session() as session:
        rows = session.scalars(select(Alert)).all()
        return {(a.check, a.column): (a.severity, a.status) for a in rows}


def test_worst_severity_per_subject_and_unjudged_checks_stay_open(store: Store) -> None:
    Registry(store).create_model(Actor.operator(), ModelSpec(name="m", team="t"))
    with store.session() as session:
        model = session.scalar(select(Model))
    now = datetime.now(UTC)
    first = [
        perf("roc_auc", Severity.CRITICAL),
        perf("accuracy", Severity.WARNING),
        perf("roc_auc", Severity.WARNING),  # a milder finding on the same subject must not win
        perf("roc_auc", Severity.CRITICAL, check="performance.realized"),
    ]
    with store.session() as session:
        update_alerts(
            session,
            model,
            first,
            window_start=None,
            now=now,
            judged=_judged({"evaluated": True, "labelled": 500}),
        )
    assert alerts(store) == {
        ("performance.estimated", "roc_auc"): ("critical", "firing"),
        ("performance.estimated", "accuracy"): ("warning", "firing"),
        ("performance.realized", "roc_auc"): ("critical", "firing"),
    }
    # the next window has no labels: realized performance cannot be judged, the estimate has recovered
    with store.session() as session:
        update_alerts(
            session, model, [], window_start=None, now=now, judged=_judged({"evaluated": True, "labelled": 0})
        )
    assert alerts(store) == {
        ("performance.estimated", "roc_auc"): ("critical", "resolved"),
        ("performance.estimated", "accuracy"): ("warning", "resolved"),
        ("performance.realized", "roc_auc"): ("critical", "firing"),
    }
    # a window without a reference judges nothing
    with store.session() as session:
        update_alerts(session, model, [], window_start=None, now=now, judged=_judged({"evaluated": False}))
    assert alerts(store)[("performance.realized", "roc_auc")] == ("critical", "firing")
