"""``compare(reference, current)``: every check that needs only a reference and a current data set."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from mlwarden.errors import InputError
from mlwarden.findings import Finding, Severity, sort_findings
from mlwarden.profile import DatasetProfile, is_profile_file, load_profile, profile, read_table
from mlwarden.schema import ColumnMapping

if TYPE_CHECKING:
    from mlwarden.drift import DriftConfig, DriftResult
    from mlwarden.performance import ReferenceFit
    from mlwarden.profile.segments import SegmentSpec
    from mlwarden.report import Report
    from mlwarden.segments import SegmentDrift, SegmentResult

Data = pd.DataFrame | DatasetProfile | str | Path
Progress = Callable[[str], None]
Scores = str | list[str] | dict[Any, str]
OUTPUT_FIELDS = ("prediction", "scores")  # roles that must exist on both sides


def load_data(
    data: Data, *, role: str, rows: bool = True
) -> tuple[pd.DataFrame | None, DatasetProfile | None, str | None]:
    """``(rows, profile, source)`` for a DataFrame, a saved profile, or a CSV/Parquet path.

    Column names of rows come back as strings (a frame built from a numpy array has integer names), so that
    names given by the user, the profile's names and the rows' names are one and the same. With
    ``rows=False`` a data file is not read (``(None, None, path)``): the caller streams it.
    """
    if isinstance(data, DatasetProfile):
        return None, data, data.source
    if isinstance(data, pd.DataFrame):
        return string_columns(data, role=role), None, None
    if isinstance(data, str | Path):
        if is_profile_file(data):
            return None, load_profile(data), str(data)
        if not rows:
            return None, None, str(data)
        return string_columns(read_table(data), role=str(data)), None, str(data)
    raise InputError(
        f"{role}: expected a DataFrame, a saved profile or a CSV/Parquet path, got {type(data).__name__}"
    )


def string_columns(frame: pd.DataFrame, *, role: str) -> pd.DataFrame:
    """``frame`` with its column names as strings (no data is copied); raise if two names then clash."""
    if all(isinstance(c, str) for c in frame.columns):
        return frame
    names = [str(c) for c in frame.columns]
    if len(set(names)) != len(names):
        clash = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"{role}: column names clash once written as text: {', '.join(clash)}")
    return frame.set_axis(names, axis=1)


def compare(
    reference: Data,
    current: Data,
    *,
    mapping: ColumnMapping | None = None,
    target: str | None = None,
    prediction: str | None = None,
    score: Scores | None = None,
    columns: list[str] | None = None,
    drift_config: DriftConfig | None = None,
    slo: dict[str, float] | None = None,
    on_progress: Progress | None = None,
    segments: list[SegmentSpec] | None = None,
    segment_slo: dict[str, dict[str, float]] | None = None,
) -> Report:
    """Compare ``current`` with ``reference``: drift, data quality, output sanity and performance.

    Each side may be a DataFrame, a saved profile or a CSV/Parquet path. ``mapping`` says what each column
    is (:class:`~mlwarden.schema.ColumnMapping`); ``target``, ``prediction`` and ``score`` are shortcuts
    merged into it (``score``: one column, a list in sorted class order, or a ``{class: column}`` map).
    ``columns`` limits the *features* tested (columns with a role are always used). ``slo`` maps metric
    names to the limits whose breach is critical (``{"roc_auc": 0.78}``: at least; ``{"mae": 3}``: at most).
    ``segments`` (added to ``mapping.segments``: a column, or a tuple of columns to cross) runs every check
    per segment too (``report.segments``, docs/segments.md); ``segment_slo`` maps segment names
    (``"country=FR"``, ``"*"`` for every segment) to their SLO limits.

    The current rows' ``mapping.id`` is checked for duplicate and missing ids (``quality.duplicate_ids``,
    ``quality.missing_ids``). Performance is estimated whenever outputs and a labelled reference (rows, not
    a saved profile) are available, and realized when ``current`` holds labels too. Raises
    :class:`InputError` when a column the mapping names is missing, the reference has no rows, or the two
    sides share no column.
    """
    mapping = (mapping or ColumnMapping()).merged(
        target=_name(target), prediction=_name(prediction), scores=_score_names(score), segments=segments
    )
    rows = _needs_rows(mapping)
    ref_rows, ref_profile, ref_source = load_data(reference, role="reference", rows=rows)
    cur_rows, cur_profile, cur_source = load_data(current, role="current", rows=rows)
    ref_names = _names(ref_rows, ref_profile, ref_source)
    cur_names = _names(cur_rows, cur_profile, cur_source)
    check_named_columns(mapping, ref_names, cur_names)
    if columns is not None:
        mapping = _only_features(mapping, [str(c) for c in columns], ref_names)
    if ref_profile is None:
        ref_data = ref_rows if ref_rows is not None else ref_source
        ref_profile = profile(ref_data, mapping=mapping, source=ref_source, on_column=on_progress)
    if cur_profile is None:
        if not set(ref_profile.columns) & set(cur_names) and cur_names:
            raise InputError(
                f"reference and current share no columns (reference: {', '.join(ref_names[:10])}; "
                f"current: {', '.join(cur_names[:10])})"
            )
        cur_data = cur_rows if cur_rows is not None else cur_source
        cur_profile = profile(
            cur_data, mapping=mapping, reference=ref_profile, source=cur_source, on_column=on_progress
        )
    report = evaluate(
        ref_profile,
        cur_profile,
        mapping=mapping,
        ref_rows=ref_rows,
        cur_rows=cur_rows,
        drift_config=drift_config,
        slo=slo,
        segment_slo=segment_slo,
    )
    if cur_rows is None and cur_profile.rows and mapping.id in cur_names and isinstance(current, str | Path):
        cur_rows = read_table(current, columns=[mapping.id])  # streamed: read the id column alone
    if cur_rows is not None and mapping.id in cur_rows.columns and cur_profile.rows:
        from mlwarden.quality import check_ids  # the service checks each batch's ids the same way

        report.findings = sort_findings(report.findings + check_ids(cur_rows[mapping.id], column=mapping.id))
    return report


def _needs_rows(mapping: ColumnMapping) -> bool:
    """Whether files must be read whole: performance needs the rows of the target and outputs, segments
    the rows to split; every other check works on profiles, so files are streamed in bounded memory
    (:mod:`mlwarden.profile.stream`)."""
    return bool(mapping.target or mapping.prediction or mapping.score_columns or mapping.segments)


def evaluate(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    mapping: ColumnMapping,
    ref_rows: pd.DataFrame | None = None,
    cur_rows: pd.DataFrame | None = None,
    drift_config: DriftConfig | None = None,
    slo: dict[str, float] | None = None,
    drift: DriftResult | None = None,
    fit: ReferenceFit | None = None,
    segment_slo: dict[str, dict[str, float]] | None = None,
    segments: list[SegmentResult] | None = None,
    segment_fits: Mapping[str, ReferenceFit] | None = None,
    decided: SegmentDrift | None = None,
) -> Report:
    """Run every check on two profiles; performance also needs rows with the output columns.

    Features (``mapping.features``) are tested for drift together (multivariate check included); the
    target (when current holds labels) and the outputs are tested too, each reported in its own section;
    the id (one info finding says so) and the timestamp are never tested. ``ref_rows`` is the labelled
    reference (target, outputs; features too for regression loss estimation) and ``cur_rows`` the current
    rows, with the target where labels arrived. An empty current gives one critical ``data.empty``
    finding and nothing else; an empty reference raises :class:`InputError`. ``drift`` (decided already,
    e.g. jointly with other chunks) and ``fit`` (the reference's fitted estimator) are reused when given.
    With ``mapping.segments`` every check also runs per segment (:func:`mlwarden.segments.check_segments`;
    both profiles need the splits), drift decided jointly with the whole data's; ``segment_slo`` maps
    segment names (``"*"``: every segment) to their SLO limits, and ``segment_fits`` are the reference's
    per-segment fits (:func:`mlwarden.segments.fit_segments`), reused when given. ``segments``: the
    segment results decided already together with ``drift``
    (:func:`mlwarden.segments.check_segments_jointly`, for chunks); a ``drift`` without them for a mapping
    with segments raises :class:`InputError` (segment drift must be decided together with the whole
    data's). ``decided``: this pair's drift, the whole data's and each segment's, decided already by
    :func:`decide_drift` for the same two profiles, ``mapping`` and ``drift_config`` — a re-evaluation
    whose rows alone changed (labels arrived) — reused rather than tested again: every other check runs.
    """
    from mlwarden.drift import DriftConfig, DriftResult
    from mlwarden.performance import assess_performance
    from mlwarden.quality import check_data_quality, check_output
    from mlwarden.report import Report

    if reference.rows == 0:
        raise InputError("reference has no rows: a reference needs data to compare against")
    if current.rows == 0:
        empty = DriftResult(columns=[])
        return Report(reference, current, drift=empty, findings=[_empty_current()], mapping=mapping)
    roles, notes = drift_roles(mapping, reference, current)
    if mapping.segments and segments is None:
        if drift is not None:
            raise InputError(
                "segments: a drift decided elsewhere needs its segment results, decided with it "
                "(mlwarden.segments.check_segments_jointly)"
            )
        from mlwarden.segments import check_segments

        drift, segments = check_segments(
            reference,
            current,
            mapping=mapping,
            roles=roles,
            config=DriftConfig.from_mapping(mapping, base=drift_config),
            ref_rows=ref_rows,
            cur_rows=cur_rows,
            slo=segment_slo,
            fits=segment_fits,
            decided=decided,
        )
    elif drift is None:
        decided = decided or decide_drift(reference, current, mapping=mapping, drift_config=drift_config)
        drift = decided.whole
    findings: list[Finding] = drift.findings() + _identifier_findings(mapping, reference)
    segments = segments or []
    findings += [f for segment in segments for f in segment.findings]
    findings += _new_column_findings(mapping, reference, current)
    findings += check_data_quality(reference, current, exclude=tuple(mapping.roles | set(mapping.ignore)))
    findings += check_output(reference, current, prediction=mapping.prediction, scores=mapping.score_columns)
    performance, perf_findings, perf_notes = assess_performance(ref_rows, cur_rows, mapping, slo, fit=fit)
    return Report(
        reference=reference,
        current=current,
        drift=drift,
        findings=sort_findings(findings + perf_findings),
        performance=performance,
        notes=notes + perf_notes,
        mapping=mapping,
        segments=segments,
    )


def decide_drift(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    mapping: ColumnMapping,
    drift_config: DriftConfig | None = None,
) -> SegmentDrift:
    """The drift part of :func:`evaluate` — the two profiles' alone, whatever rows and labels come with
    them: the whole data's drift (univariate tests and the domain classifier) and, with
    ``mapping.segments``, each segment's, decided together; for :func:`evaluate`'s ``decided``. Both
    profiles must hold rows. Raises :class:`InputError` when a profile lacks a requested split."""
    from mlwarden.drift import DriftConfig, detect_drift
    from mlwarden.segments import SegmentDrift, decide_segment_drift

    roles, _ = drift_roles(mapping, reference, current)
    config = DriftConfig.from_mapping(mapping, base=drift_config)
    if mapping.segments:
        (decided,) = decide_segment_drift(reference, [(current, roles)], mapping=mapping, config=config)
        return decided
    return SegmentDrift(detect_drift(reference, current, columns=list(roles), config=config, roles=roles), {})


def drift_roles(
    mapping: ColumnMapping, reference: DatasetProfile, current: DatasetProfile
) -> tuple[dict[str, str], list[str]]:
    """``({column: role}, notes)`` for the drift test: every feature, the outputs, and the target when the
    current data holds labels (a current without labels yet is normal, not a missing column)."""
    roles = {column: "feature" for column in mapping.features(reference.columns)}
    roles.update({c: "prediction" for c in [mapping.prediction] if c in reference.columns})
    roles.update({c: "score" for c in mapping.score_columns if c in reference.columns})
    notes = []
    target = mapping.target
    if target is not None and target in reference.columns:
        if target in current.columns and current.columns[target].count > 0:
            roles[target] = "target"
        else:
            notes.append(f"no labels in current data ('{target}'): target drift not tested")
    return roles, notes


def check_named_columns(mapping: ColumnMapping, ref_names: list[str], cur_names: list[str]) -> None:
    """Raise :class:`InputError` naming the field and column when a column the mapping names is missing:
    outputs must be on both sides, the target on at least one, every other named column in the reference."""
    for column, field_name in mapping.named_columns().items():
        if field_name == "target":
            if column not in ref_names and column not in cur_names:
                raise InputError(f"neither reference nor current has a column '{column}' (columns.target)")
            continue
        sides = [("reference", ref_names)]
        if field_name in OUTPUT_FIELDS:
            sides.append(("current", cur_names))
        for side, names in sides:
            if column not in names:
                raise InputError(f"{side} has no column '{column}' (columns.{field_name})")


def _empty_current() -> Finding:
    return Finding(
        check="data.empty",
        severity=Severity.CRITICAL,
        message="current data is empty (0 rows): nothing to compare with the reference",
        value=0.0,
    )


def _identifier_findings(mapping: ColumnMapping, reference: DatasetProfile) -> list[Finding]:
    """An info finding for the column the mapping names as the row id: an identifier by role, not tested."""
    if mapping.id is None or mapping.id not in reference.columns:
        return []
    return [
        Finding(
            check="drift",
            severity=Severity.INFO,
            message=f"{mapping.id}: identifier (columns.id): not tested for drift",
            column=mapping.id,
            evidence={"role": "id"},
        )
    ]


def _new_column_findings(
    mapping: ColumnMapping, reference: DatasetProfile, current: DatasetProfile
) -> list[Finding]:
    """An info finding per current column the reference does not have (and the mapping does not ignore):
    nothing to compare it with, so it is not tested — said rather than passed over in silence."""
    return [
        Finding(
            check="drift.new_column",
            severity=Severity.INFO,
            message=f"{name}: in current data only, not in the reference: not tested",
            column=name,
        )
        for name in current.columns
        if name not in reference.columns and name not in mapping.ignore and name not in mapping.roles
    ]


def _only_features(mapping: ColumnMapping, columns: list[str], ref_names: list[str]) -> ColumnMapping:
    """``mapping`` ignoring every feature not in ``columns``."""
    unknown = [c for c in columns if c not in ref_names]
    if unknown:
        raise InputError(f"columns not in the reference: {', '.join(unknown)}")
    keep = set(columns) | mapping.roles
    return mapping.merged(ignore=[c for c in ref_names if c not in keep])


def _name(column: Any) -> str | None:
    return None if column is None else str(column)


def _score_names(score: Scores | None) -> Scores | None:
    if score is None or isinstance(score, str):
        return score
    if isinstance(score, dict):
        return {label: str(column) for label, column in score.items()}
    return [str(column) for column in score]


def _names(rows: pd.DataFrame | None, prof: DatasetProfile | None, source: str | None = None) -> list[str]:
    if rows is not None:
        return list(rows.columns)
    if prof is not None:
        return list(prof.columns)
    from mlwarden.profile.stream import table_columns  # a file to stream: its header or schema

    return table_columns(source)
