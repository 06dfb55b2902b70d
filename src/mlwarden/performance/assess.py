"""``assess_performance``: estimated and realized performance of a current window, their findings and notes.

The model's task and classes come from the mapping and the labelled reference (:mod:`classes`), never from
the window; estimated (CBPE, DLE) and realized metrics share one definition (:mod:`metrics`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlwarden.errors import InputError
from mlwarden.findings import Finding
from mlwarden.performance.cbpe import CBPE
from mlwarden.performance.classes import ModelClasses, check_score_order, labelled_rows, model_classes
from mlwarden.performance.dle import DLE
from mlwarden.performance.findings import (
    PerformanceTest,
    decide_alone,
    estimate_mismatch,
    performance_tests,
)
from mlwarden.performance.labels import as_number, label_key, label_keys
from mlwarden.performance.realized import classification_metrics, regression_metrics
from mlwarden.schema import ColumnMapping

MIN_REFERENCE_ROWS = 50  # labelled reference rows CBPE and DLE need to fit
MACRO_METRICS = ("precision", "recall", "f1")

Metrics = dict[str, float | None]


@dataclass
class ReferenceFit:
    """The labelled reference prepared once for any number of current windows (:func:`fit_reference`).

    ``reference``: the labelled reference rows (``None`` without labels or rows); ``model``: the task and
    classes they fix (``None`` without a labelled reference: each window then resolves them from its own
    rows); ``baseline``: the reference's realized metrics (``None`` under ``MIN_REFERENCE_ROWS`` rows).
    The estimator (CBPE for a classifier, DLE for a regression model) is fitted on first use by
    :meth:`estimator` and reused by every later window.
    """

    mapping: ColumnMapping
    reference: pd.DataFrame | None
    model: ModelClasses | None
    baseline: Metrics | None
    _estimator: CBPE | DLE | None = field(default=None, init=False, repr=False)
    _notes: list[str] | None = field(default=None, init=False, repr=False)

    def estimator(self) -> tuple[CBPE | DLE | None, list[str]]:
        """``(estimator, notes)``: the fitted CBPE or DLE, or ``None`` with the notes saying why not."""
        if self._notes is None:
            self._notes = []
            self._estimator = _fit_estimator(self, self._notes)
        return self._estimator, list(self._notes)


def fit_reference(ref_rows: pd.DataFrame | None, mapping: ColumnMapping) -> ReferenceFit:
    """Prepare the labelled reference once: its classes (checking the score order), its realized metrics
    and, on first use, the CBPE/DLE estimator. Raises :class:`InputError` as :func:`assess_performance`."""
    reference = labelled_rows(_named_by_strings(ref_rows), mapping.target)
    if reference is None or mapping.target is None or not mapping.outputs:
        return ReferenceFit(mapping, reference, None, None)
    model = model_classes(mapping, reference, None)
    check_score_order(mapping, model, reference)
    baseline = None
    if len(reference) >= MIN_REFERENCE_ROWS:  # fewer rows are no baseline to judge a drop against
        baseline = _realized(reference, mapping, model, [], side="reference")
    return ReferenceFit(mapping, reference, model, baseline)


@dataclass
class Assessment:
    """Performance of a window before its comparisons are decided: ``performance`` (``{"estimated": {...},
    "realized": {...}}``), ``tests`` (every SLO and reference comparison,
    :class:`~mlwarden.performance.findings.PerformanceTest`), ``findings`` (the info findings that need
    no decision: ``estimate_mismatch``) and ``notes``."""

    performance: dict[str, Metrics] = field(default_factory=lambda: {"estimated": {}, "realized": {}})
    tests: list[PerformanceTest] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def assess_performance(
    ref_rows: pd.DataFrame | None,
    cur_rows: pd.DataFrame | None,
    mapping: ColumnMapping,
    slo: dict[str, float] | None = None,
    *,
    fit: ReferenceFit | None = None,
) -> tuple[dict[str, Metrics], list[Finding], list[str]]:
    """Estimated performance (needs a labelled reference) and realized performance (needs current labels).

    ``ref_rows``: the labelled reference rows (``None`` when the reference is a saved profile); ``cur_rows``:
    the current rows, whose target may be absent or all missing. Returns ``({"estimated": {...},
    "realized": {...}}, findings, notes)``; each metrics map holds ``n`` (rows), ``n_scored`` (rows with
    finite scores) and every metric with its ``_lower``/``_upper`` 95 % band where one exists. ``slo``
    maps metric names to the bound whose breach is critical. ``fit``: the reference prepared once by
    :func:`fit_reference` (``ref_rows`` is then not read), so that many windows share one CBPE/DLE fit.
    Each comparison is decided alone (:func:`~mlwarden.performance.findings.decide_alone`; segments decide
    theirs jointly from :func:`measure_performance`). Raises :class:`InputError` when the mapping
    contradicts the data (misordered score columns, a reference label outside the score map, labels whose
    order cannot be known). Rules: docs/performance.md.
    """
    measured = measure_performance(ref_rows, cur_rows, mapping, slo, fit=fit)
    return measured.performance, decide_alone(measured.tests) + measured.findings, measured.notes


def measure_performance(
    ref_rows: pd.DataFrame | None,
    cur_rows: pd.DataFrame | None,
    mapping: ColumnMapping,
    slo: dict[str, float] | None = None,
    *,
    fit: ReferenceFit | None = None,
) -> Assessment:
    """What :func:`assess_performance` computes (same arguments and errors), its comparisons undecided."""
    out = Assessment()
    target = mapping.target
    if target is None or not mapping.outputs:
        return out
    fit = fit or fit_reference(ref_rows, mapping)
    cur_rows = _named_by_strings(cur_rows)
    reference = fit.reference
    current = labelled_rows(cur_rows, target)
    notes = out.notes
    if reference is None:
        notes.append("performance is estimated only from a labelled reference (data, not a saved profile)")
    elif cur_rows is None:
        notes.append("performance needs current rows, not a saved profile")
    if cur_rows is not None and current is None:
        notes.append(f"no labels in current data ('{target}'): realized performance not computed")
    if reference is None and current is None:
        return out
    model = fit.model or model_classes(mapping, None, cur_rows)
    notes += model.notes
    baseline = fit.baseline
    performance = out.performance
    if reference is not None and cur_rows is not None:
        performance["estimated"] = _estimated(fit, cur_rows, notes)
        unpredicted = _unpredicted_classes(cur_rows, mapping, model)
        if unpredicted:
            notes.append(
                f"current window predicts no row as class {', '.join(unpredicted)}: estimated macro "
                "precision/recall/F1 count that class as 0 and are not compared with the reference"
            )
        out.tests += performance_tests(
            "estimated",
            performance["estimated"],
            reference=baseline,
            slo=slo,
            incomparable=MACRO_METRICS if unpredicted else (),
        )
    if current is not None:
        realized = performance["realized"] = _realized(current, mapping, model, notes, side="current")
        absent = _absent_classes(current[target], model)
        incomparable = MACRO_METRICS if absent else ()
        out.tests += performance_tests(
            "realized", realized, reference=baseline, slo=slo, incomparable=incomparable
        )
        out.findings += estimate_mismatch(performance["estimated"], realized, incomparable=incomparable)
    return out


def realized_performance(
    data: pd.DataFrame,
    *,
    target: str | None = None,
    prediction: str | None = None,
    scores: list[str] | tuple[str, ...] = (),
    mapping: ColumnMapping | None = None,
) -> Metrics:
    """Realized metrics of one labelled frame, its classes taken from the frame itself (rows without a
    label are skipped). Give ``mapping`` or ``target``/``prediction``/``scores`` (see
    :class:`~mlwarden.schema.ColumnMapping`); raises :class:`InputError` for a column not in ``data``."""
    mapping = mapping or ColumnMapping(target=target, prediction=prediction, scores=list(scores) or None)
    for name in mapping.named_columns():
        if name not in data.columns:
            raise InputError(f"no column '{name}' in the labelled data")
    labelled = labelled_rows(data, mapping.target)
    if labelled is None:
        return {"n": 0.0}
    model = model_classes(mapping, labelled, None)
    return _realized(labelled, mapping, model, [], side="labelled data")


def _named_by_strings(rows: pd.DataFrame | None) -> pd.DataFrame | None:
    """Frames built from numpy arrays have integer column names; the mapping names columns by string."""
    if rows is None or all(isinstance(c, str) for c in rows.columns):
        return rows
    return rows.rename(columns=str)


def _keys_with_missing(values: pd.Series) -> np.ndarray:
    """Label keys, ``NaN`` where the value is missing (a row without a prediction)."""
    out = np.full(len(values), np.nan, dtype=object)
    present = values.notna().to_numpy()
    out[present] = label_keys(values[present])
    return out


def _present(rows: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> bool:
    return bool(columns) and all(c in rows.columns for c in columns)


def _realized(
    rows: pd.DataFrame, mapping: ColumnMapping, model: ModelClasses, notes: list[str], *, side: str
) -> Metrics:
    """Realized metrics of labelled ``rows``; adds to ``notes`` what was left out and why."""
    if model.task == "regression":
        return _realized_regression(rows, mapping, notes, side=side)
    pred = rows[mapping.prediction] if mapping.prediction in rows.columns else None
    scores = rows[list(model.score_columns)].to_numpy(float) if _present(rows, model.score_columns) else None
    classes = list(model.classes)
    positive = model.positive
    if model.binary and positive is None:
        notes.append(
            f"only one class ({', '.join(classes)}) is known: precision, recall, F1 and ROC AUC need "
            "positive_label"
        )
        positive, scores = classes[0] if classes else None, None
    truth = label_keys(rows[mapping.target])
    out = classification_metrics(
        truth, None if pred is None else _keys_with_missing(pred), scores, classes=classes, positive=positive
    )
    if model.binary and model.positive is None:
        out = {k: v for k, v in out.items() if not k.startswith(MACRO_METRICS)}
    outside = sorted(set(truth) - set(classes))
    if outside:
        notes.append(
            f"{side}: labels {', '.join(outside[:5])} are not classes of the model ({', '.join(classes)}): "
            "they count as wrong predictions"
        )
    absent = _absent_classes(truth, model)
    if absent and side == "current":
        notes.append(
            f"current window has no row of class {', '.join(absent)}: macro precision/recall/F1 count that "
            "class as 0 (sklearn's zero_division=0) and ROC AUC is undefined; they are not compared with "
            "the reference or the estimate"
        )
    _note_left_out(out, notes, side=side, what="realized", reason="a non-finite score (NaN or ±inf)")
    return out


def _realized_regression(
    rows: pd.DataFrame, mapping: ColumnMapping, notes: list[str], *, side: str
) -> Metrics:
    if mapping.prediction not in rows.columns:
        notes.append("regression performance needs the prediction column")
        return {}
    y = _floats(rows[mapping.target], "target")
    pred = _floats(rows[mapping.prediction], "prediction")
    finite = np.isfinite(y) & np.isfinite(pred)
    out = regression_metrics(y[finite], pred[finite])
    out["n_scored"] = out["n"]
    out["n"] = float(y.size)
    _note_left_out(out, notes, side=side, what="realized", reason="a non-finite label or prediction")
    return out


def _floats(values: pd.Series, field: str) -> np.ndarray:
    try:
        return values.astype(float).to_numpy()
    except (TypeError, ValueError):
        example = next((v for v in values if as_number(label_key(v)) is None), values.iloc[0])
        raise InputError(f"{field} '{values.name}': regression needs numbers, got {example!r}") from None


def _unpredicted_classes(cur_rows: pd.DataFrame, mapping: ColumnMapping, model: ModelClasses) -> list[str]:
    """The multiclass model's classes that no current row is predicted as (by the prediction column): a
    small window's estimated macro metrics then hold a 0 for each, by definition rather than by a drop."""
    if mapping.prediction not in cur_rows.columns:
        return []
    predicted = cur_rows[mapping.prediction].dropna()
    return _absent_classes(predicted, model)


def _absent_classes(labels: np.ndarray | pd.Series, model: ModelClasses) -> list[str]:
    """The model's classes without any row in ``labels`` (multiclass only: binary metrics say None). The
    labels' keys are computed only then: it is a loop over the rows."""
    if model.task != "classification" or model.binary:
        return []
    keys = labels if isinstance(labels, np.ndarray) else label_keys(labels)
    return sorted(set(model.classes) - set(keys))


def _fit_estimator(fit: ReferenceFit, notes: list[str]) -> CBPE | DLE | None:
    """CBPE (classifier) or DLE (regression model) fitted on the labelled reference, or ``None`` with a note
    in ``notes`` saying why performance cannot be estimated."""
    reference, mapping, model = fit.reference, fit.mapping, fit.model
    if reference is None or model is None:
        return None
    if len(reference) < MIN_REFERENCE_ROWS:
        notes.append(
            f"performance not estimated nor compared with the reference: it has {len(reference)} labelled "
            f"rows, at least {MIN_REFERENCE_ROWS} are needed"
        )
        return None
    if model.task == "regression":
        return _fit_dle(reference, mapping, mapping.features(reference.columns))
    present = set(label_keys(reference[mapping.target]))
    if len(present) < 2:
        notes.append(
            f"the reference holds one class only ({', '.join(present)}): performance cannot be estimated"
        )
        return None
    unseen = [c for c in model.classes if c not in present]
    if unseen and not model.binary:
        notes.append(
            f"the reference has no row of class {', '.join(unseen)}: its calibrated probability is 0, so "
            "the estimated ROC AUC is undefined"
        )
    if not model.score_columns:
        notes.append("estimating classification performance needs the score column(s)")
        return None
    has_pred = mapping.prediction in reference.columns
    cbpe = CBPE(classes=None if model.binary else list(model.classes), positive=model.positive)
    return cbpe.fit(
        label_keys(reference[mapping.target]),
        reference[list(model.score_columns)].to_numpy(float),
        _keys_with_missing(reference[mapping.prediction]) if has_pred else None,
    )


def _fit_dle(reference: pd.DataFrame, mapping: ColumnMapping, features: list[str]) -> DLE:
    return DLE().fit(
        reference[features],
        _floats(reference[mapping.target], "target"),
        _floats(reference[mapping.prediction], "prediction"),
    )


def _estimated(fit: ReferenceFit, current: pd.DataFrame, notes: list[str]) -> Metrics:
    """The current window's estimated metrics from the reference's fitted estimator (notes say why not)."""
    estimator, fit_notes = fit.estimator()
    notes += fit_notes
    mapping = fit.mapping
    if isinstance(estimator, DLE):
        return _estimated_regression(fit, estimator, current, notes)
    if estimator is None:
        return {}
    columns = list(fit.model.score_columns)
    missing = [c for c in columns if c not in current.columns]
    if missing:
        notes.append(f"current has no score column {', '.join(missing)}: performance not estimated")
        return {}
    has_pred = mapping.prediction in fit.reference.columns and mapping.prediction in current.columns
    out = estimator.estimate(
        current[columns].to_numpy(float),
        _keys_with_missing(current[mapping.prediction]) if has_pred else None,
    )
    reason = "a non-finite score (NaN or ±inf)" + (" or no prediction" if has_pred else "")
    _note_left_out(out, notes, side="current", what="estimated", reason=reason)
    return out


def _estimated_regression(fit: ReferenceFit, dle: DLE, current: pd.DataFrame, notes: list[str]) -> Metrics:
    prediction = fit.mapping.prediction
    if prediction is None or prediction not in current.columns:
        notes.append("estimating regression performance needs the prediction column in current data")
        return {}
    features = [c for c in dle.features if c in current.columns]
    if len(features) < len(dle.features):  # a window lacking inputs: a loss model on the ones it has
        dle = _fit_dle(fit.reference, fit.mapping, features)
    return dle.estimate(current[features], _floats(current[prediction], "prediction"))


def _note_left_out(metrics: Metrics, notes: list[str], *, side: str, what: str, reason: str) -> None:
    """A note when rows were left out of the metrics: ``n`` rows, ``n_scored`` used (``n_predicted`` too)."""
    n = metrics.get("n")
    for key, why in (("n_scored", reason), ("n_predicted", "no prediction")):
        used = metrics.get(key)
        if n is not None and used is not None and used < n:
            notes.append(
                f"{what} performance ({side}): {int(n - used)} of {int(n)} rows have {why} and are left out "
                f"of the metrics that need it ({key} = {int(used)})"
            )
