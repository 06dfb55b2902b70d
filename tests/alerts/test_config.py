"""The alerts: section and applying configuration files: errors name the path, the previous configuration
stays in force, versions are kept with ${ENV} references as written."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mlwarden.errors import AccessDenied, InputError, NotFoundError
from mlwarden.registry import Actor, Registry
from mlwarden.registry.configs import apply_config, check_config, config_version, history
from mlwarden.schema.alerting import parse_duration
from mlwarden.schema.config import ModelConfig
from mlwarden.store import Store
from mlwarden.store.schema import AuditEntry, Model

OPERATOR = Actor.operator("ada")
GOOD = """
model: churn
owner: {name: Ada, email: ada@example.com, team: growth}
runbook: https://wiki.example.com/churn
window: 30m
columns: {target: churned, scores: churn_score}
slo: {roc_auc: {min: 0.78}}
alerts:
  receivers:
    owner: {email: ada@example.com}
    team-slack: {slack: {webhook: "${SLACK_CHURN_WEBHOOK}"}}
    mail:
      email: {to: [a@example.com, b@example.com], smtp: {host: smtp.example.com, port: 587, starttls: true}}
    oncall: {pagerduty: {routing_key: "${PD_KEY}"}}
    am: {alertmanager: {url: "http://127.0.0.1:9093"}}
  route:
    receiver: owner
    group_wait: 1m30s
    routes: [{match_re: {check: "drift|skew.*"}, receivers: [team-slack], continue: true}]
  rules: [{match: {check: drift}, for: 2, keep_firing_for: 1}]
  escalate: [{after: 30m, receiver: oncall}]
"""


def test_the_section_is_parsed_with_durations_regexes_and_receiver_kinds() -> None:
    alerts = ModelConfig.from_text(GOOD).alerts
    assert {n: r.kind for n, r in alerts.receivers.items()} == {
        "owner": "email",
        "team-slack": "slack",
        "mail": "email",
        "oncall": "pagerduty",
        "am": "alertmanager",
    }
    assert alerts.receivers["owner"].email.to == ["ada@example.com"]
    assert alerts.receivers["mail"].email.smtp.port == 587
    assert alerts.receivers["oncall"].pagerduty.url == "https://events.pagerduty.com/v2/enqueue"
    assert alerts.route.group_wait == 90.0 and alerts.escalate[0].after == 1800.0
    child = alerts.route.routes[0]
    assert child.continue_ and child.match_re["check"].fullmatch("skew.record")
    assert not child.match_re["check"].fullmatch("quality.drift")  # anchored, as in Alertmanager
    assert (alerts.rules[0].for_, alerts.rules[0].keep_firing_for) == (2, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("ada@example.com}\n    team", "ada@example.com, cc: x}\n    team"),
            "alerts.receivers.owner.cc: unknown field",
        ),
        (("1m30s", "90 seconds"), "alerts.route.group_wait: expected a duration such as 30s, 5m, 4h or 7d"),
        (("receivers: [team-slack]", "receivers: [slack]"), "alerts.route: unknown receiver 'slack'"),
        (
            ('"drift|skew.*"', '"drift|(skew"'),
            "alerts.route.routes.0.match_re.check: regex 'drift|(skew' does not compile",
        ),
        (
            ('"${SLACK_CHURN_WEBHOOK}"', "hooks.slack.com/x"),
            "alerts.receivers.team-slack.slack.webhook: not a URL",
        ),
        (("receiver: oncall", "receiver: pager"), "alerts.escalate.0.receiver: unknown receiver 'pager'"),
        (("for: 2", "for: 0"), "alerts.rules.0.for: Input should be greater than or equal to 1"),
        (("window: 30m", "window: 1 hour"), "window: expected a duration"),
        # config check said valid; apply then failed on the server (body.name: String should match ...)
        (
            ("model: churn", "model: churn/v2"),
            "model: expected a model name of 1 to 200 characters without '/'",
        ),
        (("model: churn", "model: '..'"), "model: expected a model name of 1 to 200 characters without '/'"),
        (("1m30s", "9999999999d"), "alerts.route.group_wait: expected a duration of at most 36500d"),
        (("1m30s", ".inf"), "alerts.route.group_wait: expected a duration of at most 36500d, got inf"),
        (("roc_auc: {min", "roc_auc: {max"), "slo.roc_auc.max: roc_auc is higher-is-better"),
        # a key given twice: PyYAML would keep the second silently (the first slo: or receiver lost)
        (("window: 30m\n", "window: 30m\nslo: {accuracy: {min: 0.5}}\n"), "slo: given twice (lines 6 and 8)"),
        (
            (
                "    owner: {email: ada@example.com}\n",
                "    owner: {email: ada@example.com}\n    owner: {slack: x}\n",
            ),
            "alerts.receivers.owner: given twice (lines 10 and 11)",
        ),
        (
            ("{match: {check: drift}, for: 2", "{match: {check: drift}, for: 2, for: 3"),
            "alerts.rules.0.for: given twice (line 20)",
        ),
    ],
)
def test_bad_configs_name_the_path(change: tuple[str, str], message: str) -> None:
    assert change[0] in GOOD
    with pytest.raises(InputError) as error:
        check_config(GOOD.replace(*change))
    assert str(error.value).startswith(message)


def test_window_errors_name_the_files_field_and_the_file() -> None:
    for window in ("0s", "45s", "32d", "90.5s"):
        with pytest.raises(InputError) as error:
            check_config(GOOD.replace("window: 30m", f"window: {window}"), source="churn.yaml")
        assert str(error.value) == (
            f"churn.yaml: window: expected whole seconds from 60 (1m) to 2678400 (31d), got '{window}'"
        )
    with pytest.raises(InputError) as error:
        check_config(GOOD.replace("window: 30m", "window: 1 hour"), source="churn.yaml")
    assert str(error.value).startswith("churn.yaml: window: expected a duration such as 30s")


def test_parse_duration() -> None:
    assert [parse_duration(t) for t in ("30s", "5m", "4h", "7d", "1h30m", "250ms", 12)] == [
        30.0,
        300.0,
        14_400.0,
        604_800.0,
        5400.0,
        0.25,
        12.0,
    ]
    assert parse_duration("36500d") == 36_500 * 86_400.0
    # past a century, now + it overflows a datetime: the alert pipeline failed on a group_wait of 9999999999d
    for bad in (
        "",
        "5",
        "m5",
        "5 m",
        "-5s",
        True,
        "36501d",
        "9999999999d",
        1e300,
        float("inf"),
        float("nan"),
    ):
        with pytest.raises(ValueError):
            parse_duration(bad)


def test_apply_versions_updates_the_model_and_keeps_the_previous_config_on_error(store: Store) -> None:
    registry = Registry(store)
    first = apply_config(registry, OPERATOR, "churn", GOOD, create=True)
    assert first == {"model": "churn", "version": 1, "changed": True}
    assert apply_config(registry, OPERATOR, "churn", GOOD)["changed"] is False
    edited = GOOD.replace("for: 2", "for: 3")
    assert apply_config(registry, OPERATOR, "churn", edited)["version"] == 2
    with pytest.raises(InputError, match=r"alerts\.route: unknown receiver"):
        apply_config(registry, OPERATOR, "churn", edited.replace("receiver: owner", "receiver: nobody"))
    with pytest.raises(InputError, match="model: the file configures 'churn', not 'fraud'"):
        apply_config(registry, OPERATOR, "fraud", GOOD)
    with store.session() as session:
        model = session.scalar(select(Model))
        assert config_version(session, model).text == edited  # the bad file changed nothing
        assert "${SLACK_CHURN_WEBHOOK}" in config_version(session, model, 1).text  # the reference, as written
        assert [h["version"] for h in history(session, model)] == [1, 2]
        assert (model.owner_name, model.owner_email, model.runbook_url) == (
            "Ada",
            "ada@example.com",
            "https://wiki.example.com/churn",
        )
        assert (model.window_seconds, model.slos, model.columns["target"]) == (
            1800,
            {"roc_auc": 0.78},
            "churned",
        )
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [
        "model.create",
        "model.update",
        "model.config.apply",
        "model.update",
        "model.config.apply",
    ]


def test_applying_needs_admin_and_a_new_model_needs_a_team(store: Store) -> None:
    registry = Registry(store)
    with pytest.raises(NotFoundError):  # registered first unless asked to create it
        apply_config(registry, OPERATOR, "churn", GOOD)
    apply_config(registry, OPERATOR, "churn", GOOD, create=True)
    with store.session() as session:
        team_id = session.scalar(select(Model.team_id))
    with pytest.raises(AccessDenied):
        apply_config(registry, Actor("reader", team_id, frozenset({"read"})), "churn", GOOD)
    teamless = GOOD.replace("model: churn\n", "").replace(", team: growth", "")
    with pytest.raises(InputError, match=r"owner\.team: required to register a new model"):
        apply_config(registry, OPERATOR, "fraud", teamless, create=True)
    growth_admin = Actor("growth-admin", team_id, frozenset({"admin"}))
    assert (
        apply_config(registry, growth_admin, "fraud", teamless, create=True)["version"] == 1
    )  # the token's team


def test_a_configuration_stored_before_it_was_refused_is_still_read(store: Store) -> None:
    """Files applied before repeated keys and durations past a century were refused keep working (the last
    key wins; the duration is the bound): reading them serves alert routing, the sender and alerts list."""
    from mlwarden.alerts.context import model_context
    from mlwarden.server.retrain_plan import stored_section
    from mlwarden.store.schema import ModelConfigVersion

    registry = Registry(store)
    apply_config(registry, OPERATOR, "churn", GOOD, create=True)
    older = GOOD.replace("group_wait: 1m30s", "group_wait: 9999999999d") + (
        "retrain: {triggers: {min_new_labels: 10}}\n"
        "retrain: {triggers: {min_new_labels: 20, cooldown: .inf}}\n"
    )
    with pytest.raises(InputError, match="retrain: given twice"):
        apply_config(registry, OPERATOR, "churn", older)
    once = older.replace("retrain: {triggers: {min_new_labels: 10}}\n", "")
    with pytest.raises(InputError, match="group_wait: expected a duration of at most 36500d"):
        apply_config(registry, OPERATOR, "churn", once)
    with store.session() as session:
        model = session.scalar(select(Model))
        session.add(ModelConfigVersion(model_id=model.id, version=2, text=older, actor="an older release"))
    with store.session() as session:
        model = session.scalar(select(Model))
        assert list(model_context(session, model).section.receivers) == [
            "owner",
            "team-slack",
            "mail",
            "oncall",
            "am",
        ]
        assert model_context(session, model).section.route.group_wait == 36_500 * 86_400
        assert ModelConfig.from_text("model: '..'", stored=True).model == ".."  # registered before refused
        triggers = stored_section(session, model).triggers
        assert (triggers.min_new_labels, triggers.cooldown.days) == (20, 36_500)
