"""``detect_drift``: compare two profiles column by column and jointly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from mlwarden.drift import distances
from mlwarden.drift.categorical import aligned_counts, categorical_scores, chi2_homogeneity
from mlwarden.drift.config import ROLES, DriftConfig
from mlwarden.drift.multiple_testing import benjamini_hochberg
from mlwarden.drift.multivariate import (
    MAX_CATEGORIES,
    DomainClassifierResult,
    domain_classifier,
    pooled_domain_classifier,
)
from mlwarden.drift.numeric import cdf_knots, eval_cdf, numeric_scores
from mlwarden.drift.result import ColumnDrift, DriftResult, MultivariateDrift
from mlwarden.errors import InputError
from mlwarden.findings import Finding, Severity
from mlwarden.profile import ColumnProfile, DatasetProfile

CRITICAL_FACTOR = 5.0  # a drift score this many times its threshold is a critical finding
MIN_IDENTIFIER_ROWS = 50  # fewer values than this are no evidence of uniqueness


@dataclass(slots=True)
class _Tests:
    """A column's raw p-values: its method's test and, for numeric columns with few values, the chi-square
    test of its value frequencies (NaN: not run)."""

    score: float = float("nan")
    frequencies: float = float("nan")


def detect_drift(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    columns: list[str] | None = None,
    config: DriftConfig | None = None,
    roles: dict[str, str] | None = None,
) -> DriftResult:
    """Drift of every reference column (or of ``columns``) in ``current``; see :class:`DriftConfig`.

    ``roles`` maps columns to ``"feature"`` (the default), ``"target"``, ``"prediction"`` or ``"score"``;
    each entry carries its role and the multivariate check uses features only. Identifier-like categorical
    columns are left out with an info finding ``drift.identifier``. Raises
    :class:`~mlwarden.errors.InputError` for a column not in the reference, an unknown role, or a
    per-column method that does not fit the column's kind.
    """
    roles = roles or {}
    _check_roles(roles)
    names = list(reference.columns) if columns is None else list(columns)
    pair = (reference, current, {n: roles.get(n, "feature") for n in names})
    return detect_drift_jointly([pair], config)[0]


def detect_drift_jointly(
    pairs: Sequence[tuple[DatasetProfile, DatasetProfile, dict[str, str]]],
    config: DriftConfig | None = None,
    *,
    multivariate: Sequence[bool] | None = None,
) -> list[DriftResult]:
    """Drift of several ``(reference, current, {column: role})`` triples with one multiple-testing
    correction for all: the chunks of a time series against one reference (docs/chunks.md), or the whole
    data and each of its segments against the same segment of the reference (docs/segments.md).

    The columns tested in a pair are its roles' keys, which must all be columns of its reference.
    Benjamini–Hochberg runs once over the p-values of every pair × column, and each column of each pair then
    drifts when its adjusted p-value is below ``config.alpha`` *and* its effect size reaches its threshold
    (:class:`DriftConfig`): more chunks or segments do not mean more false alarms. ``multivariate[i]`` says
    whether pair ``i`` gets the domain-classifier check (default: every pair, when ``config.multivariate``);
    the pairs that get it and share one reference profile (the same object) are judged by one pooled
    classifier (:func:`~mlwarden.drift.multivariate.pooled_domain_classifier`), a pair alone with its
    reference by a classifier of its own. Returns one :class:`DriftResult` per pair, in order. Raises
    :class:`~mlwarden.errors.InputError` as :func:`detect_drift`.
    """
    config = config or DriftConfig()
    wanted = list(multivariate) if multivariate is not None else [True] * len(pairs)
    if len(wanted) != len(pairs):
        raise InputError(f"multivariate: expected {len(pairs)} flags, one per pair, got {len(wanted)}")
    runs = [_tests(reference, current, roles, config) for reference, current, roles in pairs]
    _decide(
        [e for entries, _, _ in runs for e in entries], [t for _, tests, _ in runs for t in tests], config
    )
    entries = [entries for entries, _, _ in runs]
    verdicts: list[MultivariateDrift | None] = [None] * len(pairs)
    if config.multivariate:
        groups: dict[int, list[int]] = {}
        for i, (reference, _, _) in enumerate(pairs):
            if wanted[i]:
                groups.setdefault(id(reference), []).append(i)
        for members in groups.values():
            found = _multivariate(
                pairs[members[0]][0], [pairs[i][1] for i in members], [entries[i] for i in members], config
            )
            for i, verdict in zip(members, found, strict=True):
                verdicts[i] = verdict
    return [
        DriftResult(columns=e, multivariate=verdict, problems=problems)
        for e, verdict, (_, _, problems) in zip(entries, verdicts, runs, strict=True)
    ]


def _tests(
    reference: DatasetProfile, current: DatasetProfile, roles: dict[str, str], config: DriftConfig
) -> tuple[list[ColumnDrift], list[_Tests], list[Finding]]:
    """Each column's scores and raw p-values (undecided), and the problems that kept columns out."""
    _check_roles(roles)
    unknown = [c for c in roles if c not in reference.columns]
    if unknown:
        raise InputError(f"columns not in the reference: {', '.join(unknown)}")
    problems: list[Finding] = []
    entries: list[ColumnDrift] = []
    tests: list[_Tests] = []
    for name, role in roles.items():
        ref, cur = reference.columns[name], current.columns.get(name)
        if cur is None:
            problems.append(
                _problem("drift.missing_column", name, f"{name}: in the reference, missing from current")
            )
            continue
        both_have_values = ref.count > 0 and cur.count > 0
        if both_have_values and ref.is_numeric != cur.is_numeric:
            problems.append(
                _problem(
                    "drift.kind_mismatch",
                    name,
                    f"{name}: {ref.kind} in the reference but {cur.kind} in current data",
                )
            )
            continue
        if both_have_values and not ref.is_numeric and _identifier_like(ref, config):
            problems.append(
                Finding(
                    check="drift.identifier",
                    severity=Severity.INFO,
                    message=f"{name}: identifier-like (nearly every value distinct), left out of drift",
                    column=name,
                    evidence={"distinct_at_least": ref.distinct, "values": ref.count},
                )
            )
            continue
        entry, p = _column(ref, cur, config, role)
        entries.append(entry)
        tests.append(p)
    return entries, tests, problems


def _check_roles(roles: dict[str, str]) -> None:
    bad = {c: r for c, r in roles.items() if r not in ROLES}
    if bad:
        column, role = next(iter(bad.items()))
        raise InputError(f"roles.{column}: expected one of {', '.join(ROLES)}, got {role!r}")


def _problem(check: str, column: str, message: str) -> Finding:
    return Finding(check=check, severity=Severity.CRITICAL, message=message, column=column)


def _identifier_like(ref: ColumnProfile, config: DriftConfig) -> bool:
    """Evidence that nearly every value is distinct: distinct values ≥ ``max_identifier_ratio`` of the
    values. A capped profile proves at least kept + other / (smallest kept count) distinct values, since
    every folded category is at most as frequent as the least frequent kept one."""
    if ref.count < MIN_IDENTIFIER_ROWS:
        return False
    distinct = float(ref.distinct)
    if ref.capped and ref.categories:
        distinct += ref.other / min(ref.categories.values())
    return distinct >= config.max_identifier_ratio * ref.count


def _column(
    ref: ColumnProfile, cur: ColumnProfile, config: DriftConfig, role: str
) -> tuple[ColumnDrift, _Tests]:
    """Scores of one column and its raw p-values (NaN when the column is not tested)."""
    method = config.method(ref.name, numeric=ref.is_numeric)
    entry = ColumnDrift(
        column=ref.name,
        kind="numeric" if ref.is_numeric else "categorical",
        method=method,
        score=None,
        threshold=config.threshold(ref.name, method),
        p_value=None,
        drifted=False,
        role=role,
        reference_count=ref.count,
        current_count=cur.count,
    )
    tests = _Tests()
    untested = _why_untested(ref, cur, config)
    if untested:
        entry.note = untested
        return entry, tests
    if ref.is_numeric:
        if not _same_edges(ref, cur):
            cur = _rebinned(cur, ref.edges)
            entry.note = "current re-binned onto the reference's edges from its own histogram (approximate)"
        scores = numeric_scores(ref, cur)
        entry.scores, tests.score = scores.as_dict(), scores.ks_p_value
        if method in ("chi2", "total_variation"):  # over the histogram's bins
            tests.score = chi2_homogeneity(ref.hist.astype(float), cur.hist.astype(float))[1]
            entry.scores["chi2"] = tests.score
            entry.scores["total_variation"] = distances.total_variation(ref.hist, cur.hist)
        elif scores.chi2_p_value is not None:
            tests.frequencies = scores.chi2_p_value
            entry.frequency_score = scores.frequency_jensenshannon
            entry.frequency_threshold = config.thresholds["jensenshannon"]
    else:
        scores = categorical_scores(ref, cur)
        entry.scores, tests.score = scores.as_dict(), scores.chi2_p_value
        entry.unseen_categories, entry.unseen_share = scores.unseen, scores.unseen_share
        if ref.capped or cur.capped:
            kept = len(aligned_counts(ref, cur)[0]) - 1
            entry.note = f"compared on the {kept} most frequent values plus all others pooled"
    entry.score = entry.scores[method]
    return entry, tests


def _why_untested(ref: ColumnProfile, cur: ColumnProfile, config: DriftConfig) -> str | None:
    if ref.kind == "datetime" and not config.include_datetime:
        return "timestamps are not tested for drift (set include_datetime=True to test them)"
    if ref.count == 0:
        return "no values in the reference"
    if cur.count == 0:
        return "no values in current data"
    if ref.is_numeric:
        if ref.hist is None or ref.hist.sum() == 0:
            return "no finite values in the reference"
        if cur.moments.n == 0:
            return "no finite values in current data"
        if cur.hist is None and cur.sketch is None:
            return "current profile has neither a histogram nor a sketch to compare"
    return None


def _same_edges(ref: ColumnProfile, cur: ColumnProfile) -> bool:
    return cur.hist is not None and cur.edges is not None and np.array_equal(ref.edges, cur.edges)


def _rebinned(cur: ColumnProfile, edges: np.ndarray) -> ColumnProfile:
    """``cur`` with counts on ``edges``, read off its own CDF (histogram, or KLL sketch when it has one)."""
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


def _decide(entries: list[ColumnDrift], tests: list[_Tests], config: DriftConfig) -> None:
    """Benjamini–Hochberg over every test run, then each column's verdict: a significant test whose effect
    size reaches its threshold."""
    raw = np.array([[t.score, t.frequencies] for t in tests], dtype=float).reshape(-1, 2)
    adjusted = benjamini_hochberg(raw.ravel()).reshape(raw.shape)
    for entry, (p_score, p_freq) in zip(entries, adjusted, strict=True):
        if entry.score is None or np.isnan(p_score):
            continue
        entry.p_value = float(np.fmin(p_score, p_freq))
        if entry.method == "chi2":  # a pure significance method: the score is the adjusted p-value itself
            entry.score = float(p_score)
            entry.drifted = p_score < entry.threshold
            entry.decided_by = "score" if entry.drifted else None
            continue
        by_score = p_score < config.alpha and entry.score >= entry.threshold
        by_frequencies = (
            entry.frequency_score is not None
            and entry.frequency_threshold is not None
            and p_freq < config.alpha
            and entry.frequency_score >= entry.frequency_threshold
        )
        entry.drifted = bool(by_score or by_frequencies)
        if not entry.drifted:
            continue
        entry.decided_by = "score" if by_score else "frequencies"
        ratio = entry.score / entry.threshold if by_score and entry.threshold > 0 else 0.0
        if by_frequencies and entry.frequency_threshold:
            ratio = max(ratio, entry.frequency_score / entry.frequency_threshold)
        if ratio >= CRITICAL_FACTOR:
            entry.severity = Severity.CRITICAL
        entry.p_value = float(p_score if by_score else p_freq)


def _multivariate(
    reference: DatasetProfile,
    currents: list[DatasetProfile],
    runs: list[list[ColumnDrift]],
    config: DriftConfig,
) -> list[MultivariateDrift]:
    """The domain classifier's verdict per current: a classifier of its own for one current, one pooled
    classifier for several (:func:`~mlwarden.drift.multivariate.pooled_domain_classifier`)."""
    plans = [_classifier_columns(reference, c, entries) for c, entries in zip(currents, runs, strict=True)]
    if len(currents) == 1:
        plan = plans[0]
        if isinstance(plan, str):
            return [_skipped(plan, config)]
        names, categorical, note = _budget(*plan, runs, config)
        result = domain_classifier(
            reference.sample[names],
            currents[0].sample[names],
            categorical,
            max_rows=config.multivariate_sample,
        )
        return [_verdict(_noted(result, note), config)]
    pooled = [i for i, plan in enumerate(plans) if not isinstance(plan, str)]
    shared = [n for n in plans[pooled[0]][0] if all(n in plans[i][0] for i in pooled)] if pooled else []
    out = [_skipped(plan, config) if isinstance(plan, str) else None for plan in plans]
    if len(shared) < 2:
        return [v or _skipped("needs two or more feature columns tested in every chunk", config) for v in out]
    categorical = [n for n in shared if n in plans[pooled[0]][1]]
    shared, categorical, note = _budget(shared, categorical, [runs[i] for i in pooled], config)
    results = pooled_domain_classifier(
        reference.sample[shared],
        [currents[i].sample[shared] for i in pooled],
        categorical,
        max_rows=config.multivariate_sample,
    )
    for i, result in zip(pooled, results, strict=True):
        out[i] = _verdict(_noted(result, note), config)
    return out


def _budget(
    names: list[str], categorical: list[str], runs: list[list[ColumnDrift]], config: DriftConfig
) -> tuple[list[str], list[str], str | None]:
    """At most ``config.multivariate_columns`` of ``names`` (wide data: the fit's cost grows with the
    columns): those whose drift score is largest relative to its threshold in any run, in their order; and
    the note saying so (``None`` when all are kept)."""
    k = config.multivariate_columns
    if len(names) <= k:
        return names, categorical, None
    ratio: dict[str, float] = {}
    for e in (e for entries in runs for e in entries if e.score is not None):
        ratio[e.column] = max(ratio.get(e.column, -np.inf), e.score / e.threshold if e.threshold else e.score)
    chosen = set(sorted(names, key=lambda n: (-ratio.get(n, -np.inf), n))[:k])
    note = f"on the {k} most drifted of {len(names)} feature columns"
    return [n for n in names if n in chosen], [n for n in categorical if n in chosen], note


def _noted(result: DomainClassifierResult, note: str | None) -> DomainClassifierResult:
    return result if note is None else replace(result, note="; ".join(filter(None, [result.note, note])))


def _classifier_columns(
    reference: DatasetProfile, current: DatasetProfile, entries: list[ColumnDrift]
) -> tuple[list[str], list[str]] | str:
    """``(columns, categorical ones)`` the domain classifier uses, or the note saying why it is skipped."""
    if reference.sample.empty or current.sample.empty:
        return "skipped: a profile keeps no row sample (sample_rows=0)"
    in_samples = set(reference.sample.columns) & set(current.sample.columns)
    names = [
        e.column for e in entries if e.score is not None and e.role == "feature" and e.column in in_samples
    ]
    categorical = [
        n
        for n in names
        if not reference.columns[n].is_numeric
        and not reference.columns[n].capped
        and reference.columns[n].distinct <= MAX_CATEGORIES
    ]
    names = [n for n in names if reference.columns[n].is_numeric or n in categorical]
    if len(names) < 2:
        return "needs two or more tested feature columns"
    return names, categorical


def _skipped(note: str, config: DriftConfig) -> MultivariateDrift:
    return MultivariateDrift(
        score=None,
        threshold=config.multivariate_threshold,
        drifted=False,
        alpha=config.multivariate_alpha,
        note=note,
    )


def _verdict(result: DomainClassifierResult, config: DriftConfig) -> MultivariateDrift:
    """Drifted when the AUC reaches the threshold and its p-value is below ``multivariate_alpha``; no score
    (``None``, as when skipped) when the classifier could not be trained (too few sampled rows)."""
    scored = bool(np.isfinite(result.auc))
    drifted = bool(
        scored and result.auc >= config.multivariate_threshold and result.p_value < config.multivariate_alpha
    )
    return MultivariateDrift(
        score=result.auc if scored else None,
        threshold=config.multivariate_threshold,
        drifted=drifted,
        p_value=result.p_value if scored else None,
        alpha=config.multivariate_alpha,
        n_reference=result.n_reference,
        n_current=result.n_current,
        note=result.note,
    )
