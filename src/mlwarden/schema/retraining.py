"""``retrain:``: when a model should be retrained, how a challenger is judged, whom to tell (DESIGN §5).

```yaml
retrain:
  triggers: {slo_breach_windows: 2, important_drift: 0.3, min_new_labels: 5000, schedule: "0 3 * * 1",
             cooldown: 7d, min_rows: 1000}
  gate: {metric: roc_auc, min_improvement: 0.0, confidence: 0.95, slices: [country],
         max_slice_regression: 0.02, min_slice_rows: 200}
  notify: {webhook: {url: "https://ci.example.com/hooks/retrain", secret: "${CI_SECRET}"}}
  outcome_windows: 3
  mlflow: {tracking_uri: "http://mlflow.example.com:5000", model: churn}
```

Every trigger is optional (left out: it never fires). ``cooldown`` is the least time between two retrains;
``min_rows`` the least number of labelled rows since the last retrain for any trigger to fire (minimum
data). ``importances`` gives the features' weights for ``important_drift`` (left out: the service weighs
every drifted feature equally). ``gate`` takes the arguments of :func:`mlwarden.retrain.gate`.
``outcome_windows`` is how many windows a replaced champion keeps scoring in shadow before the retrain's
outcome is measured; ``mlflow`` names an MLflow registry whose ``champion`` alias follows promotions.
Errors are one :class:`~mlwarden.errors.InputError` line naming the path (``retrain.triggers.schedule: ...``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
)

from mlwarden.errors import InputError
from mlwarden.schema.alerting import config_duration
from mlwarden.schema.mapping import validation_message


class Triggers(BaseModel):
    """``retrain.triggers``: what makes a retrain due."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slo_breach_windows: int | None = Field(default=None, ge=1, le=10_000)
    important_drift: float | None = Field(default=None, gt=0, le=1)
    importances: dict[str, float] | None = None
    min_new_labels: int | None = Field(default=None, ge=1)
    schedule: str | None = None
    cooldown: timedelta = timedelta(0)
    min_rows: int = Field(default=0, ge=0)

    @field_validator("cooldown", mode="before")
    @classmethod
    def _duration(cls, value: Any, info: ValidationInfo) -> timedelta:
        if isinstance(value, timedelta):
            return value
        return timedelta(seconds=config_duration(0 if value is None else value, info))

    @field_serializer("cooldown")
    def _seconds(self, value: timedelta) -> float:
        """Seconds, which read back as the same duration (``model_dump`` → ``from_dict``)."""
        return value.total_seconds()

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        """Five fields (minute hour day-of-month month day-of-week), as crontab(5) writes them."""
        if value is None:
            return None
        from croniter import croniter

        fields = value.split()
        if len(fields) != 5 or not croniter.is_valid(value):
            raise ValueError(
                f"expected a cron expression of 5 fields (minute hour day month weekday), got {value!r}"
            )
        return " ".join(fields)

    @field_validator("importances")
    @classmethod
    def _weights(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is None:
            return None
        for column, weight in value.items():
            if not weight >= 0 or weight == float("inf"):
                raise ValueError(f"{column}: expected a finite importance ≥ 0, got {weight!r}")
        if value and sum(value.values()) <= 0:
            raise ValueError("expected at least one importance above 0")
        return value


class GateSettings(BaseModel):
    """``retrain.gate``: the arguments of :func:`mlwarden.retrain.gate` (the same names and defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    metric: str = "roc_auc"
    slices: list[str] = Field(default_factory=list)
    min_improvement: float = Field(default=0.0, ge=0)
    max_slice_regression: float = Field(default=0.02, ge=0)
    min_slice_rows: int = Field(default=200, ge=1)
    confidence: float = Field(default=0.95, gt=0, lt=1)

    @field_validator("metric")
    @classmethod
    def _known(cls, value: str) -> str:
        from mlwarden.retrain.metrics import METRICS

        if value not in METRICS:
            raise ValueError(f"expected one of {', '.join(METRICS)}, got {value!r}")
        return value

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments for :func:`mlwarden.retrain.gate`."""
        return self.model_dump()


class Webhook(BaseModel):
    """A signed HTTP POST (HMAC-SHA256, :mod:`mlwarden.signing`); ``secret`` may be a ``${ENV}`` reference."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    secret: str = Field(min_length=1)

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not a URL: expected http(s)://host/..., got {value!r}")
        return value


class Notify(BaseModel):
    """``retrain.notify``: where a fired trigger is posted, so an orchestrator starts training."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    webhook: Webhook | None = None


class MlflowTarget(BaseModel):
    """``retrain.mlflow``: the MLflow model registry whose ``champion`` alias follows promotions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tracking_uri: str
    model: str | None = Field(default=None, description="the registered model's name (default: the model's)")
    token: str | None = None  # may be a ${ENV} reference

    @field_validator("tracking_uri")
    @classmethod
    def _http(cls, value: str) -> str:
        return Webhook._http(value)


class RetrainSection(BaseModel):
    """The ``retrain:`` section of a model configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    triggers: Triggers = Field(default_factory=Triggers)
    gate: GateSettings = Field(default_factory=GateSettings)
    notify: Notify = Field(default_factory=Notify)
    outcome_windows: int = Field(default=3, ge=1, le=1000)
    mlflow: MlflowTarget | None = None

    @field_validator("triggers", "gate", "notify", mode="before")
    @classmethod
    def _empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @classmethod
    def from_dict(cls, data: Any) -> RetrainSection:
        """Validate a parsed ``retrain:`` section; :class:`InputError` names the path (``retrain.gate.x``)."""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise InputError(f"retrain: expected a mapping, got {type(data).__name__}")
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise InputError(validation_message(exc, prefix="retrain")) from None
