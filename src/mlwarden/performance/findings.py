"""Turn performance numbers into findings: SLO breaches, drops from the reference, estimate vs realized.

Every comparison of a metric with its SLO or with the reference is a :class:`PerformanceTest`: its effect
(beyond the limit, or a drop larger than ``drop``/``rise``) and its evidence (how many standard errors the
value lies beyond what it is compared with). The whole data decides each test alone
(:func:`performance_findings`); segments decide all their tests together (:func:`decide_jointly`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.stats import norm

from mlwarden.drift.multiple_testing import holm
from mlwarden.findings import Finding, Severity

HIGHER_IS_BETTER = ("roc_auc", "accuracy", "precision", "recall", "f1")
LOWER_IS_BETTER = ("mae", "rmse", "mape")
Z95 = 1.959963984540054  # the bands are 95 %: a half-width is Z95 standard errors
# The whole data: a drop must lie beyond Z99 standard errors (the 1 % two-sided level, since up to five
# metrics per kind are judged in every report).
Z99 = 2.5758293035489004
# Segments: the same level, one-sided, held family-wise over every segment × kind × metric test (Holm).
SEGMENT_ALPHA = 0.005


@dataclass(frozen=True, slots=True)
class PerformanceTest:
    """One metric of one kind ("estimated" or "realized") against its SLO (``hypothesis="slo"``) or the
    reference (``"drop"``).

    ``effect``: the value breaches the limit, or fell more than ``drop`` (rose more than ``rise``) from the
    reference's; ``z``: the evidence, in standard errors (95 % half-width / 1.96) by which the value lies
    beyond the limit (the current's error alone) or below the reference's (root sum of squares of both
    facing errors); negative when it lies on the good side; ``None`` when no band bounds it.
    """

    kind: str
    metric: str
    hypothesis: Literal["slo", "drop"]
    value: float
    threshold: float
    effect: bool
    z: float | None
    reference: float | None = None

    @property
    def p_value(self) -> float:
        """One-sided normal p-value of ``z`` (no change beyond the limit or from the reference); 1 without
        a ``z``."""
        return 1.0 if self.z is None else float(norm.sf(self.z))

    def finding(self, **evidence: float) -> Finding:
        """The finding this test raises: critical for an SLO breach, a warning for a drop."""
        higher = self.metric in HIGHER_IS_BETTER
        if self.hypothesis == "slo":
            op, bound = ("<", "≥") if higher else (">", "≤")
            return Finding(
                check=f"performance.{self.kind}",
                severity=Severity.CRITICAL,
                message=f"{self.kind} {self.metric} {self.value:.3f} {op} {self.threshold}: breaches the SLO "
                f"({self.metric} {bound} {self.threshold})",
                value=self.value,
                threshold=self.threshold,
                evidence={"metric": self.metric, **evidence},
            )
        if higher:
            change = f"fell to {self.value:.3f} from {self.reference:.3f} on the reference"
        else:
            change = f"rose to {self.value:.4g} from {self.reference:.4g} on the reference"
        return Finding(
            check=f"performance.{self.kind}",
            severity=Severity.WARNING,
            message=f"{self.kind} {self.metric} {change}",
            value=self.value,
            threshold=self.threshold,
            evidence={"metric": self.metric, "reference": self.reference, **evidence},
        )


def performance_tests(
    kind: str,
    metrics: dict[str, float | None],
    *,
    reference: dict[str, float | None] | None = None,
    slo: dict[str, float] | None = None,
    drop: float = 0.05,
    rise: float = 0.2,
    incomparable: Collection[str] = (),
) -> list[PerformanceTest]:
    """Every SLO and reference comparison of ``metrics`` of ``kind``, in metric order, decided or not.

    An SLO test for each metric with a limit (``slo["roc_auc"] = 0.8``: at least 0.8; for MAE/RMSE/MAPE: at
    most); a drop test for each metric with a reference value, unless in ``incomparable`` (macro averages
    over a window that lacks a class, see :func:`mlwarden.performance.assess_performance`). Evidence: the
    current's half-width on the side facing the limit or reference and, for a drop, the reference's on the
    side facing the current, each divided by 1.96. A metric without a band has no evidence against its SLO
    (``z`` ``None``); against the reference, a score-like one has none either, while an error metric
    without one (a single row) counts its side as exact (the whole data's rule, :func:`decide_alone`).
    """
    out: list[PerformanceTest] = []
    for name in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER):
        value = metrics.get(name)
        if value is None:
            continue
        higher = name in HIGHER_IS_BETTER
        towards, away = ("upper", "lower") if higher else ("lower", "upper")
        sign = 1.0 if higher else -1.0  # z > 0: worse than the limit or the reference
        cur_half = _half(metrics, name, towards)
        limit = (slo or {}).get(name)
        if limit is not None:
            se = None if cur_half is None else cur_half / Z95
            out.append(
                PerformanceTest(
                    kind,
                    name,
                    "slo",
                    value,
                    limit,
                    effect=value < limit if higher else value > limit,
                    z=_z(sign * (limit - value), se),
                )
            )
        base = (reference or {}).get(name)
        if base is None or name in incomparable:
            continue
        se = None
        if cur_half is not None or not higher:
            ref_half = _half(reference or {}, name, away) or 0.0
            se = ((cur_half or 0.0) ** 2 + ref_half**2) ** 0.5 / Z95
        out.append(
            PerformanceTest(
                kind,
                name,
                "drop",
                value,
                base - drop if higher else base * (1 + rise),
                effect=value < base - drop if higher else value > base * (1 + rise),
                z=_z(sign * (base - value), se),
                reference=base,
            )
        )
    return out


def performance_findings(
    kind: str,
    metrics: dict[str, float | None],
    *,
    reference: dict[str, float | None] | None = None,
    slo: dict[str, float] | None = None,
    drop: float = 0.05,
    rise: float = 0.2,
    incomparable: Collection[str] = (),
) -> list[Finding]:
    """Findings for ``metrics`` of ``kind`` ("estimated" or "realized"), each metric decided alone
    (:func:`decide_alone` of :func:`performance_tests`, same arguments).

    Critical when a metric breaches its SLO. A warning when a score-like metric fell more than ``drop``
    (absolute) below the reference's, or an error metric rose more than ``rise`` (relative) above it — and
    the change exceeds ``Z99`` standard errors (the root sum of squares of the two facing 95 % half-widths,
    widened from 95 % to a 1 % level), so the noise of *both* samples does not raise it. A score-like metric
    without a band (multiclass macro averages, a window too small to bound) raises no drop warning; an error
    metric without one (a single row) is guarded by the reference's band alone. Metrics in ``incomparable``
    get SLO findings only.
    """
    tests = performance_tests(
        kind, metrics, reference=reference, slo=slo, drop=drop, rise=rise, incomparable=incomparable
    )
    return decide_alone(tests)


def decide_alone(tests: Sequence[PerformanceTest]) -> list[Finding]:
    """The whole data's rule, per metric: an SLO breach is critical (whatever its evidence: the limit is
    the owner's); otherwise a drop is a warning when its ``z`` exceeds ``Z99``."""
    breached = {(t.kind, t.metric) for t in tests if t.hypothesis == "slo" and t.effect}

    def raised(test: PerformanceTest) -> bool:
        if test.hypothesis == "slo":
            return test.effect
        unbreached = (test.kind, test.metric) not in breached
        return unbreached and test.effect and test.z is not None and test.z > Z99

    return [test.finding() for test in tests if raised(test)]


def decide_jointly(
    families: Sequence[Sequence[PerformanceTest]], alpha: float = SEGMENT_ALPHA
) -> tuple[list[list[Finding]], list[list[str]]]:
    """Segments' rule: every test of every family (one family per segment) in one Holm correction
    (family-wise error rate ``alpha``; Holm 1979, valid whatever the dependence between the metrics), then
    per metric: an SLO breach whose adjusted p-value is below ``alpha`` is critical, else a drop whose
    adjusted p-value is below ``alpha`` is a warning. Tests without evidence (``z`` ``None``) count in no
    correction and raise no finding; one with an effect gets a note. Findings carry ``p_value`` and
    ``p_adjusted`` in their evidence. Returns ``(findings, notes)`` per family."""
    flat = [t for tests in families for t in tests]
    adjusted = holm([t.p_value if t.z is not None else np.nan for t in flat])
    findings: list[list[Finding]] = []
    notes: list[list[str]] = []
    at = 0
    for tests in families:
        decided = list(zip(tests, adjusted[at : at + len(tests)], strict=True))
        at += len(tests)
        found = {
            (t.kind, t.metric): (t, p) for t, p in decided if t.hypothesis == "slo" and t.effect and p < alpha
        }
        for t, p in decided:
            if t.hypothesis == "drop" and t.effect and p < alpha:
                found.setdefault((t.kind, t.metric), (t, p))
        findings.append([t.finding(p_value=t.p_value, p_adjusted=float(p)) for t, p in found.values()])
        notes.append(
            [
                f"{t.kind} {t.metric} {t.value:.3f}: beyond its "
                f"{'SLO' if t.hypothesis == 'slo' else 'reference'} but without a standard error to weigh it "
                "against the segment's size: not judged"
                for t in tests
                if t.effect and t.z is None
            ]
        )
    return findings, notes


def _half(metrics: dict[str, float | None], name: str, side: str) -> float | None:
    """The half-width of ``metrics[name]``'s band on ``side`` ("lower"/"upper"), ``None`` without a band."""
    value, bound = metrics.get(name), metrics.get(f"{name}_{side}")
    return None if value is None or bound is None else abs(bound - value)


def _z(difference: float, se: float | None) -> float | None:
    """``difference / se``; ``±inf`` for an exact comparison (``se`` 0), ``None`` without a ``se``."""
    if se is None:
        return None
    if se == 0:
        return float(np.sign(difference) * np.inf) if difference else 0.0
    return difference / se


def estimate_mismatch(
    estimated: dict[str, float | None],
    realized: dict[str, float | None],
    *,
    incomparable: Collection[str] = (),
) -> list[Finding]:
    """An info finding when labels contradict the label-free estimate beyond its band: the score no longer
    means what it meant on the reference (concept shift), which estimation cannot see by construction.
    Metrics in ``incomparable`` are not compared."""
    out = []
    for name in HIGHER_IS_BETTER:
        if name in incomparable:
            continue
        est, real = estimated.get(name), realized.get(name)
        lower, upper = estimated.get(f"{name}_lower"), estimated.get(f"{name}_upper")
        if None in (est, real, lower, upper) or lower - 0.02 <= real <= upper + 0.02:
            continue
        out.append(
            Finding(
                check="performance.estimate_mismatch",
                severity=Severity.INFO,
                message=f"realized {name} {real:.3f} outside the estimated band [{lower:.3f}, {upper:.3f}]: "
                "scores no longer relate to outcomes as on the reference (concept shift?)",
                value=real,
                threshold=est,
                evidence={"metric": name},
            )
        )
    return out
