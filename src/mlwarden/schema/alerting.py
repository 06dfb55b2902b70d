"""The ``alerts:`` section of a model configuration file (DESIGN §5, §7), validated as a whole.

Shapes follow Prometheus Alertmanager's configuration: named ``receivers`` (each exactly one of ``webhook``,
``slack``, ``email``, ``pagerduty``, ``alertmanager``), a ``route`` tree of matchers, ``rules`` that turn
findings into alerts, ``inhibit`` rules and an ``escalate`` ladder. Durations are written ``30s``, ``5m``,
``4h``, ``7d`` (or combined, ``1h30m``) and held in seconds; regexes are compiled (fully anchored, as in
Alertmanager) when the file is validated; a route or escalation naming a receiver that does not exist is an
error. Secret-bearing fields may hold ``${ENV}`` references (:mod:`mlwarden.schema.secrets`): they are kept
as written and resolved by the sender at send time.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mlwarden.schema.secrets import is_reference

RECEIVER_KINDS = ("webhook", "slack", "email", "pagerduty", "alertmanager")
# the labels an alert carries (model+check+column+segment make its fingerprint)
ALERT_LABELS = ("alertname", "model", "check", "severity", "column", "segment", "team")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$")
MAX_DURATION_DAYS = 36_500  # a century: any later time is still a datetime (year < 10000)
HISTORY_WINDOWS = 48  # closed windows of rows-per-window history the volume band may learn from


def parse_duration(value: Any) -> float:
    """``"30s"`` → 30.0, ``"5m"`` → 300.0, ``"1h30m"`` → 5400.0 (seconds); a bare number is seconds.

    Raises ``ValueError`` (``expected a duration such as 30s, 5m, 4h or 7d``) on anything else, and on a
    duration longer than ``MAX_DURATION_DAYS`` (now plus it would overflow a datetime: a 500, or a crashed
    alert pipeline)."""
    seconds = _seconds(value)
    if seconds > MAX_DURATION_DAYS * 86_400:
        raise ValueError(f"expected a duration of at most {MAX_DURATION_DAYS}d, got {value!r}")
    return seconds


def _seconds(value: Any) -> float:
    """The seconds of a duration, unbounded above; ``ValueError`` when it is not one (or negative, or NaN)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not value >= 0:  # NaN too
            raise ValueError(f"expected a duration of zero or more, got {value!r}")
        return float(value)
    text = str(value).strip() if isinstance(value, str) else ""
    parts = _DURATION_PART.findall(text)
    if not text or "".join(n + u for n, u in parts) != text:
        raise ValueError(f"expected a duration such as 30s, 5m, 4h or 7d, got {value!r}")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def config_duration(value: Any, info: ValidationInfo) -> float:
    """A duration of a configuration file, as :func:`parse_duration`; but in a configuration stored before
    durations were bounded (validation context ``{"stored": True}``), a longer one is read as the bound, so
    that reading it (alert routing, the sender, ``alerts list``) fails nothing."""
    if (info.context or {}).get("stored"):
        return min(_seconds(value), MAX_DURATION_DAYS * 86_400.0)
    return parse_duration(value)


def _url(value: Any) -> Any:
    """A ``http(s)://`` URL or a ``${ENV}`` reference (resolved when used)."""
    if isinstance(value, str) and (is_reference(value) or _URL.match(value)):
        return value
    raise ValueError("not a URL")


def _compile(value: Any) -> re.Pattern[str]:
    if isinstance(value, re.Pattern):
        return value
    if not isinstance(value, str):
        raise ValueError(f"expected a regular expression, got {value!r}")
    try:
        re.compile(value)  # the error's position in the text as written
        return re.compile(f"^(?:{value})$")
    except re.error as exc:
        raise ValueError(f"regex {value!r} does not compile: {exc}") from None


Duration = Annotated[float, BeforeValidator(config_duration)]
Url = Annotated[str, BeforeValidator(_url)]
Regex = Annotated[re.Pattern[str], BeforeValidator(_compile)]
Matchers = dict[str, str]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class WebhookReceiver(_Section):
    """``webhook: {url, secret?}``: Alertmanager webhook v4 JSON, HMAC-SHA256 signed with ``secret``."""

    url: Url
    secret: str | None = None


class SlackReceiver(_Section):
    """``slack: {webhook, channel?}``: a Slack incoming webhook."""

    webhook: Url
    channel: str | None = None


class SmtpSettings(_Section):
    """``smtp: {host, port=25, starttls=false, ssl=false, username?, password?}``."""

    host: str = Field(min_length=1)
    port: int = Field(default=25, ge=1, le=65_535)
    starttls: bool = False
    ssl: bool = False
    username: str | None = None
    password: str | None = None

    @model_validator(mode="after")
    def _one_tls(self) -> SmtpSettings:
        if self.starttls and self.ssl:
            raise ValueError("give starttls or ssl, not both")
        return self


class EmailReceiver(_Section):
    """``email: {to: [..] | str, sender?, smtp?}`` (``email: ada@example.com`` is short for ``{to: ...}``);
    without ``smtp`` the server's default SMTP settings are used."""

    to: list[str] = Field(min_length=1)
    sender: str | None = None
    smtp: SmtpSettings | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str | list):
            value = {"to": value}
        if isinstance(value, dict) and isinstance(value.get("to"), str):
            value = {**value, "to": [value["to"]]}
        return value

    @field_validator("to")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not is_reference(address) and not is_email(address):
                raise ValueError(f"{address!r} is not an email address")
        return value


class PagerDutyReceiver(_Section):
    """``pagerduty: {routing_key, url}``: PagerDuty Events v2 (trigger/resolve with a dedup_key)."""

    routing_key: str = Field(min_length=1)
    url: Url = "https://events.pagerduty.com/v2/enqueue"


class AlertmanagerReceiver(_Section):
    """``alertmanager: {url}``: a Prometheus Alertmanager, through its v2 API."""

    url: Url


ReceiverConfig = WebhookReceiver | SlackReceiver | EmailReceiver | PagerDutyReceiver | AlertmanagerReceiver


class ReceiverSpec(_Section):
    """A named receiver: exactly one of the kinds in :data:`RECEIVER_KINDS`. ``name`` is its key under
    ``receivers:``; ``kind`` and ``config`` say which kind and its settings."""

    name: str = ""
    webhook: WebhookReceiver | None = None
    slack: SlackReceiver | None = None
    email: EmailReceiver | None = None
    pagerduty: PagerDutyReceiver | None = None
    alertmanager: AlertmanagerReceiver | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> ReceiverSpec:
        given = [kind for kind in RECEIVER_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError(f"expected exactly one of {', '.join(RECEIVER_KINDS)}, got {len(given)}")
        return self

    @property
    def kind(self) -> Literal["webhook", "slack", "email", "pagerduty", "alertmanager"]:
        return next(kind for kind in RECEIVER_KINDS if getattr(self, kind) is not None)  # type: ignore[return-value]

    @property
    def config(self) -> ReceiverConfig:
        return getattr(self, self.kind)


class Route(_Section):
    """A node of the routing tree. An alert matches when every ``match`` label equals and every ``match_re``
    regex matches in full; it goes to the deepest matching child (to later siblings too when a matching
    child says ``continue: true``), else to this node's ``receivers``. ``group_by`` and the timers are
    inherited by children that leave them out (root defaults: group by model and check, group_wait 30s,
    group_interval 5m, repeat_interval 4h — Alertmanager's)."""

    match: Matchers = Field(default_factory=dict)
    match_re: dict[str, Regex] = Field(default_factory=dict)
    receivers: list[str] = Field(default_factory=list)
    group_by: list[str] | None = None
    group_wait: Duration | None = None
    group_interval: Duration | None = None
    repeat_interval: Duration | None = None
    continue_: bool = Field(default=False, alias="continue")
    routes: list[Route] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _receiver(cls, value: Any) -> Any:
        """``receiver: x`` is short for ``receivers: [x]`` (both may be given)."""
        if isinstance(value, dict) and "receiver" in value:
            value = dict(value)
            one = value.pop("receiver")
            if not isinstance(one, str):
                raise ValueError(f"receiver: expected a receiver name, got {one!r}")
            value["receivers"] = [one, *[r for r in value.get("receivers") or [] if r != one]]
        return value

    def names(self) -> list[str]:
        """Every receiver named in this subtree."""
        return [*self.receivers, *(name for child in self.routes for name in child.names())]


class Rule(_Section):
    """``rules: [{match, match_re, for, keep_firing_for}]``: findings whose labels match open an alert after
    ``for`` consecutive windows; it resolves after ``keep_firing_for`` windows more without them."""

    match: Matchers = Field(default_factory=dict)
    match_re: dict[str, Regex] = Field(default_factory=dict)
    for_: int = Field(default=1, ge=1, alias="for", description="consecutive windows before firing")
    keep_firing_for: int = Field(default=0, ge=0, description="windows it keeps firing once clear")


class Inhibition(_Section):
    """``inhibit: [{source, target, equal}]``: while an alert matching ``source`` fires, alerts matching
    ``target`` with the same values of the ``equal`` labels are not notified."""

    source: Matchers = Field(default_factory=dict)
    target: Matchers = Field(default_factory=dict)
    equal: list[str] = Field(default_factory=list)


class Escalation(_Section):
    """``escalate: [{after, receiver, match?, match_re?}]``: an alert unacknowledged ``after`` it fired goes
    to ``receiver``; ``match``/``match_re`` (as in rules; default: every alert) select the alerts the step
    is for, e.g. ``match: {severity: critical}`` pages the on-call only for critical alerts."""

    after: Duration
    receiver: str
    match: Matchers = Field(default_factory=dict)
    match_re: dict[str, Regex] = Field(default_factory=dict)


class VolumeBand(_Section):
    """``volume: {windows, min_windows, k, min_relative}``: the band of usual rows per window — median ±
    ``k`` scaled MADs of the last ``windows`` closed windows (none judged before ``min_windows``), at
    least ``min_relative`` of the median wide."""

    windows: int = Field(default=24, ge=2, le=HISTORY_WINDOWS)
    min_windows: int = Field(default=8, ge=2, le=HISTORY_WINDOWS)
    k: float = Field(default=4.0, gt=0)
    min_relative: float = Field(default=0.1, ge=0, le=1)


class Hygiene(_Section):
    """``hygiene:``: when ownership hygiene raises an alert. Durations; ``null`` turns a check off.
    ``no_traffic``: no prediction batch for this long; ``labels_overdue``: no labels for this long (once a
    model has had labels); ``evaluation_stale``: a closed window not evaluated this long after it closed;
    ``failing_deliveries``: this many failed deliveries in a row make a receiver unreachable."""

    no_traffic: Duration | None = 6 * 3600.0
    labels_overdue: Duration | None = 2 * 86_400.0
    evaluation_stale: Duration | None = 3600.0
    failing_deliveries: int = Field(default=3, ge=1, le=20)
    volume: VolumeBand = Field(default_factory=VolumeBand)


class AlertsSection(_Section):
    """The ``alerts:`` section. Without ``route`` every alert goes to no receiver (it is stored only)."""

    receivers: dict[str, ReceiverSpec] = Field(default_factory=dict)
    route: Route = Field(default_factory=Route)
    rules: list[Rule] = Field(default_factory=list)
    inhibit: list[Inhibition] = Field(default_factory=list)
    escalate: list[Escalation] = Field(default_factory=list)
    hygiene: Hygiene = Field(default_factory=Hygiene)

    @field_validator("receivers", mode="before")
    @classmethod
    def _named(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {**v, "name": k} if isinstance(v, dict) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _known_receivers(self) -> AlertsSection:
        for name in self.route.names():
            if name not in self.receivers:
                raise ValueError(f"alerts.route: unknown receiver {name!r}; defined: {self._defined()}")
        for i, step in enumerate(self.escalate):
            if step.receiver not in self.receivers:
                raise ValueError(
                    f"alerts.escalate.{i}.receiver: unknown receiver {step.receiver!r}; "
                    f"defined: {self._defined()}"
                )
        return self

    def _defined(self) -> str:
        return ", ".join(self.receivers) or "none"


EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"


def is_email(text: str) -> bool:
    """Whether ``text`` reads as one email address (``local@domain``, no spaces): the check every owner
    and receiver address passes, so that a stored address can always be routed to."""
    return re.fullmatch(EMAIL_PATTERN, text) is not None
