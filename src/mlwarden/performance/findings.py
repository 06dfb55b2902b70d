"""Turn performance numbers into findings: SLO breaches, drops from the reference, estimate vs realized."""

from __future__ import annotations

from collections.abc import Collection

from mlwarden.findings import Finding, Severity

HIGHER_IS_BETTER = ("roc_auc", "accuracy", "precision", "recall", "f1")
# Bands are 95 %; a drop must clear them widened to a 1 % two-sided level (z 2.576 / 1.960), since up to
# five metrics per kind are judged in every report.
BAND_WIDENING = 2.5758293035489004 / 1.959963984540054
LOWER_IS_BETTER = ("mae", "rmse", "mape")


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
    """Findings for ``metrics`` of ``kind`` ("estimated" or "realized").

    Critical when a metric breaches its SLO (``slo["roc_auc"] = 0.8``: at least 0.8; for MAE/RMSE/MAPE: at
    most). A warning when a score-like metric fell more than ``drop`` (absolute) below the reference's, or an
    error metric rose more than ``rise`` (relative) above it — and the change exceeds the root sum of squares
    of the two facing 95 % half-widths (the current's towards the reference, the reference's towards the
    current), widened from 95 % to a 1 % level (``BAND_WIDENING``), so the noise of *both* samples does not
    raise it. A score-like metric without a band
    (multiclass macro averages, a window too small to bound) raises no drop warning; an error metric without
    one (a single row) is guarded by the reference's band alone. Metrics in ``incomparable`` (macro
    averages over a window that lacks a class, see :func:`mlwarden.performance.assess_performance`) get SLO
    findings only.
    """
    out: list[Finding] = []
    for name in (*HIGHER_IS_BETTER, *LOWER_IS_BETTER):
        value = metrics.get(name)
        if value is None:
            continue
        higher = name in HIGHER_IS_BETTER
        limit = (slo or {}).get(name)
        if limit is not None and (value < limit if higher else value > limit):
            out.append(
                Finding(
                    check=f"performance.{kind}",
                    severity=Severity.CRITICAL,
                    message=f"{kind} {name} {value:.3f} {'<' if higher else '>'} {limit}: breaches the SLO "
                    f"({name} {'≥' if higher else '≤'} {limit})",
                    value=value,
                    threshold=limit,
                    evidence={"metric": name},
                )
            )
            continue
        base = (reference or {}).get(name)
        if base is None or name in incomparable:
            continue
        if higher and value < base - drop and _beyond_noise(name, metrics, reference, towards="upper"):
            change = f"fell to {value:.3f} from {base:.3f} on the reference"
        elif not higher and value > base * (1 + rise) and _beyond_noise(name, metrics, reference, "lower"):
            change = f"rose to {value:.4g} from {base:.4g} on the reference"
        else:
            continue
        out.append(
            Finding(
                check=f"performance.{kind}",
                severity=Severity.WARNING,
                message=f"{kind} {name} {change}",
                value=value,
                threshold=base - drop if higher else base * (1 + rise),
                evidence={"metric": name, "reference": base},
            )
        )
    return out


def _beyond_noise(name: str, current: dict, reference: dict, towards: str) -> bool:
    """Whether ``current[name]`` lies farther from ``reference[name]`` than the root sum of squares of the
    current's half-width on the ``towards`` side and the reference's on the other side. A side without a
    band counts as exact, except a score-like current metric without one: ``False`` (nothing bounds it)."""
    away = "lower" if towards == "upper" else "upper"
    value, base, bound = current[name], reference[name], current.get(f"{name}_{towards}")
    if bound is None and name in HIGHER_IS_BETTER:
        return False
    ref_bound = reference.get(f"{name}_{away}")
    cur_half = abs(bound - value) if bound is not None else 0.0
    ref_half = abs(base - ref_bound) if ref_bound is not None else 0.0
    return abs(base - value) > BAND_WIDENING * (cur_half**2 + ref_half**2) ** 0.5


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
