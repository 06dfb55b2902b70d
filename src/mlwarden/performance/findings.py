"""Turn performance numbers into findings: SLO breaches, drops from the reference, estimate vs realized."""

from __future__ import annotations

from collections.abc import Collection

from mlwarden.findings import Finding, Severity

HIGHER_IS_BETTER = ("roc_auc", "accuracy", "precision", "recall", "f1")
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
    error metric rose more than ``rise`` (relative) above it — and the reference value lies outside the
    metric's 95 % band, so noise alone does not raise it. Metrics in ``incomparable`` (macro averages over a
    window that lacks a class, see :func:`mlwarden.performance.assess_performance`) get SLO findings only.
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
        lower, upper = metrics.get(f"{name}_lower"), metrics.get(f"{name}_upper")
        if higher and value < base - drop and (upper is None or upper < base):
            change = f"fell to {value:.3f} from {base:.3f} on the reference"
        elif not higher and value > base * (1 + rise) and (lower is None or lower > base):
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
