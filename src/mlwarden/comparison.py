"""``compare(reference, current)``: every check that needs only a reference and a current data set."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from mlwarden.errors import InputError
from mlwarden.findings import Finding, sort_findings
from mlwarden.profile import DatasetProfile, is_profile_file, load_profile, profile, read_table

if TYPE_CHECKING:
    from mlwarden.drift import DriftConfig
    from mlwarden.report import Report

Data = pd.DataFrame | DatasetProfile | str | Path
Progress = Callable[[str], None]


def load_data(data: Data, *, role: str) -> tuple[pd.DataFrame | None, DatasetProfile | None, str | None]:
    """``(rows, profile, source)`` for a DataFrame, a saved profile, or a CSV/Parquet path."""
    if isinstance(data, DatasetProfile):
        return None, data, data.source
    if isinstance(data, pd.DataFrame):
        return data, None, None
    if isinstance(data, str | Path):
        if is_profile_file(data):
            return None, load_profile(data), str(data)
        return read_table(data), None, str(data)
    raise InputError(
        f"{role}: expected a DataFrame, a saved profile or a CSV/Parquet path, got {type(data).__name__}"
    )


def compare(
    reference: Data,
    current: Data,
    *,
    target: str | None = None,
    prediction: str | None = None,
    score: str | list[str] | None = None,
    columns: list[str] | None = None,
    drift_config: DriftConfig | None = None,
    on_progress: Progress | None = None,
) -> Report:
    """Compare ``current`` with ``reference``: drift, data quality, output sanity and performance.

    Each side may be a DataFrame, a saved profile or a CSV/Parquet path. ``target``, ``prediction`` and
    ``score`` name the label, the model's predicted label and its score column(s) (one per class for a
    multiclass model); performance is estimated whenever a score and a labelled reference are available,
    and realized when ``current`` has the target too.
    """
    ref_rows, ref_profile, ref_source = load_data(reference, role="reference")
    cur_rows, cur_profile, cur_source = load_data(current, role="current")
    scores = [score] if isinstance(score, str) else list(score or [])
    ref_names, cur_names = _names(ref_rows, ref_profile), _names(cur_rows, cur_profile)
    named = [("--prediction", prediction)] + [("--score", s) for s in scores]
    for option, column in named:
        for role, names in (("reference", ref_names), ("current", cur_names)):
            if column is not None and column not in names:
                raise InputError(f"{role} has no column '{column}' (given as {option})")
    if target is not None and target not in ref_names and target not in cur_names:
        raise InputError(f"neither reference nor current has a column '{target}' (given as --target)")

    if ref_profile is None:
        ref_profile = profile(ref_rows, columns=columns, source=ref_source, on_column=on_progress)
    if cur_profile is None:
        cur_columns = [c for c in (columns or list(ref_profile.columns)) if c in cur_rows.columns]
        if not cur_columns and len(cur_rows.columns):
            ref_names = ", ".join(list(ref_profile.columns)[:10])
            cur_names = ", ".join(map(str, cur_rows.columns[:10]))
            raise InputError(
                f"reference and current share no columns (reference: {ref_names}; current: {cur_names})"
            )
        cur_profile = profile(cur_rows, reference=ref_profile, source=cur_source, on_column=on_progress)

    return evaluate(
        ref_profile,
        cur_profile,
        ref_rows=ref_rows,
        cur_rows=cur_rows,
        target=target,
        prediction=prediction,
        scores=scores,
        columns=columns,
        drift_config=drift_config,
    )


def evaluate(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    ref_rows: pd.DataFrame | None = None,
    cur_rows: pd.DataFrame | None = None,
    target: str | None = None,
    prediction: str | None = None,
    scores: list[str] | tuple[str, ...] = (),
    columns: list[str] | None = None,
    drift_config: DriftConfig | None = None,
    slo: dict[str, float] | None = None,
) -> Report:
    """Run every check on two profiles; performance also needs rows with the output columns.

    ``ref_rows`` is the labelled reference (target, prediction, scores; features too for regression loss
    estimation) and ``cur_rows`` the current outputs, with the target where labels arrived. ``slo`` maps
    metric names to the bounds whose breach is critical.
    """
    from mlwarden.drift import detect_drift
    from mlwarden.quality import check_data_quality, check_output
    from mlwarden.report import Report

    scores = list(scores)
    drift = detect_drift(reference, current, columns=columns, config=drift_config)
    outputs = tuple(c for c in (prediction, *scores) if c)
    findings: list[Finding] = drift.findings()
    findings += check_data_quality(reference, current, exclude=outputs)
    findings += check_output(reference, current, prediction=prediction, scores=scores)
    performance, perf_findings, notes = _performance(ref_rows, cur_rows, target, prediction, scores, slo)
    findings += perf_findings
    return Report(
        reference=reference,
        current=current,
        drift=drift,
        findings=sort_findings(findings),
        performance=performance,
        notes=notes,
    )


def _names(rows: pd.DataFrame | None, prof: DatasetProfile | None) -> set[str]:
    return set(map(str, rows.columns)) if rows is not None else set(prof.columns)


def _performance(
    ref_rows: pd.DataFrame | None,
    cur_rows: pd.DataFrame | None,
    target: str | None,
    prediction: str | None,
    scores: list[str],
    slo: dict[str, float] | None = None,
) -> tuple[dict[str, dict[str, float | None]], list[Finding], list[str]]:
    """Estimated performance (needs a labelled reference) and realized performance (needs current labels)."""
    from mlwarden.performance import estimate_performance, realized_performance
    from mlwarden.performance.findings import estimate_mismatch, performance_findings

    performance: dict[str, dict[str, float | None]] = {"estimated": {}, "realized": {}}
    if target is None or (prediction is None and not scores):
        return performance, [], []
    notes, findings = [], []
    baseline: dict[str, float | None] | None = None
    if ref_rows is None or target not in ref_rows.columns:
        notes.append("performance is estimated only from a labelled reference (data, not a saved profile)")
    elif cur_rows is None:
        notes.append("performance needs current rows, not a saved profile")
    else:
        baseline = realized_performance(ref_rows, target=target, prediction=prediction, scores=scores)
        performance["estimated"] = estimate_performance(
            ref_rows, cur_rows, target=target, prediction=prediction, scores=scores
        )
        findings += performance_findings("estimated", performance["estimated"], reference=baseline, slo=slo)
        notes.append(
            "estimated performance assumes inputs/scores relate to outcomes as on the reference "
            "(covariate shift is fine; concept shift stays invisible until labels arrive)"
        )
    if cur_rows is not None and target in cur_rows.columns and cur_rows[target].notna().any():
        performance["realized"] = realized_performance(
            cur_rows, target=target, prediction=prediction, scores=scores
        )
        findings += performance_findings("realized", performance["realized"], reference=baseline, slo=slo)
        findings += estimate_mismatch(performance["estimated"], performance["realized"])
    elif cur_rows is not None:
        notes.append(f"no labels in current data ('{target}'): realized performance not computed")
    return performance, findings, notes
