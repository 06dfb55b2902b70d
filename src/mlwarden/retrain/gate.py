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

A slice value is *judged* when it has at least ``min_slice_rows`` rows, the metric is defined for both
models on them and the test is possible (DeLong: two rows of each class). Each judged slice gets a
Bonferroni interval at level ``1 − alpha / m`` (``m`` judged slice values over all slice columns), and
**regressed** means the whole interval of the improvement lies below ``−max_slice_regression``: the
challenger is worse on that slice by more than the limit *with confidence*, so a slice whose point
estimate is worse by noise does not reject. Two models with the same outputs are
never promoted: every interval of a zero difference contains 0 and every p-value is 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mlwarden.errors import InputError
from mlwarden.retrain.bootstrap import DRAWS
from mlwarden.retrain.metrics import METRICS, Metric
from mlwarden.retrain.outputs import Model, PairedOutputs, labelled, paired_outputs
from mlwarden.retrain.paired import PairedTest, metric_values, paired_test, testable
from mlwarden.retrain.result import GateResult, SliceResult
from mlwarden.retrain.slices import slice_groups


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
    groups = slice_groups(rows, slices, target)
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
    champion, challenger = metric_values(spec, outputs)
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
    values = [metric_values(spec, subset) for subset in subsets]
    judgeable = [
        len(subset.truth) >= settings["min_slice_rows"] and None not in pair and testable(spec, subset)
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
    _, challenger = metric_values(spec, outputs)
    slices = tuple(
        SliceResult(
            column, value, len(rows), None, metric_values(spec, outputs.subset(rows))[1], None, None, None
        )
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
