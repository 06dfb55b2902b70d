"""A registered model's columns: the :class:`~mlwarden.schema.ColumnMapping` with the service's defaults.

The service needs a name for every role it moves data through — the id labels are joined on, the
timestamp that places a record in its window, the prediction, the score column(s) and the target that
labels become — so a registration's ``columns`` gets these defaults for the roles it leaves out::

    {"id": "id", "timestamp": "timestamp", "prediction": "prediction", "scores": "score", "target": "label"}

``score`` (the first release's key, a list of columns) is accepted as another name for ``scores``; rows
stored by that release are read through the same function, so they need no migration.

Class labels (the keys of a ``scores`` map, ``positive_label``) are kept as text, as labels are on the wire
and in the store (JSON object keys are text anyway); window evaluation reads them back as numbers when every
label does (:func:`mlwarden.server.labels.typed_mapping`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlwarden.errors import InputError
from mlwarden.schema import ColumnMapping
from mlwarden.store.schema import Model

SERVICE_DEFAULTS: dict[str, str] = {
    "id": "id",
    "timestamp": "timestamp",
    "prediction": "prediction",
    "scores": "score",
    "target": "label",
}


def service_mapping(columns: Mapping[str, Any] | ColumnMapping | None) -> ColumnMapping:
    """The mapping of a registration's (or a stored model's) ``columns``, with the service's defaults.

    Raises :class:`~mlwarden.errors.InputError` naming the field (``columns.scores: expected at least one
    score column``) when the mapping is invalid or a role the service needs is set to null.
    """
    if columns is None:
        columns = {}
    if isinstance(columns, ColumnMapping):
        scores = {"scores": columns.scores} if columns.scores else {}  # the map's label types and order
        columns = columns.model_dump(exclude_none=True) | scores
    if not isinstance(columns, Mapping):
        kind = type(columns).__name__
        raise InputError(f"columns: expected a mapping of roles to column names, got {kind}")
    data = dict(columns)
    if "score" in data:
        if "scores" in data:
            raise InputError("columns: give 'scores' or its old name 'score', not both")
        data["scores"] = data.pop("score")
    scores = data.get("scores")
    if isinstance(scores, list) and len(scores) == 1:
        data["scores"] = scores[0]  # one column: the binary model's score (the first release's form)
    for role, default in SERVICE_DEFAULTS.items():
        if role not in data:
            data[role] = default
        elif data[role] is None:
            raise InputError(f"columns.{role}: the service needs a column name here (default {default!r})")
    if isinstance(data.get("scores"), dict):
        data["scores"] = {str(label): column for label, column in data["scores"].items()}
    if data.get("positive_label") is not None:
        data["positive_label"] = str(data["positive_label"])  # 1 and "1" name one class
    mapping = ColumnMapping(**data)  # not from_dict: its messages repeat the "columns:" prefix
    named = {**mapping.named_columns(), **{c: "ignore" for c in mapping.ignore}}
    blank = [field for column, field in named.items() if not column.strip()]
    if blank:
        raise InputError(f"columns.{blank[0]}: expected a column name, got an empty one")
    return mapping


def stored_columns(mapping: ColumnMapping) -> dict[str, Any]:
    """The JSON form of ``mapping`` kept in ``models.columns`` and shown in the model's JSON (class labels of
    a ``scores`` map become strings, as JSON keys are; the map keeps the model's class order)."""
    return mapping.model_dump(mode="json")


def model_mapping(model: Model) -> ColumnMapping:
    """The mapping of a registered model (about 15 µs: cheap enough for every request)."""
    return service_mapping(model.columns)
