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
from mlwarden.performance.metrics import auc
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
            positive = label_key(mapping.positive_label)
            if from_reference and len(seen) >= 2 and positive not in seen:
                raise InputError(
                    f"positive_label: {positive!r} is not a label of the reference "
                    f"({', '.join(sorted_labels(seen, field='target', strict=False))})"
                )
            seen.add(positive)
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

    Checked on the labelled reference rows. With a prediction column: the arg-max column's class should be
    the prediction; when the best assignment of columns to classes (``scipy.optimize.linear_sum_assignment``
    on the arg-max × prediction counts) agrees on at least ``ORDER_MARGIN`` (20 points) more rows than the
    given order, the given order is wrong and the message names the better one (a prediction that is not an
    arg-max, e.g. per-class thresholds, agrees less with every order alike and raises nothing). Without
    one, the labels decide, by rank so that uncalibrated scores do not mislead: the assignment maximising
    the mean one-vs-rest ROC AUC must not beat the given order by ``ORDER_MARGIN``. One binary column:
    ``score ≥ 0.5`` should mean "predicted positive" (with a prediction; probabilities only), or its ROC
    AUC for the positive class should not be below 0.5 − ``ORDER_MARGIN`` (labels) — else the score is
    P(the other class).
    """
    if model.task != "classification" or len(model.classes) < 2:
        return
    by_prediction = mapping.prediction in reference.columns
    against = mapping.prediction if by_prediction else mapping.target
    all_columns = _class_ordered_columns(mapping, list(model.classes))
    columns = all_columns or list(model.score_columns)
    needed = list(dict.fromkeys([mapping.target, against, *columns]))
    if not columns or any(c not in reference.columns for c in needed):
        return
    rows = reference[needed].dropna()
    rows = rows[np.isfinite(rows[columns].to_numpy(float)).all(axis=1)]
    if not len(rows):
        return
    scores, expected = rows[columns].to_numpy(float), label_keys(rows[against])
    if len(all_columns) >= 2:
        check = _check_argmax if by_prediction else _check_ranking
        check(scores, expected, all_columns, list(model.classes), mapping.classes is not None)
    elif model.positive is not None and len(columns) == 1:
        _check_binary_direction(scores[:, 0], expected == model.positive, model, by_prediction)


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


def _check_argmax(
    scores: np.ndarray, expected: np.ndarray, columns: list[str], classes: list[str], mapped: bool
) -> None:
    """Arg-max column vs the prediction: counts of (column, predicted class), best assignment."""
    top = scores.argmax(axis=1)
    predicted = pd.Index(classes).get_indexer(expected)
    k = len(classes)
    counts = np.zeros((k, k))
    inside = predicted >= 0
    np.add.at(counts, (top[inside], predicted[inside]), 1.0)
    measure = "arg-max of the score columns agrees with prediction on {:.0%} of reference rows"
    _raise_if_misordered(counts / len(scores), columns, classes, mapped, measure, "which agrees on {:.0%}")


def _check_ranking(
    scores: np.ndarray, expected: np.ndarray, columns: list[str], classes: list[str], mapped: bool
) -> None:
    """Each column's one-vs-rest ROC AUC for each class (rank-based), best assignment by mean AUC."""
    truth = (expected[None, :] == np.asarray(classes, dtype=object)[:, None]).astype(float)  # (k, n)
    aucs = np.stack([auc(truth, scores[:, j]) for j in range(scores.shape[1])])  # (column, class)
    k = len(classes)
    measure = "the score columns' mean one-vs-rest ROC AUC is {:.2f} on the reference"
    _raise_if_misordered(
        np.nan_to_num(aucs, nan=0.5) / k, columns, classes, mapped, measure, "which gives {:.2f}"
    )


def _raise_if_misordered(
    gain: np.ndarray, columns: list[str], classes: list[str], mapped: bool, measure: str, better: str
) -> None:
    """``gain[j, c]``: what pairing column j with class c contributes to ``measure``; raise when the best
    pairing beats the given one (column j ↔ class j) by ``ORDER_MARGIN``."""
    from scipy.optimize import linear_sum_assignment

    given = float(np.trace(gain))
    col_of, class_of = linear_sum_assignment(-gain)
    best = float(gain[col_of, class_of].sum())
    if best - given < ORDER_MARGIN:
        return
    pairs = sorted(zip(class_of, col_of, strict=True))
    suggestion = "{" + ", ".join(f"{classes[c]!r}: {columns[j]!r}" for c, j in pairs) + "}"
    order = "in the map's order" if mapped else "in sorted class order"
    raise InputError(
        f"scores: {measure.format(given)}; the columns are probably not {order} "
        f"(try {suggestion}, {better.format(best)})"
    )


def _check_binary_direction(
    score: np.ndarray, positive: np.ndarray, model: ModelClasses, by_prediction: bool
) -> None:
    other = next(c for c in model.classes if c != model.positive)
    if by_prediction:
        if score.min() < 0 or score.max() > 1:
            return  # not probabilities: no threshold to compare with
        agree = float(np.mean((score >= 0.5) == positive))
        if (1 - agree) - agree < ORDER_MARGIN:
            return
        evidence = f"score ≥ 0.5 agrees with prediction == {model.positive} on {agree:.0%} of reference rows"
    else:
        value = float(auc(positive.astype(float), score))
        if not value < 0.5 - ORDER_MARGIN:  # NaN (one class) passes
            return
        evidence = f"its ROC AUC for label {model.positive} is {value:.2f} on the reference"
    raise InputError(
        f"scores: {evidence}; the score is probably P({other}), not P({model.positive}) "
        f"(set positive_label={other!r} or give the score of {model.positive})"
    )
