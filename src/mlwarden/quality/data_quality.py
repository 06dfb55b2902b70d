"""Data-quality checks on profiles: missing-rate jumps, non-finite values, collapsed and out-of-range columns.

They need only the reference and current profiles, so the service runs them on merged window profiles
without raw rows. Each check has an effect floor (its threshold, on the check's own scale) and a chance
guard: a p-value under "reference and current rows are exchangeable" that must fall below
``QualityConfig.alpha`` divided by the number of columns the check ran on (Bonferroni). Every guard is exact
at any sample size and holds for tied and discrete values. See docs/quality.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import betabinom, hypergeom

from mlwarden.findings import Finding, Severity
from mlwarden.profile import ColumnProfile, DatasetProfile


@dataclass(frozen=True, slots=True)
class QualityConfig:
    """Thresholds and the chance level of the data-quality checks."""

    # Family-wise chance of a false finding per check and report: a column's p-value must fall below
    # alpha / (columns checked). Real failures (a column emptied, a pipeline returning zeros) have p-values
    # many orders of magnitude below it.
    alpha: float = 0.001
    # Missing rate: a finding when it rises by at least this much (absolute share of rows) over the
    # reference's rate, beyond chance; critical when a mostly present column (reference rate < 50 %)
    # becomes entirely missing.
    missing_jump: float = 0.05
    # Non-finite (±inf) values: share of values above the reference's share by more than this.
    nonfinite_share: float = 0.0
    # A numeric column collapses when its current std falls below this fraction of the reference std —
    # the signature of a feature pipeline returning a constant (zeros, a default) instead of real values.
    collapse_ratio: float = 0.01
    # Out of range: share of current values outside the reference's exact [min, max]; a finding when it
    # exceeds this floor and chance alone would rarely leave that many outside (see ``_out_of_range``).
    out_of_range_share: float = 0.01
    # Rows below which the std-collapse check abstains (a handful of rows is legitimately constant).
    min_rows: int = 20


def excess_p_value(ref_hits: int, ref_n: int, cur_hits: int, cur_n: int) -> float:
    """One-sided p-value that ``cur_hits`` of ``cur_n`` is no larger a share than ``ref_hits`` of ``ref_n``.

    Fisher's exact test: given the hits of both samples together, the current's count is hypergeometric
    (``scipy.stats.hypergeom``) when the rows are exchangeable; the p-value is P(X ≥ cur_hits). Exact at
    any size, ties irrelevant.
    """
    if cur_n <= 0 or cur_hits <= 0:
        return 1.0
    return float(hypergeom.sf(cur_hits - 1, ref_n + cur_n, ref_hits + cur_hits, cur_n))


def collapse_p_value(ref: ColumnProfile, cur: ColumnProfile) -> float:
    """Chance that ``cur``'s values crowd into one histogram bin as much as they do, were they drawn with
    the reference's rows: the exact p-value of :func:`excess_p_value` for the current's fullest bin, times the
    number of bins it could have been (Bonferroni). Without a shared histogram the current is taken to sit
    entirely in the reference's fullest bin — the most likely way to be constant by chance."""
    if ref.hist is None or not ref.hist.sum():
        return 1.0
    n0, n1 = int(ref.hist.sum()), int(cur.moments.n)
    occupied = int(np.count_nonzero(ref.hist)) + 1
    if cur.hist is not None and cur.edges is not None and np.array_equal(ref.edges, cur.edges):
        b = int(np.argmax(cur.hist))
        hits, ref_hits = int(cur.hist[b]), int(ref.hist[b])
    else:
        hits, ref_hits = n1, int(ref.hist.max())
    return min(1.0, occupied * excess_p_value(ref_hits, n0, hits, n1))


def std_ratio(ref: ColumnProfile, cur: ColumnProfile, min_rows: int) -> float | None:
    """Current std over reference std, or ``None`` when too few values or a constant reference."""
    if cur.moments.n < min_rows or not ref.std > 0:
        return None
    return cur.std / ref.std


def collapsed(ref: ColumnProfile, cur: ColumnProfile, ratio: float, min_rows: int, level: float) -> bool:
    """Whether ``cur``'s std fell below ``ratio`` × the reference's beyond chance (p-value below ``level``):
    shared by ``quality.constant`` and the output checks for stuck predictions and scores.

    The spread must also have collapsed relative to the column's own magnitude (coefficient of variation
    below ``ratio`` × the reference's): values rescaled by a unit change (÷100, cents → euros) keep their
    relative spread and are a shift, which drift and ``quality.out_of_range`` report, not a constant."""
    observed = std_ratio(ref, cur, min_rows)
    if observed is None or observed >= ratio:
        return False
    if cur.std > 0 and ref.mean != 0 and observed >= ratio * abs(cur.mean / ref.mean):
        return False  # cur.std / |cur.mean| ≥ ratio × ref.std / |ref.mean|: rescaled, not collapsed
    return collapse_p_value(ref, cur) < level


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
    pairs = [
        (ref, current.columns[name])
        for name, ref in reference.columns.items()
        if name in current.columns and current.columns[name].total and name not in exclude
    ]
    numeric = [(r, c) for r, c in pairs if r.is_numeric and c.is_numeric and r.count and c.count]
    findings: list[Finding] = []
    level_all = config.alpha / max(len(pairs), 1)
    level_numeric = config.alpha / max(len(numeric), 1)
    for ref, cur in pairs:
        findings += _missing_rate(ref, cur, config, level_all)
    for ref, cur in numeric:
        findings += _nonfinite(ref, cur, config, level_numeric)
        findings += _collapse(ref, cur, config, level_numeric)
        if ref.kind != "datetime":  # time moves on: every later window lies outside the reference's dates
            findings += _out_of_range(ref, cur, config, level_numeric)
    return findings


def _missing_rate(
    ref: ColumnProfile, cur: ColumnProfile, config: QualityConfig, level: float
) -> list[Finding]:
    before = ref.missing / ref.total if ref.total else 0.0
    after = cur.missing / cur.total
    if after - before < config.missing_jump:
        return []
    p = excess_p_value(ref.missing, ref.total, cur.missing, cur.total)
    if p >= level:
        return []
    all_gone = after == 1.0 and before < 0.5
    return [
        Finding(
            check="quality.missing_rate",
            severity=Severity.CRITICAL if all_gone else Severity.WARNING,
            message=f"{ref.name}: missing in {after:.1%} of rows (reference {before:.1%}; "
            f"p-value {p:.2g} < {level:.2g})" + (" — the column is empty" if all_gone else ""),
            column=ref.name,
            value=after,
            threshold=before + config.missing_jump,
            evidence={"reference_rate": before, "missing": cur.missing, "rows": cur.total, "p_value": p},
        )
    ]


def _nonfinite(ref: ColumnProfile, cur: ColumnProfile, config: QualityConfig, level: float) -> list[Finding]:
    share = cur.nonfinite / cur.count
    ref_share = ref.nonfinite / ref.count
    if share <= ref_share + config.nonfinite_share:
        return []
    p = excess_p_value(ref.nonfinite, ref.count, cur.nonfinite, cur.count)
    if p >= level:
        return []
    return [
        Finding(
            check="quality.nonfinite",
            severity=Severity.CRITICAL if share >= 0.5 else Severity.WARNING,
            message=f"{ref.name}: {cur.nonfinite:,} infinite values ({share:.1%}; reference {ref_share:.1%}; "
            f"p-value {p:.2g} < {level:.2g})",
            column=ref.name,
            value=share,
            threshold=ref_share + config.nonfinite_share,
            evidence={"infinite": cur.nonfinite, "values": cur.count, "p_value": p},
        )
    ]


def _collapse(ref: ColumnProfile, cur: ColumnProfile, config: QualityConfig, level: float) -> list[Finding]:
    if not collapsed(ref, cur, config.collapse_ratio, config.min_rows, level):
        return []
    ratio = cur.std / ref.std
    value = f" at {cur.mean:.4g}" if cur.std == 0 else ""
    return [
        Finding(
            check="quality.constant",
            severity=Severity.CRITICAL,
            message=f"{ref.name}: became constant{value} (std {cur.std:.3g} < {config.collapse_ratio:g} × "
            f"reference {ref.std:.3g}) — is the feature pipeline returning a default value?",
            column=ref.name,
            value=ratio,
            threshold=config.collapse_ratio,
            evidence={
                "current_std": cur.std,
                "reference_std": ref.std,
                "current_mean": cur.mean,
                "p_value": collapse_p_value(ref, cur),
            },
        )
    ]


def _out_of_range(
    ref: ColumnProfile, cur: ColumnProfile, config: QualityConfig, level: float
) -> list[Finding]:
    """Values outside the reference's exact range, counted exactly in the histogram's under/overflow bins.

    The current profile must be binned on the reference's edges, whose ends are the reference's min and max
    (a constant reference, with a single edge, is skipped). Chance guard: when the rows are exchangeable and
    the values continuous, the mass outside the range of n₀ reference values is Beta(2, n₀ − 1), so the
    count of n₁ current values outside it is beta-binomial(n₁, 2, n₀ − 1). Ties only shrink that count
    (a discrete variable is a monotone step function of a continuous one, and a value strictly beyond the
    reference's max after the step was beyond it before), so the beta-binomial tail is a valid, conservative
    p-value for discrete columns too. A reference merged from differently binned parts may hold r values
    outside its own edges: the count is then taken as beta-binomial(n₁, r + 2, n₀ − r − 1).
    """
    if ref.edges is None or cur.edges is None or ref.hist is None or cur.hist is None:
        return []
    if ref.edges.size < 2 or not np.array_equal(ref.edges, cur.edges) or not cur.moments.n:
        return []  # a constant reference has one edge and no under/overflow split to count
    outside = int(cur.hist[0] + cur.hist[-1])
    n0, n1 = int(ref.hist.sum()), int(cur.hist.sum())
    share = outside / n1 if n1 else 0.0
    if share <= config.out_of_range_share or n0 < 2:
        return []
    ref_outside = int(ref.hist[0] + ref.hist[-1])
    p = float(betabinom.sf(outside - 1, n1, ref_outside + 2, max(n0 - ref_outside - 1, 1)))
    if p >= level:
        return []
    low, high = float(ref.edges[0]), float(ref.edges[-1])
    return [
        Finding(
            check="quality.out_of_range",
            severity=Severity.WARNING,
            message=f"{ref.name}: {share:.1%} of values outside the reference range "
            f"[{low:.4g}, {high:.4g}] (current [{cur.min:.4g}, {cur.max:.4g}]; "
            f"p-value {p:.2g} < {level:.2g})",
            column=ref.name,
            value=share,
            threshold=config.out_of_range_share,
            evidence={
                "outside": outside,
                "values": n1,
                "p_value": p,
                "chance_share": (ref_outside + 2) / (n0 + 1),
                "reference_min": low,
                "reference_max": high,
                "current_min": cur.min,
                "current_max": cur.max,
            },
        )
    ]
