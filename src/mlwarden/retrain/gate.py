"""The champion/challenger gate: should the challenger replace the champion? (DESIGN.md §8; docs/retrain.md)

Both models are compared on the same labelled rows with a paired test — DeLong for ROC AUC, McNemar for
accuracy, the paired stratified bootstrap for every other metric — overall and per slice value. With
``alpha = 1 − confidence`` and the *improvement* = challenger − champion (champion − challenger for error
metrics, where lower is better):

- **promote** when the paired test rejects "no difference" (``p < alpha``), the lower end of the
  improvement's two-sided ``confidence`` interval is above ``min_improvement``, and no slice regressed;
- **reject** when the challenger is significantly worse overall (``p < alpha`` and the whole interval of the
  improvement below 0) or any slice regressed;
- **hold** otherwise: the improvement is not proven.

A slice value is *judged* when it has at least ``min_slice_rows`` rows and the metric is defined for both
models on them. Each judged slice gets a Bonferroni interval at level ``1 − alpha / m`` (``m`` judged slice
values over all slice columns), and **regressed** means the whole interval of the improvement lies below
``−max_slice_regression``: the challenger is worse on that slice by more than the limit *with confidence*,
so a slice whose point estimate is worse by noise does not reject. Two models with the same outputs are
never promoted: every interval of a zero difference contains 0 and every p-value is 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from mlwarden.errors import InputError
from mlwarden.retrain.bootstrap import DRAWS, mean_draws, percentile_interval, table_draws
from mlwarden.retrain.delong import delong
from mlwarden.retrain.mcnemar import mcnemar
from mlwarden.retrain.metrics import (
    METRICS,
    TABLE_METRICS,
    Metric,
    finish,
    metric_value,
    row_losses,
    table_metric,
)
from mlwarden.retrain.outputs import Model, PairedOutputs, labelled, paired_outputs
from mlwarden.retrain.result import GateResult, SliceResult

MAX_SLICE_VALUES = 100  # a slice column with more distinct values is an identifier, not a segment


@dataclass(frozen=True)
class PairedTest:
    """A paired test's interval of challenger − champion, its two-sided p-value and the test's name."""

    ci: tuple[float, float] | None
    p_value: float | None
    test: str


def gate(
    frame: pd.DataFrame | str | Path,
    *,
    target: str,
    champion: Model | None,
    challenger: Model,
    metric: str = "roc_auc",
    slices: Sequence[str] | str = (),
    min_improvement: float = 0.0,
    max_slice_regression: float = 0.02,
    min_slice_rows: int = 200,
    confidence: float = 0.95,
    positive_label: object = None,
    seed: int = 0,
    bootstrap_first: bool = False,
) -> GateResult:
    """Decide whether ``challenger`` replaces ``champion`` on the labelled rows of ``frame``.

    ``frame``: a DataFrame (or a CSV/Parquet path) with the ``target`` column, the ``slices`` columns and
    the models' output columns. ``champion`` and ``challenger``: each a column name — a P(positive class)
    score for ``roc_auc``, ``log_loss``, ``brier`` (binary targets); a predicted label for ``accuracy``,
    ``precision``, ``recall``, ``f1`` (a binary score column is decided at 0.5); a predicted value for
    ``mae``, ``rmse``, ``mape`` — or a fitted estimator, applied to the feature columns (every column but
    the target, the slices and the named output columns) with ``predict_proba`` or ``predict``.
    ``min_improvement`` (≥ 0) and ``max_slice_regression`` (≥ 0) are on the metric's scale;
    ``confidence`` in (0, 1) is the two-sided level of the overall interval; ``positive_label`` the
    positive class of a binary target (default: the larger label); ``seed`` seeds the bootstrap.
    ``champion=None`` with ``bootstrap_first=True`` accepts the first model of a registry explicitly
    (decision ``promote``, test ``none``).

    Returns a :class:`GateResult`. Raises :class:`InputError` (one line naming the argument or column) on
    an unknown metric, an out-of-range parameter, a missing column, a target or output of the wrong kind,
    or no champion without ``bootstrap_first``.
    """
    spec = _metric(metric)
    slices = (slices,) if isinstance(slices, str) else tuple(slices)
    _check_parameters(confidence, min_improvement, max_slice_regression, min_slice_rows)
    if champion is None and not bootstrap_first:
        raise InputError(
            "champion: none given; to accept a first model without comparison pass bootstrap_first=True "
            "(CLI --bootstrap-first)"
        )
    if isinstance(frame, str | Path):
        from mlwarden.profile.io import read_table

        frame = read_table(frame)
    rows, unlabelled = labelled(frame, target)
    groups = _slice_groups(rows, slices, target)
    outputs = paired_outputs(
        rows,
        target=target,
        champion=champion,
        challenger=challenger,
        metric=spec,
        slices=slices,
        positive_label=positive_label,
    )
    settings = {
        "confidence": confidence,
        "min_improvement": min_improvement,
        "max_slice_regression": max_slice_regression,
        "min_slice_rows": min_slice_rows,
        "slices": list(slices),
        "target": target,
        "positive_label": None if outputs.positive is None else outputs.classes[outputs.positive],
        "bootstrap_draws": DRAWS if spec.test == "bootstrap" else None,
        "seed": seed,
    }
    notes = [f"{unlabelled:,} rows without a label in {target!r} left out"] if unlabelled else []
    if outputs.champion is None:
        return _rubber_stamp(spec, outputs, groups, notes, settings)
    return _judge(spec, outputs, groups, notes, settings, seed)


def _judge(
    spec: Metric,
    outputs: PairedOutputs,
    groups: list[tuple[str, object, np.ndarray]],
    notes: list[str],
    settings: dict,
    seed: int,
) -> GateResult:
    confidence = settings["confidence"]
    alpha = 1.0 - confidence
    champion, challenger = _values(spec, outputs)
    overall = paired_test(spec, outputs, confidence, np.random.default_rng([seed, 0]))
    delta = None if champion is None or challenger is None else challenger - champion
    slices, slice_level, judged = _judge_slices(spec, outputs, groups, settings, seed)
    settings = {**settings, "slice_confidence": slice_level, "judged_slices": judged}

    regressed = [s for s in slices if s.regressed]
    reasons = [_regression_reason(s, slice_level, settings) for s in regressed]  # decisive ones first
    better = worse = False
    if np.array_equal(outputs.champion, outputs.challenger):
        reasons.append("champion and challenger give the same output on every row")
    elif delta is None:
        reasons.append(f"{spec.name} is undefined on these rows for the {_undefined(champion, challenger)}")
    elif overall.ci is None or overall.p_value is None:
        reasons.append(f"no {overall.test} interval: too few rows of a class to compare the models")
    else:
        low, high = _improvement(spec, overall.ci)
        significant = overall.p_value < alpha
        better = significant and low > settings["min_improvement"]
        worse = significant and high < 0
        reasons.append(
            _overall_reason(spec, champion, challenger, overall, confidence, better, worse, settings)
        )
    if groups:
        reasons.append(_slices_reason(slices, judged, regressed, slice_level, settings))
    decision = "reject" if worse or regressed else "promote" if better else "hold"
    return GateResult(
        decision=decision,
        metric=spec.name,
        test=overall.test,
        n=len(outputs.truth),
        champion=champion,
        challenger=challenger,
        delta=delta,
        ci=overall.ci,
        p_value=overall.p_value,
        slices=tuple(slices),
        reasons=tuple(reasons + notes),
        settings=settings,
    )


def _judge_slices(
    spec: Metric,
    outputs: PairedOutputs,
    groups: list[tuple[str, object, np.ndarray]],
    settings: dict,
    seed: int,
) -> tuple[list[SliceResult], float, int]:
    """Every slice value with both models' metric and its interval at the Bonferroni level
    ``1 − alpha / m``, ``m`` the judged slice values: those with at least ``min_slice_rows`` rows, the
    metric defined for both models and the test possible (DeLong: two rows of each class). Only judged
    ones get ``regressed``. Returns the slices, the level and ``m``."""
    subsets = [outputs.subset(rows) for _, _, rows in groups]
    values = [_values(spec, subset) for subset in subsets]
    judgeable = [
        len(subset.truth) >= settings["min_slice_rows"] and None not in pair and _testable(spec, subset)
        for subset, pair in zip(subsets, values, strict=True)
    ]
    m = sum(judgeable)
    level = 1.0 - (1.0 - settings["confidence"]) / max(m, 1)
    slices = []
    for i, ((column, value, rows), subset, (a, b), judge) in enumerate(
        zip(groups, subsets, values, judgeable, strict=True), start=1
    ):
        test = paired_test(spec, subset, level, np.random.default_rng([seed, i]))
        regressed = None
        if judge and test.ci is not None:
            regressed = bool(_improvement(spec, test.ci)[1] < -settings["max_slice_regression"])
        delta = None if a is None or b is None else b - a
        slices.append(SliceResult(column, value, len(rows), a, b, delta, test.ci, regressed))
    return slices, level, m


def _regression_reason(s: SliceResult, level: float, settings: dict) -> str:
    assert s.delta is not None and s.ci is not None
    return (
        f"challenger is worse on {s.column}={s.value} by {abs(s.delta):.3g} "
        f"(limit {settings['max_slice_regression']:g}; {_pct(level)} CI of the difference "
        f"{s.ci[0]:+.3g} to {s.ci[1]:+.3g})"
    )


def _testable(spec: Metric, outputs: PairedOutputs) -> bool:
    """Whether the paired test has what it needs: DeLong's variance needs two rows of each class."""
    if spec.test != "delong":
        return True
    positives = int(np.count_nonzero(outputs.truth == outputs.positive))
    return min(positives, len(outputs.truth) - positives) >= 2


def paired_test(
    spec: Metric, outputs: PairedOutputs, confidence: float, rng: np.random.Generator
) -> PairedTest:
    """The interval (two-sided, level ``confidence``) of challenger − champion and the p-value of "no
    difference", by ``spec``'s paired test. ``ci``/``p_value`` are ``None`` when the test is impossible (a
    class with fewer than two rows for DeLong, the metric undefined on most bootstrap resamples)."""
    a, b = outputs.champion, outputs.challenger
    assert a is not None
    if spec.test == "delong":
        if not _testable(spec, outputs):
            return PairedTest(None, None, "delong")
        result = delong(outputs.truth == outputs.positive, a, b)
        difference = result.aucs[1] - result.aucs[0]
        return PairedTest(*_normal_test(difference, result.variance, confidence), "delong")
    if spec.test == "mcnemar":
        result = mcnemar(outputs.truth == a, outputs.truth == b)
        return PairedTest(
            result.interval(confidence), result.p_value, "mcnemar_exact" if result.exact else "mcnemar"
        )
    differences = _bootstrap_differences(spec, outputs, rng)
    summary = percentile_interval(differences, confidence)
    return PairedTest(*(summary or (None, None)), "bootstrap")


def _normal_test(
    difference: float, variance: float, confidence: float
) -> tuple[tuple[float, float] | None, float | None]:
    if not np.isfinite(variance):
        return None, None
    se = float(np.sqrt(variance))
    if se == 0.0:  # identical rankings, or both perfect: no uncertainty about a difference of exactly 0
        return (difference, difference), 1.0 if difference == 0 else 0.0
    z = float(norm.ppf(0.5 + confidence / 2))
    return (difference - z * se, difference + z * se), float(2 * norm.sf(abs(difference) / se))


def _bootstrap_differences(spec: Metric, outputs: PairedOutputs, rng: np.random.Generator) -> np.ndarray:
    """``DRAWS`` resampled values of challenger − champion (``NaN`` where a resample leaves it undefined)."""
    a, b, truth = outputs.champion, outputs.challenger, outputs.truth
    assert a is not None
    if spec.name in TABLE_METRICS:
        table_a, table_b = table_draws(truth, a, b, outputs.k, DRAWS, rng)
        with np.errstate(divide="ignore", invalid="ignore"):
            return table_metric(spec.name, table_b, outputs.positive) - table_metric(
                spec.name, table_a, outputs.positive
            )
    loss_a = row_losses(spec.name, truth, a, outputs.positive)
    loss_b = row_losses(spec.name, truth, b, outputs.positive)
    if spec.task == "classification":
        strata = [rows for rows in (np.flatnonzero(truth == c) for c in range(outputs.k)) if rows.size]
    else:
        strata = [np.arange(truth.size)]
    if spec.name == "rmse":  # not a mean of per-row differences: resample both means
        means = finish(spec.name, mean_draws([loss_a, loss_b], strata, DRAWS, rng))
        return means[:, 1] - means[:, 0]
    return mean_draws([loss_b - loss_a], strata, DRAWS, rng)[:, 0]


def _values(spec: Metric, outputs: PairedOutputs) -> tuple[float | None, float | None]:
    def value(predicted: np.ndarray | None) -> float | None:
        if predicted is None:
            return None
        v = metric_value(spec.name, outputs.truth, predicted, outputs.k, outputs.positive)
        return v if np.isfinite(v) else None

    return value(outputs.champion), value(outputs.challenger)


def _improvement(spec: Metric, ci: tuple[float, float]) -> tuple[float, float]:
    """The interval of the improvement: ``ci`` of challenger − champion, negated for error metrics."""
    return ci if spec.higher_is_better else (-ci[1], -ci[0])


def _overall_reason(
    spec: Metric,
    champion: float,
    challenger: float,
    test: PairedTest,
    confidence: float,
    better: bool,
    worse: bool,
    settings: dict,
) -> str:
    assert test.ci is not None and test.p_value is not None
    low, high = _improvement(spec, test.ci)
    evidence = (
        f"{spec.name} {champion:.4g} → {challenger:.4g}; {_pct(confidence)} CI of the improvement "
        f"{low:+.3g} to {high:+.3g}{'' if spec.higher_is_better else ' (lower is better)'}; "
        f"{test.test} p = {test.p_value:.2g}"
    )
    minimum = settings["min_improvement"]
    if better:
        return f"challenger is better overall ({evidence}), above the minimum improvement {minimum:g}"
    if worse:
        return f"challenger is worse overall ({evidence})"
    if test.p_value >= 1.0 - confidence:
        return f"improvement not proven: no significant difference ({evidence})"
    return f"improvement not proven: its lower bound is not above the minimum {minimum:g} ({evidence})"


def _slices_reason(
    slices: list[SliceResult], judged: int, regressed: list[SliceResult], level: float, settings: dict
) -> str:
    unjudged = sum(s.regressed is None for s in slices)
    text = (
        f"{judged} slice value{'s' * (judged != 1)} judged, each at {_pct(level)} "
        f"(Bonferroni over {judged}); "
        f"{len(regressed)} regressed by more than {settings['max_slice_regression']:g}"
    )
    if unjudged:
        text += (
            f"; {unjudged} reported, not judged (under {settings['min_slice_rows']} rows, the metric "
            "undefined or, for DeLong, fewer than two rows of a class)"
        )
    return text


def _rubber_stamp(
    spec: Metric,
    outputs: PairedOutputs,
    groups: list[tuple[str, object, np.ndarray]],
    notes: list[str],
    settings: dict,
) -> GateResult:
    """The explicit acceptance of a first model: its metric, overall and per slice, without comparison."""
    _, challenger = _values(spec, outputs)
    slices = tuple(
        SliceResult(column, value, len(rows), None, _values(spec, outputs.subset(rows))[1], None, None, None)
        for column, value, rows in groups
    )
    shown = "undefined" if challenger is None else f"{challenger:.4g}"
    reason = (
        f"no champion: the challenger ({spec.name} {shown}) is accepted as the first model by "
        "bootstrap-first, without a comparison"
    )
    return GateResult(
        decision="promote",
        metric=spec.name,
        test="none",
        n=len(outputs.truth),
        champion=None,
        challenger=challenger,
        delta=None,
        ci=None,
        p_value=None,
        slices=slices,
        reasons=(reason, *notes),
        settings=settings,
    )


def _slice_groups(
    rows: pd.DataFrame, slices: tuple[str, ...], target: str
) -> list[tuple[str, object, np.ndarray]]:
    """(column, value, row numbers) for every value of every slice column, values in sorted order, a
    missing value (``None``) last."""
    groups = []
    for column in dict.fromkeys(slices):
        if column not in rows.columns:
            raise InputError(f"slice: no column {column!r} in the data")
        if column == target:
            raise InputError(f"slice {column!r}: is the target; slice by a feature or segment column")
        series = rows[column]
        try:
            codes, uniques = pd.factorize(series, sort=True)
        except TypeError:  # values of mixed types have no order
            codes, uniques = pd.factorize(series)
        if len(uniques) > MAX_SLICE_VALUES:
            raise InputError(
                f"slice {column!r}: {len(uniques):,} distinct values; slice by a column with at most "
                f"{MAX_SLICE_VALUES}"
            )
        codes = np.where(codes < 0, len(uniques), codes)
        order = np.argsort(codes, kind="stable")
        bounds = np.cumsum(np.bincount(codes, minlength=len(uniques) + 1))
        values = [*(_plain(u) for u in uniques), None]
        for code, rows_of_value in enumerate(np.split(order, bounds[:-1])):
            if rows_of_value.size:
                groups.append((column, values[code], rows_of_value))
    return groups


def _plain(value: object) -> object:
    """A slice value as JSON shows it: a Python scalar, a timestamp as ISO text."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _metric(name: str) -> Metric:
    if name not in METRICS:
        raise InputError(f"metric: unknown {name!r}; expected one of {', '.join(METRICS)}")
    return METRICS[name]


def _check_parameters(
    confidence: float, min_improvement: float, max_slice_regression: float, min_slice_rows: int
) -> None:
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence: expected a number between 0 and 1, got {confidence}")
    if not min_improvement >= 0.0:
        raise InputError(f"min_improvement: expected a number ≥ 0, got {min_improvement}")
    if not max_slice_regression >= 0.0:
        raise InputError(f"max_slice_regression: expected a number ≥ 0, got {max_slice_regression}")
    if min_slice_rows < 1:
        raise InputError(f"min_slice_rows: expected a positive number of rows, got {min_slice_rows}")


def _undefined(champion: float | None, challenger: float | None) -> str:
    if champion is None and challenger is None:
        return "champion and the challenger"
    return "champion" if champion is None else "challenger"


def _pct(level: float) -> str:
    return f"{100 * level:.4g} %"
