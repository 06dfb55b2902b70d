"""Retrain triggers (DESIGN §5 ``retrain.triggers``): pure functions over a model's evaluated windows.

Each trigger answers "does it fire, and why" with the numbers behind the answer (a :class:`TriggerResult`):

- ``slo_breach``: the model's SLO was breached in each of the last ``slo_breach_windows`` evaluated
  windows — realized performance where the window had labels, estimated (CBPE/DLE) otherwise;
- ``important_drift``: the importance-weighted share of drifted features of the latest window
  (``Σ w_drifted / Σ w``, importances normalised to sum 1) reaches ``important_drift``;
- ``new_labels``: at least ``min_new_labels`` labelled rows arrived since the last retrain;
- ``schedule``: a time of the cron ``schedule`` passed since the last retrain.

Two guards hold every trigger back: ``cooldown`` (time since the last retrain) and ``min_rows`` (labelled
rows since the last retrain — too few to train on). :func:`plan` combines them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from mlwarden.errors import InputError
from mlwarden.schema.config import SLO_BOUND
from mlwarden.schema.retraining import Triggers


@dataclass(frozen=True)
class WindowStats:
    """What a trigger reads of one evaluated window (its stored summary): ``drift`` maps columns to drift
    scores, ``drifted`` lists the drifted features, ``estimated``/``realized`` map metrics to values and
    ``labelled`` counts the window's labelled rows."""

    start: datetime
    end: datetime
    rows: int = 0
    labelled: int = 0
    drift: Mapping[str, float] = field(default_factory=dict)
    drifted: Sequence[str] = ()
    estimated: Mapping[str, float] = field(default_factory=dict)
    realized: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_summary(cls, start: datetime, end: datetime, summary: Mapping[str, Any]) -> WindowStats:
        """From a stored window summary (``mlwarden.server.windows``)."""
        performance = summary.get("performance") or {}
        return cls(
            start=start,
            end=end,
            rows=int(summary.get("rows") or 0),
            labelled=int(summary.get("labelled") or 0),
            drift={k: float(v) for k, v in (summary.get("drift") or {}).items() if v is not None},
            drifted=tuple(summary.get("drifted_columns") or ()),
            estimated=_numbers(performance.get("estimated")),
            realized=_numbers(performance.get("realized")),
        )


@dataclass(frozen=True)
class TriggerResult:
    """One trigger or guard: ``fires`` (a guard "fires" when it holds the retrain back), ``reason`` (one line
    with the numbers), ``evidence`` (JSON-ready) and ``key``: what identifies this firing, so the same
    firing is notified once (``slo_breach@<window start>``, ``schedule@<cron time>``)."""

    name: str
    configured: bool
    fires: bool
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "trigger": self.name,
            "configured": self.configured,
            "fires": self.fires,
            "reason": self.reason,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class Plan:
    """Every trigger and guard, and ``due``: some trigger fires and no guard holds it back."""

    triggers: tuple[TriggerResult, ...]
    guards: tuple[TriggerResult, ...]

    @property
    def fired(self) -> list[TriggerResult]:
        return [t for t in self.triggers if t.fires]

    @property
    def due(self) -> bool:
        return bool(self.fired) and not any(g.fires for g in self.guards)

    def to_dict(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "fired": [t.name for t in self.fired],
            "triggers": [t.to_dict() for t in self.triggers],
            "guards": [g.to_dict() for g in self.guards],
        }


def slo_breach(windows: Sequence[WindowStats], slo: Mapping[str, float], needed: int | None) -> TriggerResult:
    """Fires when each of the last ``needed`` evaluated windows (oldest first in ``windows``) breaches an
    SLO of ``slo`` (``{metric: limit}``; the side of the limit from :data:`SLO_BOUND`), read from realized
    performance where the window has it, else from the estimate."""
    name = "slo_breach"
    if needed is None:
        return TriggerResult(name, False, False, "not configured (triggers.slo_breach_windows)")
    if not slo:
        return TriggerResult(name, True, False, "the model has no SLO to breach")
    recent = list(windows)[-needed:]
    breaches = [_breaches(w, slo) for w in recent]
    run = 0
    for found in reversed(breaches):
        if not found:
            break
        run += 1
    evidence = {
        "needed": needed,
        "consecutive": run,
        "windows": [
            {"start": w.start.isoformat(), "breaches": b} for w, b in zip(recent, breaches, strict=True)
        ],
    }
    fires = len(recent) >= needed and run >= needed
    latest = breaches[-1] if breaches else []
    detail = "; ".join(
        f"{b['source']} {b['metric']} {b['value']:.4g} {'<' if b['bound'] == 'min' else '>'} {b['limit']:.4g}"
        for b in latest
    )
    if fires:
        reason = f"SLO breached in the last {run} windows (needed {needed}): {detail}"
    elif not recent:
        reason = f"no evaluated window yet (needed {needed} in a row)"
    else:
        reason = f"SLO breached in the last {run} of {needed} windows needed" + (
            f": {detail}" if detail else ""
        )
    key = f"{name}@{recent[-1].start.isoformat()}" if fires else None
    return TriggerResult(name, True, fires, reason, evidence, key)


def _breaches(window: WindowStats, slo: Mapping[str, float]) -> list[dict[str, Any]]:
    out = []
    for metric, limit in slo.items():
        source, values = (
            ("realized", window.realized) if metric in window.realized else ("estimated", window.estimated)
        )
        value = values.get(metric)
        if value is None or not np.isfinite(value):
            continue
        bound = SLO_BOUND.get(metric, "min")
        if (value < limit) if bound == "min" else (value > limit):
            out.append({"metric": metric, "source": source, "value": value, "limit": limit, "bound": bound})
    return out


def important_drift(
    window: WindowStats | None, weights: Mapping[str, float], threshold: float | None
) -> TriggerResult:
    """Fires when the importance-weighted share of the latest window's drifted features reaches
    ``threshold``. ``weights`` are normalised importances of the features (see :func:`importance_weights`)."""
    name = "important_drift"
    if threshold is None:
        return TriggerResult(name, False, False, "not configured (triggers.important_drift)")
    if window is None:
        return TriggerResult(name, True, False, "no evaluated window yet")
    drifted = [c for c in window.drifted if weights.get(c, 0.0) > 0]
    share = float(sum(weights.get(c, 0.0) for c in drifted))
    top = sorted(drifted, key=lambda c: -weights[c])[:5]
    evidence = {
        "window": window.start.isoformat(),
        "weighted_share": share,
        "threshold": threshold,
        "drifted": {c: weights[c] for c in top},
    }
    named = ", ".join(f"{c} ({weights[c]:.2f})" for c in top)
    if share >= threshold:
        reason = f"drifted features weigh {share:.3f} of the importance (threshold {threshold:g}): {named}"
        return TriggerResult(name, True, True, reason, evidence, f"{name}@{window.start.isoformat()}")
    what = f": {named}" if named else ""
    reason = f"drifted features weigh {share:.3f} of the importance, below {threshold:g}{what}"
    return TriggerResult(name, True, False, reason, evidence)


def new_labels(labelled_since: int, needed: int | None, since: datetime | None) -> TriggerResult:
    """Fires when ``labelled_since`` (labelled rows since the last retrain) reaches ``needed``."""
    name = "new_labels"
    if needed is None:
        return TriggerResult(name, False, False, "not configured (triggers.min_new_labels)")
    when = f"since the last retrain ({since.isoformat()})" if since else "so far (no retrain yet)"
    evidence = {"labelled": labelled_since, "needed": needed, "since": since.isoformat() if since else None}
    fires = labelled_since >= needed
    reason = f"{labelled_since:,} labelled rows {when}; {'≥' if fires else '<'} {needed:,} needed"
    key = f"{name}@{since.isoformat() if since else 'start'}" if fires else None
    return TriggerResult(name, True, fires, reason, evidence, key)


def schedule(cron: str | None, now: datetime, last_retrain: datetime | None) -> TriggerResult:
    """Fires when the latest time of ``cron`` at or before ``now`` is after the last retrain (or there was
    none)."""
    name = "schedule"
    if cron is None:
        return TriggerResult(name, False, False, "not configured (triggers.schedule)")
    from croniter import croniter

    previous = croniter(cron, now).get_prev(datetime)
    if croniter.match(cron, now):
        previous = now.replace(second=0, microsecond=0)
    following = croniter(cron, now).get_next(datetime)
    evidence = {
        "cron": cron,
        "previous": previous.isoformat(),
        "next": following.isoformat(),
        "last_retrain": last_retrain.isoformat() if last_retrain else None,
    }
    if last_retrain is None or previous > last_retrain:
        since = f"last retrain {last_retrain.isoformat()}" if last_retrain else "no retrain yet"
        reason = f"scheduled at {previous.isoformat()} ({cron!r}); {since}"
        return TriggerResult(name, True, True, reason, evidence, f"{name}@{previous.isoformat()}")
    reason = f"next at {following.isoformat()} ({cron!r}); last retrain {last_retrain.isoformat()}"
    return TriggerResult(name, True, False, reason, evidence)


def cooldown(now: datetime, last_retrain: datetime | None, config: Triggers) -> TriggerResult:
    """Holds retrains back while less than ``cooldown`` has passed since the last one."""
    name = "cooldown"
    wait = config.cooldown
    if not wait:
        return TriggerResult(name, False, False, "no cooldown")
    if last_retrain is None:
        return TriggerResult(name, True, False, "no retrain yet")
    passed = now - last_retrain
    evidence = {"cooldown_seconds": wait.total_seconds(), "since_seconds": passed.total_seconds()}
    if passed < wait:
        until = (last_retrain + wait).isoformat()
        reason = f"last retrain {_human(passed)} ago, cooldown {_human(wait)}: wait until {until}"
        return TriggerResult(name, True, True, reason, evidence)
    return TriggerResult(
        name, True, False, f"last retrain {_human(passed)} ago ≥ cooldown {_human(wait)}", evidence
    )


def minimum_data(labelled_since: int, config: Triggers) -> TriggerResult:
    """Holds retrains back while fewer than ``min_rows`` labelled rows arrived since the last retrain."""
    name = "min_rows"
    if not config.min_rows:
        return TriggerResult(name, False, False, "no minimum")
    evidence = {"labelled": labelled_since, "min_rows": config.min_rows}
    if labelled_since < config.min_rows:
        reason = f"{labelled_since:,} labelled rows to train on, fewer than min_rows {config.min_rows:,}"
        return TriggerResult(name, True, True, reason, evidence)
    return TriggerResult(
        name, True, False, f"{labelled_since:,} labelled rows ≥ {config.min_rows:,}", evidence
    )


def plan(
    config: Triggers,
    windows: Sequence[WindowStats],
    *,
    slo: Mapping[str, float],
    weights: Mapping[str, float],
    labelled_since: int,
    last_retrain: datetime | None,
    now: datetime,
) -> Plan:
    """Every trigger and guard of ``config`` over ``windows`` (evaluated windows, oldest first)."""
    latest = windows[-1] if windows else None
    triggers = (
        slo_breach(windows, slo, config.slo_breach_windows),
        important_drift(latest, weights, config.important_drift),
        new_labels(labelled_since, config.min_new_labels, last_retrain),
        schedule(config.schedule, now, last_retrain),
    )
    guards = (cooldown(now, last_retrain, config), minimum_data(labelled_since, config))
    return Plan(triggers, guards)


def importance_weights(
    features: Sequence[str],
    *,
    importances: Mapping[str, float] | None = None,
    estimator: Any = None,
    reference: Any = None,
    target: str | None = None,
    seed: int = 0,
    repeats: int = 5,
) -> dict[str, float]:
    """Normalised importances (summing to 1) of ``features``, from the first source given:

    1. ``importances`` (``{feature: weight ≥ 0}``; features it leaves out weigh 0);
    2. ``estimator``'s ``feature_importances_`` (trees) or ``|coef_|`` (linear models; the mean over
       classes), in the order of ``feature_names_in_`` (else of ``features``);
    3. permutation importance of ``estimator`` on the labelled ``reference`` frame (``target`` its label
       column), scikit-learn's ``permutation_importance`` (Breiman 2001; ``repeats`` shuffles, seeded),
       negative importances counted as 0;
    4. nothing: every feature weighs the same.

    Raises :class:`InputError` when the source has no positive weight or its shape does not match.
    """
    features = list(features)
    if not features:
        return {}
    if importances is not None:
        raw = {f: float(importances.get(f, 0.0)) for f in features}
    elif estimator is not None and reference is None:
        raw = _fitted_importances(estimator, features)
    elif estimator is not None:
        if target is None or target not in reference:
            raise InputError(f"target: the labelled reference has no column {target!r}")
        from sklearn.inspection import permutation_importance

        result = permutation_importance(
            estimator, reference[features], reference[target], n_repeats=repeats, random_state=seed
        )
        raw = dict(zip(features, np.clip(result.importances_mean, 0, None).tolist(), strict=True))
    else:
        raw = dict.fromkeys(features, 1.0)
    total = sum(raw.values())
    if not total > 0:
        raise InputError("importances: no feature has an importance above 0")
    return {f: w / total for f, w in raw.items()}


def _fitted_importances(estimator: Any, features: list[str]) -> dict[str, float]:
    if hasattr(estimator, "feature_importances_"):
        values = np.asarray(estimator.feature_importances_, dtype=float)
    elif hasattr(estimator, "coef_"):
        coef = np.abs(np.asarray(estimator.coef_, dtype=float))
        values = coef.mean(axis=0) if coef.ndim == 2 else coef
    else:
        raise InputError("estimator: has neither feature_importances_ nor coef_; pass reference= and target=")
    names = list(getattr(estimator, "feature_names_in_", features))
    if len(names) != values.size:
        raise InputError(f"estimator: {values.size} importances for {len(names)} features")
    found = dict(zip(names, values.tolist(), strict=True))
    return {f: found.get(f, 0.0) for f in features}


def _numbers(values: Any) -> dict[str, float]:
    out = {}
    for key, value in (values or {}).items():
        if isinstance(value, int | float) and not isinstance(value, bool) and np.isfinite(value):
            out[key] = float(value)
    return out


def _human(delta: Any) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if (seconds >= size and seconds % size == 0) or seconds >= 10 * size:
            return f"{seconds / size:.3g}{unit}"
    return f"{seconds}s"
