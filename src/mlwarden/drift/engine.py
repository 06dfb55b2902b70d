"""``detect_drift``: compare two profiles column by column and jointly."""

from __future__ import annotations

import numpy as np

from mlwarden.drift.categorical import categorical_scores
from mlwarden.drift.config import DriftConfig
from mlwarden.drift.multiple_testing import benjamini_hochberg
from mlwarden.drift.multivariate import MAX_CATEGORIES, domain_classifier
from mlwarden.drift.numeric import cdf_knots, eval_cdf, numeric_scores
from mlwarden.drift.result import ColumnDrift, DriftResult, MultivariateDrift
from mlwarden.errors import InputError
from mlwarden.findings import Finding, Severity
from mlwarden.profile import ColumnProfile, DatasetProfile

CRITICAL_FACTOR = 5.0  # a drift score this many times its threshold is a critical finding


def detect_drift(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    columns: list[str] | None = None,
    config: DriftConfig | None = None,
) -> DriftResult:
    """Drift of every reference column (or of ``columns``) in ``current``; see :class:`DriftConfig`."""
    config = config or DriftConfig()
    names = list(reference.columns) if columns is None else list(columns)
    unknown = [c for c in names if c not in reference.columns]
    if unknown:
        raise InputError(f"columns not in the reference: {', '.join(unknown)}")
    problems: list[Finding] = []
    entries: list[ColumnDrift] = []
    p_values: list[float] = []
    for name in names:
        ref, cur = reference.columns[name], current.columns.get(name)
        if cur is None:
            problems.append(
                _problem("drift.missing_column", name, f"{name}: in the reference, missing from current")
            )
            continue
        if ref.is_numeric != cur.is_numeric:
            problems.append(
                _problem(
                    "drift.kind_mismatch",
                    name,
                    f"{name}: {ref.kind} in the reference but {cur.kind} in current data",
                )
            )
            continue
        entry, p = _column(ref, cur, config)
        entries.append(entry)
        p_values.append(p)
    adjusted = benjamini_hochberg(p_values)
    for entry, p in zip(entries, adjusted, strict=True):
        _decide(entry, None if np.isnan(p) else float(p), config)
    multivariate = _multivariate(reference, current, entries, config) if config.multivariate else None
    return DriftResult(columns=entries, multivariate=multivariate, problems=problems)


def _problem(check: str, column: str, message: str) -> Finding:
    return Finding(check=check, severity=Severity.CRITICAL, message=message, column=column)


def _column(ref: ColumnProfile, cur: ColumnProfile, config: DriftConfig) -> tuple[ColumnDrift, float]:
    """Scores of one column and its raw p-value (NaN when the column is not tested)."""
    kind = "numeric" if ref.is_numeric else "categorical"
    method = config.numeric_method if ref.is_numeric else config.categorical_method
    entry = ColumnDrift(
        column=ref.name,
        kind=kind,
        method=method,
        score=None,
        threshold=config.threshold(ref.name, method),
        p_value=None,
        drifted=False,
        reference_count=ref.count,
        current_count=cur.count,
    )
    untested = _why_untested(ref, cur, config)
    if untested:
        entry.note = untested
        return entry, float("nan")
    if ref.is_numeric:
        if not _same_edges(ref, cur):
            cur = _rebinned(cur, ref.edges)
            entry.note = "current re-binned onto the reference's edges from its own histogram (approximate)"
        scores = numeric_scores(ref, cur)
        entry.scores, p = scores.as_dict(), scores.ks_p_value
    else:
        scores = categorical_scores(ref, cur)
        entry.scores, p = scores.as_dict(), scores.chi2_p_value
        entry.unseen_categories, entry.unseen_share = scores.unseen, scores.unseen_share
    entry.score = entry.scores[method]
    return entry, p


def _why_untested(ref: ColumnProfile, cur: ColumnProfile, config: DriftConfig) -> str | None:
    if ref.kind == "datetime" and not config.include_datetime:
        return "timestamps are not tested for drift (set include_datetime=True to test them)"
    if ref.is_numeric:
        if ref.hist is None or ref.hist.sum() == 0:
            return "no finite values in the reference"
        if cur.moments.n == 0:
            return "no finite values in current data"
        if cur.hist is None and cur.sketch is None:
            return "current profile has neither a histogram nor a sketch to compare"
        return None
    if ref.count == 0:
        return "no values in the reference"
    if cur.count == 0:
        return "no values in current data"
    if ref.count >= 50 and (ref.capped or ref.distinct >= config.max_identifier_ratio * ref.count):
        return "identifier-like (nearly every value distinct): not tested for drift"
    return None


def _same_edges(ref: ColumnProfile, cur: ColumnProfile) -> bool:
    return cur.hist is not None and cur.edges is not None and np.array_equal(ref.edges, cur.edges)


def _rebinned(cur: ColumnProfile, edges: np.ndarray) -> ColumnProfile:
    """``cur`` with counts on ``edges``, read off its own CDF (histogram, or KLL sketch when it has one)."""
    from dataclasses import replace

    n = cur.moments.n
    if cur.sketch is not None:
        below = np.asarray(cur.sketch.get_cdf(edges.tolist(), False), dtype=float)[:-1]
        at_max = np.asarray(cur.sketch.get_cdf([edges[-1]], True), dtype=float)[0]
        cdf = np.concatenate((below[:-1], [at_max]))
    else:
        x, f = cdf_knots(cur)
        cdf = eval_cdf(x, f, edges)
    counts = np.diff(np.concatenate(([0.0], cdf, [1.0]))) * n
    return replace(cur, edges=edges, hist=np.round(counts).astype(np.int64), bin_sums=None)


def _decide(entry: ColumnDrift, p_adjusted: float | None, config: DriftConfig) -> None:
    entry.p_value = p_adjusted
    if entry.score is None or p_adjusted is None:
        return
    if entry.method == "chi2":  # a pure significance method: the score is the adjusted p-value itself
        entry.score = p_adjusted
        entry.drifted = p_adjusted < entry.threshold
        return
    entry.drifted = p_adjusted < config.alpha and entry.score >= entry.threshold
    if entry.drifted and entry.score >= CRITICAL_FACTOR * entry.threshold:
        entry.severity = Severity.CRITICAL


def _multivariate(
    reference: DatasetProfile, current: DatasetProfile, entries: list[ColumnDrift], config: DriftConfig
) -> MultivariateDrift:
    names = [e.column for e in entries if e.score is not None]
    categorical = [
        n
        for n in names
        if not reference.columns[n].is_numeric and reference.columns[n].distinct <= MAX_CATEGORIES
    ]
    names = [n for n in names if reference.columns[n].is_numeric or n in categorical]
    if len(names) < 2:
        return MultivariateDrift(
            score=None,
            threshold=config.multivariate_threshold,
            drifted=False,
            note="needs two or more columns",
        )
    result = domain_classifier(
        reference.sample[names], current.sample[names], categorical, max_rows=config.multivariate_sample
    )
    drifted = bool(
        np.isfinite(result.auc)
        and result.auc >= config.multivariate_threshold
        and result.p_value < config.alpha
    )
    return MultivariateDrift(
        score=result.auc,
        threshold=config.multivariate_threshold,
        drifted=drifted,
        p_value=result.p_value,
        n_reference=result.n_reference,
        n_current=result.n_current,
        note=result.note,
    )
