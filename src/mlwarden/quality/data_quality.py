"""Data-quality checks on profiles: missing-rate jumps, non-finite values, collapsed and out-of-range columns.

They need only the reference and current profiles, so the service runs them on merged window profiles
without raw rows. Each threshold is on the check's own scale and documented in ``QualityConfig``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mlwarden.findings import Finding, Severity
from mlwarden.profile import ColumnProfile, DatasetProfile


@dataclass(frozen=True, slots=True)
class QualityConfig:
    """Thresholds of the data-quality checks."""

    # Missing rate: a warning when it rises by this much (absolute share of rows) over the reference's rate,
    # and beyond the sampling noise of a proportion (3 standard errors); critical when a column that was
    # mostly present (reference rate < 50 %) becomes entirely missing.
    missing_jump: float = 0.05
    # Non-finite (±inf) values in a numeric column that had none: share of values.
    nonfinite_share: float = 0.0
    # A numeric column collapses when its current std falls below this fraction of the reference std —
    # the signature of a feature pipeline returning a constant (zeros, a default) instead of real values.
    collapse_ratio: float = 0.01
    # Out of range: share of current values outside the reference's exact [min, max]; a finding when it
    # exceeds both this floor and what chance alone leaves outside a sample's range (see ``_out_of_range``).
    out_of_range_share: float = 0.01
    # Rows below which the std-collapse check abstains (a handful of rows is legitimately constant).
    min_rows: int = 20


def check_data_quality(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    exclude: tuple[str, ...] = (),
    config: QualityConfig | None = None,
) -> list[Finding]:
    """Data-quality findings for every column the two profiles share (except ``exclude``: model outputs,
    which :func:`mlwarden.quality.check_output` judges with its own rules)."""
    config = config or QualityConfig()
    findings: list[Finding] = []
    for name, ref in reference.columns.items():
        cur = current.columns.get(name)
        if cur is None or cur.total == 0 or name in exclude:
            continue
        findings += _missing_rate(ref, cur, config)
        if ref.is_numeric and cur.is_numeric:
            findings += _nonfinite(ref, cur, config)
            findings += _collapse(ref, cur, config)
            findings += _out_of_range(ref, cur, config)
    return findings


def _missing_rate(ref: ColumnProfile, cur: ColumnProfile, config: QualityConfig) -> list[Finding]:
    before = ref.missing / ref.total if ref.total else 0.0
    after = cur.missing / cur.total
    noise = 3 * math.sqrt(max(before * (1 - before), 1e-12) / cur.total)
    if after - before < max(config.missing_jump, noise):
        return []
    all_gone = after == 1.0 and before < 0.5
    return [
        Finding(
            check="quality.missing_rate",
            severity=Severity.CRITICAL if all_gone else Severity.WARNING,
            message=f"{ref.name}: missing in {after:.1%} of rows (reference {before:.1%})"
            + (" — the column is empty" if all_gone else ""),
            column=ref.name,
            value=after,
            threshold=before + config.missing_jump,
            evidence={"reference_rate": before, "missing": cur.missing, "rows": cur.total},
        )
    ]


def _nonfinite(ref: ColumnProfile, cur: ColumnProfile, config: QualityConfig) -> list[Finding]:
    share = cur.nonfinite / cur.count if cur.count else 0.0
    ref_share = ref.nonfinite / ref.count if ref.count else 0.0
    if share <= max(config.nonfinite_share, ref_share):
        return []
    return [
        Finding(
            check="quality.nonfinite",
            severity=Severity.CRITICAL if share >= 0.5 else Severity.WARNING,
            message=f"{ref.name}: {cur.nonfinite:,} infinite values ({share:.1%}; reference {ref_share:.1%})",
            column=ref.name,
            value=share,
            threshold=max(config.nonfinite_share, ref_share),
        )
    ]


def std_ratio(ref: ColumnProfile, cur: ColumnProfile, min_rows: int) -> float | None:
    """Current std over reference std, or ``None`` when too few values or a constant reference."""
    if cur.moments.n < min_rows or not ref.std > 0:
        return None
    return cur.std / ref.std


def _collapse(ref: ColumnProfile, cur: ColumnProfile, config: QualityConfig) -> list[Finding]:
    ratio = std_ratio(ref, cur, config.min_rows)
    if ratio is None or ratio >= config.collapse_ratio:
        return []
    value = f" at {cur.mean:.4g}" if cur.std == 0 else ""
    return [
        Finding(
            check="quality.constant",
            severity=Severity.CRITICAL,
            message=f"{ref.name}: became constant{value} (std {cur.std:.3g} vs reference {ref.std:.3g}) — "
            "is the feature pipeline returning a default value?",
            column=ref.name,
            value=ratio,
            threshold=config.collapse_ratio,
            evidence={"current_std": cur.std, "reference_std": ref.std, "current_mean": cur.mean},
        )
    ]


def _out_of_range(ref: ColumnProfile, cur: ColumnProfile, config: QualityConfig) -> list[Finding]:
    """Values outside the reference's exact range, counted exactly in the histogram's under/overflow bins.

    The current profile must be binned on the reference's edges, whose ends are the reference's min and max
    (a constant reference, with a single edge, is skipped). Without any change in the data, the mass outside
    the range of n₀ reference values is Beta(2, n₀ − 1)-distributed for any continuous distribution (mean
    p₀ = 2 / (n₀ + 1)), so the share outside among n₁ current values is beta-binomial with mean p₀ and
    variance v = 2(n₀ − 1) / ((n₀ + 1)²(n₀ + 2)) + p₀(1 − p₀) / n₁. The finding fires when the share exceeds
    max(``out_of_range_share``, p₀ + 3·√v): at least 1 % of the values and more than 3 standard deviations
    above chance, which keeps small references from raising false alarms.
    """
    if ref.edges is None or cur.edges is None or ref.hist is None or cur.hist is None:
        return []
    if ref.edges.size < 2 or not np.array_equal(ref.edges, cur.edges) or not cur.moments.n:
        return []  # a constant reference has one edge and no under/overflow split to count
    outside = int(cur.hist[0] + cur.hist[-1])
    share = outside / cur.moments.n
    # Values of the reference itself outside its edges: 0, unless it was merged from differently binned parts.
    ref_share = float(ref.hist[0] + ref.hist[-1]) / ref.moments.n
    n0, n1 = ref.moments.n, cur.moments.n
    chance = min(1.0, ref_share + 2 / (n0 + 1))
    variance = 2 * (n0 - 1) / ((n0 + 1) ** 2 * (n0 + 2)) + chance * (1 - chance) / n1
    threshold = max(config.out_of_range_share, chance + 3 * math.sqrt(variance))
    if share <= threshold:
        return []
    low, high = float(ref.edges[0]), float(ref.edges[-1])
    return [
        Finding(
            check="quality.out_of_range",
            severity=Severity.WARNING,
            message=f"{ref.name}: {share:.1%} of values outside the reference range "
            f"[{low:.4g}, {high:.4g}] (current [{cur.min:.4g}, {cur.max:.4g}])",
            column=ref.name,
            value=share,
            threshold=threshold,
            evidence={
                "outside": outside,
                "values": cur.moments.n,
                "chance_share": chance,
                "reference_min": low,
                "reference_max": high,
                "current_min": cur.min,
                "current_max": cur.max,
            },
        )
    ]
