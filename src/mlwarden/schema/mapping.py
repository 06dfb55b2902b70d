"""``ColumnMapping``: what each column of a model's data *is* — one object for the Python API, the CLI, the
model configuration file (``columns:``) and the service's model registration.

Roles: the label (``target``), the model's predicted label (``prediction``), its score column(s)
(``scores``: one column for a binary model, an explicit ``{class: column}`` map for a multiclass one),
the ``positive_label`` of a binary model, a row ``id`` and a ``timestamp`` (never drift-tested),
columns to ``ignore`` entirely, kind overrides (``categorical``/``numeric``), ``segments`` and per-column
drift settings (``drift``). Every other column is a feature.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mlwarden.errors import InputError

Label = str | int | float | bool
Task = Literal["classification", "regression"]


class ColumnDriftSpec(BaseModel):
    """Drift settings of one column: the deciding ``method`` and its ``threshold`` (on the method's scale)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str | None = None
    threshold: float | None = Field(default=None, ge=0)

    @field_validator("method")
    @classmethod
    def _known_method(cls, method: str | None) -> str | None:
        """An unknown method is an error when the mapping or the configuration file is read, not later."""
        from mlwarden.drift.config import ALL_METHODS

        if method is not None and method not in ALL_METHODS:
            raise ValueError(f"expected one of {', '.join(ALL_METHODS)}, got {method!r}")
        return method


class ColumnMapping(BaseModel):
    """The role and kind of each column of a model's data.

    >>> mapping = ColumnMapping(target="churned", prediction="pred", scores="score", positive_label=1,
    ...                         id="customer_id", ignore=["request_id"], categorical=["region_code"])
    >>> ColumnMapping(target="land", scores={"water": "p_water", "desert": "p_desert"}).classes
    ['water', 'desert']

    ``scores`` accepts one column name (binary: P(positive_label)), a ``{class: column}`` map (the order of
    the map is the model's class order), or a list of columns for the classes in *sorted* label order (the
    old form; a map is clearer). Raises :class:`~mlwarden.errors.InputError` naming the field on bad input.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: str | None = None
    prediction: str | None = None
    scores: str | list[str] | dict[Label, str] | None = None
    positive_label: Label | None = None
    task: Task | None = None
    id: str | None = None
    timestamp: str | None = None
    ignore: list[str] = Field(default_factory=list)
    categorical: list[str] = Field(default_factory=list)
    numeric: list[str] = Field(default_factory=list)
    segments: list[str | tuple[str, ...]] = Field(default_factory=list)  # a tuple: crossed columns
    drift: dict[str, ColumnDriftSpec] = Field(default_factory=dict)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise InputError(validation_message(exc, prefix="columns")) from None

    @field_validator("scores")
    @classmethod
    def _scores_not_empty(cls, value: Any) -> Any:
        if isinstance(value, list | dict) and not value:
            raise ValueError("expected at least one score column")
        if isinstance(value, list) and len(set(value)) != len(value):
            raise ValueError("a score column is listed twice")
        if isinstance(value, dict) and len(set(value.values())) != len(value):
            raise ValueError("two classes map to the same score column")
        return value

    @model_validator(mode="after")
    def _roles_do_not_clash(self) -> ColumnMapping:
        both = set(self.categorical) & set(self.numeric)
        if both:
            raise ValueError(f"columns both categorical and numeric: {', '.join(sorted(both))}")
        roles = [c for c in (self.target, self.prediction, self.id, self.timestamp) if c is not None]
        roles += self.score_columns
        taken = [c for c in roles if roles.count(c) > 1]
        if taken:
            raise ValueError(f"column {taken[0]!r} has two roles")
        ignored = set(self.ignore) & set(roles)
        if ignored:
            raise ValueError(f"column {sorted(ignored)[0]!r} has a role and is also ignored")
        named = isinstance(self.scores, dict) and self.positive_label is not None
        if named and self.positive_label not in self.scores:
            raise ValueError(f"positive_label {self.positive_label!r} is not a class of scores")
        return self

    # ---- derived views -------------------------------------------------------------------------------

    @property
    def score_columns(self) -> list[str]:
        """Score column names, in the model's class order."""
        if self.scores is None:
            return []
        if isinstance(self.scores, str):
            return [self.scores]
        if isinstance(self.scores, dict):
            return list(self.scores.values())
        return list(self.scores)

    @property
    def classes(self) -> list[Label] | None:
        """The model's class labels in score-column order, when the score map names them; else ``None``."""
        return list(self.scores) if isinstance(self.scores, dict) else None

    @property
    def outputs(self) -> list[str]:
        """The model's output columns: prediction, then scores."""
        return [c for c in (self.prediction, *self.score_columns) if c is not None]

    @property
    def roles(self) -> set[str]:
        """Every column with a role (never treated as a feature)."""
        return {c for c in (self.target, self.id, self.timestamp, *self.outputs) if c is not None}

    def features(self, columns: Iterable[str]) -> list[str]:
        """The feature columns among ``columns``: every column without a role that is not ignored."""
        skip = self.roles | set(self.ignore)
        return [c for c in columns if c not in skip]

    def kind_override(self, column: str) -> Literal["categorical", "numeric"] | None:
        if column in self.categorical:
            return "categorical"
        if column in self.numeric:
            return "numeric"
        return None

    def named_columns(self) -> dict[str, str]:
        """``{column: field}`` for every column the mapping names (to check they exist in the data)."""
        out: dict[str, str] = {}
        for field_name in ("target", "prediction", "id", "timestamp"):
            value = getattr(self, field_name)
            if value is not None:
                out[value] = field_name
        for column in self.score_columns:
            out[column] = "scores"
        for field_name in ("categorical", "numeric"):
            for column in getattr(self, field_name):
                out.setdefault(column, field_name)
        for spec in self.segments:
            for column in (spec,) if isinstance(spec, str) else spec:
                out.setdefault(column, "segments")
        for column in self.drift:
            out.setdefault(column, "drift")
        return out

    def merged(self, **overrides: Any) -> ColumnMapping:
        """A copy with the non-``None`` ``overrides`` applied (list fields are extended, not replaced)."""
        data = self.model_dump()
        data["scores"] = self.scores  # keep the map's key types and order
        for key, value in overrides.items():
            if value is None:
                continue
            if key in ("ignore", "categorical", "numeric", "segments") and data.get(key):
                value = list(dict.fromkeys([*data[key], *value]))
            data[key] = value
        return ColumnMapping(**data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None, *, prefix: str = "columns") -> ColumnMapping:
        """Build from a configuration mapping; errors name the path (``columns.scores: ...``)."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            kind = type(data).__name__
            raise InputError(f"{prefix}: expected a mapping of roles to column names, got {kind}")
        try:
            return cls(**{str(key): value for key, value in data.items()})
        except InputError as exc:  # raised by __init__ with the path under "columns"
            raise InputError(prefix + str(exc).removeprefix("columns")) from None


def validation_message(exc: ValidationError, *, prefix: str) -> str:
    """One line naming the first failing path: ``columns.scores: expected at least one score column``."""
    error = exc.errors()[0]
    path = ".".join([prefix, *(str(p) for p in error["loc"])]) if error["loc"] else prefix
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    return f"{path}: {message}"
