"""Grouping timers (group_wait, group_interval, repeat_interval), routing, inhibition and silences, with
the clock given: each step says when it happens."""

from __future__ import annotations

from datetime import timedelta

from alert_helpers import (
    OPERATOR,
    T0,
    configure,
    drift,
    firing_and_resolved,
    flush,
    notifications,
    window,
)
from sqlalchemy import select

from mlwarden.alerts import silences
from mlwarden.alerts.routing import route
from mlwarden.findings import Finding, Severity
from mlwarden.registry import Actor, ModelSpec, Registry
from mlwarden.schema.config import ModelConfig
from mlwarden.store import Store
from mlwarden.store.schema import Model, OutboxEntry

HOOK = """
alerts:
  receivers:
    hub: {webhook: {url: "http://127.0.0.1:9/hook"}}
  route: {receiver: hub, group_by: [model], group_wait: 30s, group_interval: 5m, repeat_interval: 1h}
"""


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def test_group_wait_interval_and_repeat(store: Store) -> None:
    model = configure(store, HOOK)
    window(store, model, [drift("x")], 0, now=at(0))
    assert notifications(store) == []  # group_wait: more alerts may join
    assert flush(store, at(29)) == 0
    assert flush(store, at(30)) == 1
    window(store, model, [drift("x"), drift("y")], 1, now=at(60))
    assert flush(store, at(329)) == 0  # a change waits for the group_interval after the last flush
    assert flush(store, at(330)) == 1
    window(store, model, [drift("x")], 2, now=at(360))
    assert flush(store, at(630)) == 1
    assert flush(store, at(930)) == 0  # nothing changed, repeat_interval not reached
    assert flush(store, at(330 + 3600)) == 0  # 1h after the last notification (at 630) is 4230
    assert flush(store, at(4230)) == 1
    window(store, model, [], 3, now=at(4300))
    assert flush(store, at(4530)) == 1
    assert flush(store, at(10_000)) == 0  # everything resolved: the group is idle
    sent = notifications(store)
    assert [firing_and_resolved(n) for n in sent] == [
        (["x"], []),
        (["x", "y"], []),
        (["x"], ["y"]),
        (["x"], []),  # the repeat
        ([], ["x"]),
    ]
    assert [n["status"] for n in sent] == ["firing", "firing", "firing", "firing", "resolved"]
    assert len({n["key"] for n in sent}) == 5  # one idempotency key per notification
    assert sent[0]["group_labels"] == {"model": "churn"} and sent[0]["receiver"] == "hub"


def test_group_by_splits_notifications(store: Store) -> None:
    model = configure(store, HOOK.replace("group_by: [model]", "group_by: [column]").replace("30s", "0s"))
    window(store, model, [drift("x"), drift("y")], 0, now=at(0))
    assert sorted(n["group_labels"]["column"] for n in notifications(store)) == ["x", "y"]


def test_routing_tree_continue_and_inheritance() -> None:
    config = ModelConfig.from_dict(
        {
            "alerts": {
                "receivers": {k: {"webhook": {"url": f"http://h/{k}"}} for k in ("owner", "pager", "slack")},
                "route": {
                    "receiver": "owner",
                    "group_wait": "10s",
                    "routes": [
                        {"match": {"severity": "critical"}, "receiver": "pager", "continue": True},
                        {"match_re": {"check": "drift|skew"}, "receiver": "slack", "group_by": ["column"]},
                    ],
                },
            }
        }
    )
    root = config.alerts.route
    critical_drift = route(root, {"severity": "critical", "check": "drift", "model": "m"})
    assert [(n.path, n.receivers, n.group_by, n.group_wait) for n in critical_drift] == [
        ("0", ("pager",), ("model", "check"), 10.0),
        ("1", ("slack",), ("column",), 10.0),
    ]
    assert [n.receivers for n in route(root, {"severity": "warning", "check": "skew.record"})] == [("owner",)]


def test_inhibition_mutes_targets_with_equal_labels(store: Store) -> None:
    config = (
        HOOK.replace("30s", "0s")
        + "  inhibit: [{source: {severity: critical}, target: {severity: warning}, equal: [column]}]\n"
    )
    model = configure(store, config)
    missing = Finding(
        check="quality.missing_rate", severity=Severity.WARNING, column="x", message="x missing"
    )
    other = Finding(check="quality.missing_rate", severity=Severity.WARNING, column="y", message="y missing")
    window(store, model, [drift("x", Severity.CRITICAL), missing, other], 0, now=at(0))
    [sent] = notifications(store)
    assert sorted((a["labels"]["check"], a["labels"]["column"]) for a in sent["alerts"]) == [
        ("drift", "x"),
        ("quality.missing_rate", "y"),
    ]


def test_a_silence_stops_a_notification_until_it_ends(store: Store) -> None:
    model = configure(store, HOOK.replace("30s", "0s"))
    with store.session() as session:
        silence = silences.create(
            session,
            OPERATOR,
            [{"name": "column", "value": "x|z", "regex": True}],
            now=at(0),
            duration="1h",
            comment="known: upstream backfill",
        )
        silence_id = silence.id
    window(store, model, [drift("x")], 0, now=at(1))
    assert notifications(store) == []  # the only alert is silenced: nothing is sent
    window(store, model, [drift("x"), drift("y")], 1, now=at(400))
    assert [firing_and_resolved(n) for n in notifications(store)] == [(["y"], [])]
    with store.session() as session:
        silences.expire(session, OPERATOR, silence_id, at(500))
    assert flush(store, at(700)) == 1  # the next group_interval flush sends what the silence held back
    assert firing_and_resolved(notifications(store)[-1]) == (["x", "y"], [])


def test_a_model_without_alerts_config_routes_to_its_owners_email(store: Store) -> None:
    Registry(store).create_model(
        OPERATOR, ModelSpec(name="fraud", team="risk", owner_name="Ada", owner_email="ada@example.com")
    )
    Registry(store).create_model(OPERATOR, ModelSpec(name="nobody", team="risk"))
    with store.session() as session:
        fraud, nobody = (session.scalar(select(Model).where(Model.name == n)) for n in ("fraud", "nobody"))
    window(store, fraud, [drift("x")], 0, now=at(0))
    window(store, nobody, [drift("x")], 0, now=at(0))
    assert flush(store, at(30)) == 1  # the default group_wait; the owner-less model's alert is stored only
    with store.session() as session:
        [entry] = session.scalars(select(OutboxEntry)).all()
        assert entry.receiver == "owner"
        assert entry.receiver_spec["email"]["to"] == ["ada@example.com"]
        assert entry.payload["owner"] == "Ada <ada@example.com>"


def test_silence_matchers_are_validated(store: Store) -> None:
    import pytest

    from mlwarden.errors import InputError

    with store.session() as session:
        for matchers, message in [
            ([], "matchers: expected a non-empty list"),
            ([{"name": "check", "value": "("}], None),
            ([{"name": "check", "value": "(", "regex": True}], "matchers.0.value: regex"),
            ([{"name": "check", "value": "x", "op": "="}], "matchers.0.op: unknown field"),
        ]:
            if message is None:
                silences.create(session, OPERATOR, matchers, now=at(0), duration="1h")
                continue
            with pytest.raises(InputError, match=message):
                silences.create(session, OPERATOR, matchers, now=at(0), duration="1h")
        with pytest.raises(InputError, match="duration: expected a duration"):
            silences.create(session, OPERATOR, [{"name": "check", "value": "x"}], now=at(0), duration="soon")
        with pytest.raises(InputError, match="exactly one"):
            silences.create(session, OPERATOR, [{"name": "check", "value": "x"}], now=at(0))
        reader = Actor("reader", None, frozenset({"read"}))
        from mlwarden.errors import AccessDenied

        with pytest.raises(AccessDenied):
            silences.create(session, reader, [{"name": "check", "value": "x"}], now=at(0), duration="1h")
