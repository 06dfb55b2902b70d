"""What the model predicts — its task, its classes, its positive class — from the model, never from a window.

Sources, first that applies: the column mapping (``task``, the ``{class: column}`` score map,
``positive_label``), then the labelled reference. Only when neither exists do the current rows' labels and
predictions stand in, and a note says so. The rules: docs/performance.md, "How classes are determined".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from mlwarden.errors import InputError
from mlwarden.performance.labels import label_key, label_keys, sorted_labels
from mlwarden.schema import ColumnMapping

MAX_CLASSES = 20  # a whole-valued numeric target with more distinct values is a regression target
ORDER_MARGIN = 0.2  # a column order agreeing with the prediction on this many more rows is the right one


@dataclass(frozen=True)
class ModelClasses:
    """The model's task and, for a classifier, its classes (label keys, :mod:`labels`) in score-column
    order. ``positive`` is a binary model's positive class (``None`` when it cannot be known);
    ``score_columns`` are the columns the metrics use: one, P(positive), for a binary model, else one per
    class in ``classes`` order (empty when the scores cannot be matched to classes)."""

    task: Literal["classification", "regression"]
    classes: tuple[str, ...] = ()
    positive: str | None = None
    score_columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def binary(self) -> bool:
        return self.task == "classification" and len(self.classes) <= 2


def model_classes(
    mapping: ColumnMapping, reference: pd.DataFrame | None, current: pd.DataFrame | None
) -> ModelClasses:
    """Resolve the task and classes. ``reference`` is the labelled reference (``None`` when only a profile
    exists); ``current`` the current rows. Raises :class:`InputError` when the mapping contradicts the data
    (a reference label outside the score map, a score-column count that does not match the classes)."""
    target = mapping.target
    source = labelled_rows(reference, target)
    from_reference = source is not None
    if source is None:
        source = labelled_rows(current, target)
    prediction = None
    if source is not None and mapping.prediction in source.columns:
        prediction = source[mapping.prediction]
    task = mapping.task or _task(source[target] if source is not None else None, prediction, mapping)
    if task == "regression":
        return ModelClasses(task="regression")

    notes: list[str] = []
    if mapping.classes is not None:
        classes = [label_key(c) for c in mapping.classes]
        if from_reference:
            unknown = sorted(set(label_keys(source[target])) - set(classes))
            if unknown:
                raise InputError(
                    f"target: reference labels {', '.join(unknown[:5])} are not classes of the score map "
                    f"({', '.join(classes)})"
                )
    else:
        seen: set[str] = set()
        if source is not None:
            seen |= set(label_keys(source[target]))
            if not from_reference and prediction is not None:
                seen |= set(label_keys(prediction.dropna()))
        if mapping.positive_label is not None:
            seen.add(label_key(mapping.positive_label))
        ordered = isinstance(mapping.scores, list) and len(mapping.scores) > 1  # a list means sorted order
        classes = sorted_labels(seen, field="target", strict=ordered)
        known_binary = mapping.positive_label is not None and len(classes) <= 2
        if source is not None and not from_reference and not known_binary:
            notes.append(
                "classes taken from the current rows' labels and predictions (no labelled reference, "
                "no score map): give scores as a {class: column} map (or positive_label) to fix them"
            )

    positive = _positive(mapping, classes)
    columns = _score_columns(mapping, classes, positive, from_reference, notes)
    return ModelClasses("classification", tuple(classes), positive, tuple(columns), tuple(notes))


def check_score_order(mapping: ColumnMapping, model: ModelClasses, reference: pd.DataFrame) -> None:
    """Raise :class:`InputError` when the score columns look assigned to the wrong classes.

    Several columns: the arg-max column's class should be the prediction on the labelled reference rows;
    when the best assignment of columns to classes (``scipy.optimize.linear_sum_assignment`` on the
    arg-max × prediction counts) agrees on at least ``ORDER_MARGIN`` (20 points) more rows than the given
    order, the given order is wrong and the message names the better one (a prediction that is not an
    arg-max, e.g. per-class thresholds, agrees less with every order alike and raises nothing). One column
    (binary, probabilities): ``score ≥ 0.5`` should mean "predicted positive"; when ``score < 0.5`` agrees
    with the prediction on ``ORDER_MARGIN`` more rows, the score is P(the other class).
    """
    if model.task != "classification" or mapping.prediction is None or len(model.classes) < 2:
        return
    all_columns = _class_ordered_columns(mapping, list(model.classes))
    needed = [mapping.target, mapping.prediction, *(all_columns or model.score_columns)]
    if any(c not in reference.columns for c in needed):
        return
    rows = reference[needed].dropna()
    if all_columns and len(all_columns) >= 2:
        scores = rows[all_columns].to_numpy(float)
        rows = rows[np.isfinite(scores).all(axis=1)]
        _check_argmax(rows, mapping, all_columns, list(model.classes))
    elif model.positive is not None and len(model.score_columns) == 1:
        _check_binary_direction(rows, mapping, model)


def labelled_rows(rows: pd.DataFrame | None, target: str | None) -> pd.DataFrame | None:
    """The rows with a label, or ``None`` when there are none (no rows, no target column, no label)."""
    if rows is None or target is None or target not in rows.columns:
        return None
    labelled = rows[rows[target].notna()]
    return labelled if len(labelled) else None


def _numeric(values: pd.Series) -> np.ndarray | None:
    """Float values of a numeric column (numbers or Decimals in an object column too), else ``None``."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return None
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=float, na_value=np.nan)
    if values.dtype == object:
        kind = pd.api.types.infer_dtype(values, skipna=True)
        if kind in ("integer", "floating", "mixed-integer-float", "decimal"):
            return values.astype(float).to_numpy()
    return None


def _task(
    target: pd.Series | None, prediction: pd.Series | None, mapping: ColumnMapping
) -> Literal["classification", "regression"]:
    """Classification or regression from the data, when ``mapping.task`` does not say (docs: the rule)."""
    if target is None:
        return "classification" if mapping.scores is not None else "regression"
    y = _numeric(target)
    if y is None:
        return "classification"  # strings, booleans, categories
    pred = _numeric(prediction.dropna()) if prediction is not None else None
    if pred is not None and _has_fraction(pred):
        return "regression"  # e.g. a count target with a float prediction: a classifier predicts labels
    if mapping.scores is not None:
        return "classification"
    if _has_fraction(y):
        return "regression"
    return "classification" if np.unique(y).size <= MAX_CLASSES else "regression"


def _has_fraction(values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return bool((finite != np.round(finite)).any())


def _positive(mapping: ColumnMapping, classes: list[str]) -> str | None:
    """A binary model's positive class: ``positive_label``; else a 2-class score map's last class; else the
    larger of the two labels (``True`` for booleans). ``None`` for multiclass or a single known class."""
    if mapping.positive_label is not None:
        return label_key(mapping.positive_label)
    if len(classes) != 2:
        return None
    if mapping.classes is not None:
        return classes[-1]
    return sorted_labels(classes, field="positive_label")[-1]


def _class_ordered_columns(mapping: ColumnMapping, classes: list[str]) -> list[str]:
    """Every score column in class order (a map's order, or sorted labels for a list), or [] if unknown."""
    columns = mapping.score_columns
    if len(columns) < 2 or len(columns) != len(classes):
        return []
    return columns  # the map is in class order; a list means sorted class order, which ``classes`` is


def _score_columns(
    mapping: ColumnMapping, classes: list[str], positive: str | None, from_reference: bool, notes: list[str]
) -> list[str]:
    columns = mapping.score_columns
    if not columns:
        return []
    if len(columns) == 1:
        if len(classes) > 2:
            notes.append(f"one score column for a {len(classes)}-class model: ROC AUC needs one per class")
            return []
        return columns if positive is not None else []
    if len(columns) != len(classes):
        shown = ", ".join(classes[:8])
        if from_reference:
            raise InputError(
                f"scores: {len(columns)} score columns but the reference has {len(classes)} classes "
                f"({shown}); give one column per class as a {{class: column}} map"
            )
        notes.append(
            f"{len(columns)} score columns but {len(classes)} classes seen ({shown}): ROC AUC needs the "
            "scores as a {class: column} map"
        )
        return []
    if len(classes) == 2:
        return [columns[classes.index(positive)]] if positive in classes else []
    return columns


def _check_argmax(rows: pd.DataFrame, mapping: ColumnMapping, columns: list[str], classes: list[str]) -> None:
    from scipy.optimize import linear_sum_assignment

    if not len(rows):
        return
    top = rows[columns].to_numpy(float).argmax(axis=1)
    predicted = pd.Index(classes).get_indexer(label_keys(rows[mapping.prediction]))
    agree = float(np.mean(top == predicted))
    if agree > 1 - ORDER_MARGIN:
        return
    k = len(classes)
    counts = np.zeros((k, k))
    inside = predicted >= 0
    np.add.at(counts, (top[inside], predicted[inside]), 1.0)
    col_of, class_of = linear_sum_assignment(-counts)
    best = counts[col_of, class_of].sum() / len(rows)
    if best - agree < ORDER_MARGIN:
        return  # no column order explains the predictions better: the prediction is not an arg-max rule
    order = {
        classes[c]: columns[j] for j, c in sorted(zip(col_of, class_of, strict=True), key=lambda t: t[1])
    }
    given = "in the map's order" if mapping.classes is not None else "in sorted class order"
    suggestion = "{" + ", ".join(f"{c!r}: {col!r}" for c, col in order.items()) + "}"
    raise InputError(
        f"scores: arg-max of the score columns agrees with prediction on {agree:.0%} of reference rows; "
        f"the columns are probably not {given} (try {suggestion}, which agrees on {best:.0%})"
    )


def _check_binary_direction(rows: pd.DataFrame, mapping: ColumnMapping, model: ModelClasses) -> None:
    score = rows[model.score_columns[0]].to_numpy(float)
    finite = np.isfinite(score)
    score = score[finite]
    if not score.size or score.min() < 0 or score.max() > 1:
        return  # not probabilities: no threshold to compare with
    positive = label_keys(rows[mapping.prediction])[finite] == model.positive
    agree = float(np.mean((score >= 0.5) == positive))
    if (1 - agree) - agree >= ORDER_MARGIN:  # reading the score as P(other class) agrees far better
        other = next(c for c in model.classes if c != model.positive)
        raise InputError(
            f"scores: score ≥ 0.5 agrees with prediction == {model.positive} on {agree:.0%} of reference "
            f"rows; the score is probably P({other}), not P({model.positive}) "
            f"(set positive_label={other!r} or give the score of {model.positive})"
        )
