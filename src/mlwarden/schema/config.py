"""``ModelConfig``: one model's configuration file (DESIGN §5), validated as a whole.

Offline (``mlwarden check --config FILE``) three sections are used: ``columns:`` (a
:class:`~mlwarden.schema.ColumnMapping`), ``drift: {columns: {col: {method, threshold}}}`` (merged into the
mapping's per-column drift settings) and ``slo: {metric: {min: x} | {metric: {max: x}}}``. The other
sections (``model``, ``owner``, ``runbook``, ``window``) are accepted with light validation only — their
shape is checked where they are used (the service). ``alerts:`` is validated in full here
(:class:`~mlwarden.schema.alerting.AlertsSection`): receivers, route tree, rules, inhibition; so is
``retrain:`` (:class:`~mlwarden.schema.retraining.RetrainSection`): triggers, gate, notify, outcome, MLflow.

Errors are one :class:`~mlwarden.errors.InputError` line naming the path: ``columns.scores: ...``,
``slo.roc_auc.min: ...``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from mlwarden.errors import InputError
from mlwarden.schema.alerting import AlertsSection
from mlwarden.schema.mapping import ColumnDriftSpec, ColumnMapping, validation_message
from mlwarden.schema.retraining import RetrainSection

# Which bound an SLO on each metric takes: a floor for scores, a ceiling for errors (names of DESIGN §3).
SLO_BOUND: dict[str, Literal["min", "max"]] = {
    "roc_auc": "min",
    "accuracy": "min",
    "precision": "min",
    "recall": "min",
    "f1": "min",
    "mae": "max",
    "rmse": "max",
    "mape": "max",
}
ALL_SEGMENTS = "*"  # a per-segment SLO key that applies to every segment
_SLO_EXPRESSION = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=)\s*([^\s].*?)\s*$")


class SloBound(BaseModel):
    """One metric's objective: ``min`` (scores such as ROC AUC) or ``max`` (errors such as MAE)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min: float | None = None
    max: float | None = None
    # per segment ("country=FR"; "*": every segment): the limit in the same direction (docs/segments.md)
    segments: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _exactly_one(self) -> SloBound:
        if (self.min is None) == (self.max is None):
            raise ValueError("give exactly one of min or max")
        return self


class DriftSection(BaseModel):
    """``drift:``: per-column method and threshold (``{columns: {col: {method: psi, threshold: 0.2}}}``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: dict[str, ColumnDriftSpec] = Field(default_factory=dict)


class ModelConfig(BaseModel):
    """A model configuration file.

    >>> config = ModelConfig.from_dict({"columns": {"target": "y", "scores": "p"},
    ...                                 "slo": {"roc_auc": {"min": 0.78}}})
    >>> config.slo_limits()
    {'roc_auc': 0.78}
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None
    owner: dict[str, Any] | None = None
    runbook: str | None = None
    window: str | None = None
    columns: ColumnMapping = Field(default_factory=ColumnMapping)
    drift: DriftSection = Field(default_factory=DriftSection)
    slo: dict[str, SloBound] = Field(default_factory=dict)
    alerts: AlertsSection | None = None
    retrain: RetrainSection | None = None  # validated whole: mlwarden.schema.retraining

    @field_validator("model")
    @classmethod
    def _model_name(cls, value: str | None, info: ValidationInfo) -> str | None:
        stored = (info.context or {}).get("stored")  # a model named '..' before that was refused
        problem = None if value is None or stored else model_name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("columns", "drift", "slo", mode="before")
    @classmethod
    def _empty_section(cls, value: Any) -> Any:
        return {} if value is None else value  # `columns:` with nothing under it

    @model_validator(mode="after")
    def _slo_direction(self) -> ModelConfig:
        for metric, bound in self.slo.items():
            side = "min" if bound.min is not None else "max"
            for path, limit in [
                (side, bound.min if side == "min" else bound.max),
                *((f"segments.{segment}", value) for segment, value in bound.segments.items()),
            ]:
                try:
                    check_slo(metric, side, limit)  # type: ignore[arg-type]
                except ValueError as exc:  # the path in the message: a model-level error has no location
                    raise ValueError(f"slo.{metric}.{path}: {exc}") from None
            # against the file's own columns.segments; without a columns section, against the model's when
            # applied (mlwarden.registry)
            splits = self.columns.segments if "columns" in self.model_fields_set else None
            for segment in bound.segments:
                problem = segment_key_problem(segment, splits)
                if problem:
                    raise ValueError(f"slo.{metric}.segments.{segment}: {problem}")
        return self

    @property
    def mapping(self) -> ColumnMapping:
        """``columns:`` with ``drift.columns`` merged into its per-column drift settings."""
        if not self.drift.columns:
            return self.columns
        return self.columns.merged(drift={**self.columns.drift, **self.drift.columns})

    def slo_limits(self) -> dict[str, float]:
        """``{metric: limit}``: a floor for score metrics, a ceiling for error metrics (see ``SLO_BOUND``)."""
        return {m: b.min if b.min is not None else b.max for m, b in self.slo.items()}  # type: ignore[misc]

    def segment_slo_limits(self) -> dict[str, dict[str, float]]:
        """``{segment: {metric: limit}}`` from each objective's ``segments`` (``"*"``: every segment)."""
        out: dict[str, dict[str, float]] = {}
        for metric, bound in self.slo.items():
            for segment, limit in bound.segments.items():
                out.setdefault(segment, {})[metric] = limit
        return out

    @classmethod
    def from_dict(cls, data: Any, *, source: str | None = None, stored: bool = False) -> ModelConfig:
        """Validate a parsed configuration; raise :class:`InputError` naming the failing path. ``stored``:
        a configuration applied earlier, read as it was applied (see :meth:`from_text`)."""
        where = f"{source}: " if source else ""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise InputError(f"{where}expected a mapping of sections at the top, got {type(data).__name__}")
        try:
            return cls.model_validate(data, context={"stored": stored})
        except ValidationError as exc:
            raise InputError(where + _config_message(exc)) from None

    @classmethod
    def from_yaml(cls, path: str | Path) -> ModelConfig:
        """Read and validate a YAML configuration file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read: {exc}") from None
        return cls.from_text(text, source=str(path))

    @classmethod
    def from_text(cls, text: str, *, source: str | None = None, stored: bool = False) -> ModelConfig:
        """Parse and validate YAML text (a request body, a file's contents). A key given twice in one mapping
        and a duration past ``MAX_DURATION_DAYS`` are errors, except in ``stored`` text (applied before they
        were refused), read as it was applied: the last key wins, the duration is the bound."""
        where = f"{source}: " if source else ""
        try:
            loader = yaml.SafeLoader(text)  # reads the text: may raise already
            try:
                node = loader.get_single_node()
                if node is not None and not stored:
                    _refuse_repeated_keys(node, where)
                data = None if node is None else loader.construct_document(node)
            finally:
                loader.dispose()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" (line {mark.line + 1})" if mark is not None else ""
            raise InputError(f"{where}not valid YAML{at}") from None
        return cls.from_dict(data, source=source, stored=stored)


def _refuse_repeated_keys(root: yaml.Node, where: str) -> None:
    """Raise :class:`InputError` naming the path and both lines of a key given twice in one mapping (YAML
    forbids it; PyYAML would keep the second silently, so a second ``alerts:`` would drop the first)."""
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    visited: set[int] = set()  # anchors and aliases share nodes (and may be recursive)
    while stack:
        node, path = stack.pop()
        if id(node) in visited:
            continue
        visited.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}{i}.") for i, item in enumerate(node.value))
        elif isinstance(node, yaml.MappingNode):
            first_line: dict[tuple[str, str], int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    line, first = key.start_mark.line + 1, first_line.get((key.tag, key.value))
                    if first is not None:
                        lines = f"lines {first} and {line}" if first != line else f"line {line}"
                        raise InputError(f"{where}{path}{key.value}: given twice ({lines})")
                    first_line[(key.tag, key.value)] = line
                name = key.value if isinstance(key, yaml.ScalarNode) else "?"
                stack.append((value, f"{path}{name}."))


MAX_MODEL_NAME = 200  # characters (the store's column)


def model_name_problem(name: str) -> str | None:
    """What is wrong with a model's name, ``None`` when nothing: it is one URL path segment (no ``/``, not
    ``.`` or ``..``, which clients resolve) of 1 to ``MAX_MODEL_NAME`` characters."""
    if not name or len(name) > MAX_MODEL_NAME or "/" in name or name in (".", ".."):
        limit = f"1 to {MAX_MODEL_NAME} characters"
        return f"expected a model name of {limit} without '/', not . or .., got {name!r}"
    return None


def segment_key_problem(key: str, splits: list[str | tuple[str, ...]] | None) -> str | None:
    """What is wrong with a per-segment SLO's key, ``None`` when nothing: ``"*"`` (every segment) or a segment
    name ``COLUMN=VALUE`` (crossed columns: ``country,plan=FR,pro``) whose columns are one of ``splits``
    (a model's ``columns.segments``; ``None``: not known here, only the form is checked)."""
    if key == ALL_SEGMENTS:
        return None
    split, sep, value = key.partition("=")
    if not sep or not split or not value:
        return "expected a segment COLUMN=VALUE (e.g. country=FR), or '*' for every segment"
    if splits is None:
        return None
    names = [s if isinstance(s, str) else ",".join(s) for s in splits]
    if split not in names:
        known = f"columns.segments: {', '.join(names)}" if names else "columns.segments is empty"
        return f"{split!r} is not one of the model's segments ({known})"
    return None


def check_slo(metric: str, bound: Literal["min", "max"], limit: float) -> None:
    """Raise ``ValueError`` unless ``metric`` is known, ``bound`` is the side it is limited on and ``limit``
    a value it can take: a score (``min``) in [0, 1] — ``roc_auc>=78`` was breached by every window — an
    error (``max``) a finite number ≥ 0."""
    expected = SLO_BOUND.get(metric)
    if expected is None:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(SLO_BOUND)}")
    if bound != expected:
        better = "higher" if expected == "min" else "lower"
        raise ValueError(f"{metric} is {better}-is-better: give {expected}, not {bound}")
    if expected == "min" and not 0 <= limit <= 1:
        raise ValueError(f"{metric} lies in [0, 1]: expected a limit between 0 and 1, got {limit:g}")
    if expected == "max" and not 0 <= limit < float("inf"):
        raise ValueError(f"{metric} is an error ≥ 0: expected a finite limit ≥ 0, got {limit:g}")


def parse_slo(expression: str) -> tuple[str, float]:
    """``"roc_auc>=0.78"`` → ``("roc_auc", 0.78)``; ``"mae<=3"`` → ``("mae", 3.0)``.

    Raises :class:`InputError` (one line) on anything else, an unknown metric, or a bound on the wrong side.
    """
    match = _SLO_EXPRESSION.match(expression)
    if match is None:
        raise InputError(f"--slo {expression!r}: expected METRIC>=X or METRIC<=X, e.g. roc_auc>=0.78")
    metric, operator, number = match.groups()
    try:
        limit = float(number)
    except ValueError:
        raise InputError(f"--slo {expression!r}: {number!r} is not a number") from None
    try:
        check_slo(metric, "min" if operator == ">=" else "max", limit)
    except ValueError as exc:
        raise InputError(f"--slo {expression!r}: {exc}") from None
    return metric, limit


def _config_message(exc: ValidationError) -> str:
    """``section.field: problem`` for the first error. Model-level errors, and the nested
    :class:`ColumnMapping`'s own errors (``columns.scores: ...``), already start with their path."""
    error = exc.errors()[0]
    message = error["msg"].removeprefix("Value error, ")
    path = ".".join(str(p) for p in error["loc"])
    if not path or message.startswith(f"{path}.") or message.startswith(f"{path}:"):
        return message
    return validation_message(exc, prefix="").removeprefix(".")
