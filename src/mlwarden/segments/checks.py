"""Checks per segment: drift, data quality, output sanity and performance of each segment of the current
data against the same segment of the reference: drift with one multiple-testing correction across the whole
data and every segment, performance with one across every segment (docs/segments.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlwarden.drift import DriftConfig, DriftResult, detect_drift_jointly
from mlwarden.errors import InputError
from mlwarden.findings import Finding, Severity, finite_or_none, sort_findings, worst_severity
from mlwarden.profile import DatasetProfile
from mlwarden.profile.segments import OTHER, SegmentSplit, capped, row_labels, split_columns, split_name
from mlwarden.schema import ColumnMapping
from mlwarden.schema.config import ALL_SEGMENTS

if TYPE_CHECKING:
    from mlwarden.performance import ReferenceFit


@dataclass(slots=True)
class SegmentResult:
    """What the checks found in one segment: ``segment`` is ``"country=FR"`` (crossings
    ``"country,plan=FR,pro"``), ``column``/``value`` its split and value, ``rows`` the reference's and the
    current's row counts; ``drift`` is ``None`` for a segment the reference lacks (then ``findings`` holds
    one ``segment.unseen`` finding)."""

    segment: str
    column: str
    value: str
    rows: dict[str, int]
    drift: DriftResult | None
    performance: dict[str, dict[str, float | None]] = field(
        default_factory=lambda: {"estimated": {}, "realized": {}}
    )
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def rank(self) -> tuple[int, int, int, int]:
        """Sort key, worst first: most severe finding, then the number of critical and warning findings,
        then the current rows."""
        worst = worst_severity(f for f in self.findings if f.severity is not Severity.INFO)
        serious = [f for f in self.findings if f.severity is not Severity.INFO]
        critical = sum(f.severity is Severity.CRITICAL for f in serious)
        return (-(worst.rank if worst else -1), -critical, -len(serious), -self.rows["current"])

    def to_dict(self) -> dict[str, Any]:
        """The entry of the JSON's ``segments`` list (DESIGN §9)."""
        return {
            "segment": self.segment,
            "column": self.column,
            "value": self.value,
            "rows": self.rows,
            "drift": None if self.drift is None else self.drift.to_dict(),
            "performance": {
                kind: {name: finite_or_none(v) for name, v in metrics.items()}
                for kind, metrics in self.performance.items()
            },
            "findings": [f.to_dict() for f in self.findings],
            "notes": self.notes,
        }


@dataclass(frozen=True, slots=True)
class SegmentDrift:
    """One current's drift, decided together with its segments' (:func:`decide_segment_drift`): the whole
    data's, and each segment's that the reference has (segment name → result; empty without segments)."""

    whole: DriftResult
    segments: dict[str, DriftResult]


def segment_slo(slo: dict[str, dict[str, float]] | None, segment: str) -> dict[str, float]:
    """The SLO limits of one segment: the ``"*"`` entry, overridden by the segment's own."""
    slo = slo or {}
    return {**slo.get(ALL_SEGMENTS, {}), **slo.get(segment, {})}


def splits_of(profile: DatasetProfile, mapping: ColumnMapping, *, side: str) -> list[SegmentSplit]:
    """The profile's splits for ``mapping.segments``; raises :class:`InputError` when one is missing (a
    saved profile made without them)."""
    out = []
    for spec in mapping.segments:
        name = split_name(split_columns(spec))
        if name not in profile.segments:
            raise InputError(
                f"{side} profile has no segments for '{name}' (columns.segments); profile the data with "
                f"segments=[{name!r}] or give the rows"
            )
        out.append(profile.segments[name])
    return out


def check_segments(
    reference: DatasetProfile,
    current: DatasetProfile,
    *,
    mapping: ColumnMapping,
    roles: dict[str, str],
    config: DriftConfig,
    ref_rows: pd.DataFrame | None = None,
    cur_rows: pd.DataFrame | None = None,
    slo: dict[str, dict[str, float]] | None = None,
    fits: Mapping[str, ReferenceFit] | None = None,
    decided: SegmentDrift | None = None,
) -> tuple[DriftResult, list[SegmentResult]]:
    """Drift of the whole data and of every segment in ``mapping.segments``, decided together (one
    Benjamini–Hochberg correction over all their tests, each verdict also needing its effect size), then
    data quality, output sanity and performance per segment; every segment's performance comparisons (SLO
    and reference, estimated and realized) are decided together too (one Holm correction,
    :func:`~mlwarden.performance.decide_jointly`: a finding needs its effect and its adjusted evidence).
    ``roles`` are the whole data's drift roles (:func:`mlwarden.comparison.drift_roles`); segment columns
    are not drift-tested inside their own segments. ``slo`` maps segment names (``"*"``: every segment) to
    SLO limits. ``fits``: the reference's per-segment performance fits made once by :func:`fit_segments`
    (with ``ref_rows`` and ``mapping``) for any number of currents; fitted here when not given.
    ``decided``: the drift :func:`decide_segment_drift` decided already for these two profiles, roles,
    ``mapping`` and ``config`` (a re-evaluation whose rows alone changed: labels arrived), reused rather
    than tested again.

    Returns the whole data's drift and the segment results, worst first. Raises :class:`InputError` when a
    profile lacks a requested split.
    """
    (found,) = check_segments_jointly(
        reference,
        [(current, roles, cur_rows)],
        mapping=mapping,
        config=config,
        ref_rows=ref_rows,
        slo=slo,
        fits=fits,
        decided=None if decided is None else [decided],
    )
    return found


def check_segments_jointly(
    reference: DatasetProfile,
    currents: Sequence[tuple[DatasetProfile, dict[str, str], pd.DataFrame | None]],
    *,
    mapping: ColumnMapping,
    config: DriftConfig,
    ref_rows: pd.DataFrame | None = None,
    slo: dict[str, dict[str, float]] | None = None,
    fits: Mapping[str, ReferenceFit] | None = None,
    decided: Sequence[SegmentDrift] | None = None,
) -> list[tuple[DriftResult, list[SegmentResult]]]:
    """:func:`check_segments` for several currents against one reference — the chunks of a time series
    (docs/chunks.md) — each given as ``(profile, roles, rows)``: one Benjamini–Hochberg correction over the
    drift tests of every current × (whole data and segment) × column, one Holm correction over the
    performance comparisons of every current × segment × metric. The reference's per-segment CBPE/DLE
    fits are ``fits`` (:func:`fit_segments`), or made here once for every current. ``decided``: each
    current's drift decided already (:func:`decide_segment_drift` of the same profiles, roles, ``mapping``
    and ``config``), reused rather than tested again. Returns ``(whole data's drift, segment results worst
    first)`` per current, in order."""
    from mlwarden.performance import decide_jointly, measure_performance
    from mlwarden.quality import check_data_quality, check_output

    if decided is None:
        decided = decide_segment_drift(
            reference, [(current, roles) for current, roles, _ in currents], mapping=mapping, config=config
        )
    ref_splits = splits_of(reference, mapping, side="reference")
    segment_columns = {c for spec in mapping.segments for c in split_columns(spec)}
    rated = _rated(mapping)  # rows per segment: for performance only
    fits = fit_segments(reference, ref_rows, mapping) if fits is None else fits
    pairs: list[tuple[int, SegmentSplit, str, DatasetProfile, DatasetProfile]] = []
    unseen: list[list[SegmentResult]] = []
    measured = []
    for i, (current, _, cur_rows) in enumerate(currents):
        cur_splits = splits_of(current, mapping, side="current")
        unseen.append([])
        for ref_split, cur_split in zip(ref_splits, cur_splits, strict=True):
            cur_groups = _row_groups(cur_rows if rated else None, cur_split)
            for label, cur_part in cur_split.parts.items():
                ref_part = ref_split.parts.get(label)
                if ref_part is None:
                    unseen[i].append(_unseen(cur_split, label, cur_part, current.rows))
                    continue
                name = ref_split.segment(label)
                pairs.append((i, ref_split, label, ref_part, cur_part))
                measured.append(
                    measure_performance(
                        None, cur_groups.get(label), mapping, segment_slo(slo, name) or None, fit=fits[name]
                    )
                )
    judged, perf_notes = decide_jointly([m.tests for m in measured])
    exclude = tuple(mapping.roles | set(mapping.ignore) | segment_columns)
    results: list[list[SegmentResult]] = [list(u) for u in unseen]
    for (i, split, label, ref_part, cur_part), perf, perf_found, more_notes in zip(
        pairs, measured, judged, perf_notes, strict=True
    ):
        name = split.segment(label)
        drift = decided[i].segments[name]
        found = drift.findings()
        found += check_data_quality(ref_part, cur_part, exclude=exclude)
        found += check_output(ref_part, cur_part, prediction=mapping.prediction, scores=mapping.score_columns)
        found += perf_found + perf.findings
        results[i].append(
            SegmentResult(
                segment=name,
                column=split.name,
                value=label,
                rows={"reference": ref_part.rows, "current": cur_part.rows},
                drift=drift,
                performance=perf.performance,
                findings=sort_findings(replace(f, segment=name) for f in found),
                notes=perf.notes + more_notes,
            )
        )
    return [
        (drift.whole, sorted(found, key=lambda r: (r.rank, r.segment)))
        for drift, found in zip(decided, results, strict=True)
    ]


def decide_segment_drift(
    reference: DatasetProfile,
    currents: Sequence[tuple[DatasetProfile, dict[str, str]]],
    *,
    mapping: ColumnMapping,
    config: DriftConfig,
) -> list[SegmentDrift]:
    """The drift part of :func:`check_segments_jointly`, which depends on the profiles alone (never on
    rows or labels): the whole data's and every segment's drift of each current (given as ``(profile,
    roles)``), decided together (one Benjamini–Hochberg correction; the domain classifier on each whole
    current). Raises :class:`InputError` when a profile lacks a requested split."""
    ref_splits = splits_of(reference, mapping, side="reference")
    segment_columns = {c for spec in mapping.segments for c in split_columns(spec)}
    triples = []
    names: list[str | None] = []  # None: a current's whole data
    for current, roles in currents:
        cur_splits = splits_of(current, mapping, side="current")
        triples.append((reference, current, roles))
        names.append(None)
        # segment columns are constant inside their segments: not tested there
        inner_roles = {c: r for c, r in roles.items() if c not in segment_columns}
        for ref_split, cur_split in zip(ref_splits, cur_splits, strict=True):
            for label, cur_part in cur_split.parts.items():
                ref_part = ref_split.parts.get(label)
                if ref_part is not None:  # a segment the reference lacks is unseen, not tested
                    triples.append((ref_part, cur_part, inner_roles))
                    names.append(ref_split.segment(label))
    drifts = detect_drift_jointly(triples, config, multivariate=[name is None for name in names])
    out: list[SegmentDrift] = []
    for drift, name in zip(drifts, names, strict=True):
        if name is None:
            out.append(SegmentDrift(drift, {}))
        else:
            out[-1].segments[name] = drift
    return out


def fit_segments(
    reference: DatasetProfile, ref_rows: pd.DataFrame | None, mapping: ColumnMapping
) -> dict[str, ReferenceFit]:
    """The reference prepared for performance in each of its segments, once for any number of currents:
    segment name (``"plan=pro"``) → :func:`~mlwarden.performance.fit_reference` of the segment's rows of
    ``ref_rows`` (grouped as the reference's splits of ``mapping.segments`` hold them; values beyond a
    split's cap pooled as ``(other)``), for every segment the reference has. Without a target or outputs in
    the mapping, or without rows, each fit holds no rows. Estimators are fitted on first use
    (:meth:`~mlwarden.performance.ReferenceFit.estimator`). Raises :class:`InputError` when the reference
    lacks a requested split, or as :func:`fit_reference` when the mapping contradicts a segment's rows."""
    from mlwarden.performance import fit_reference

    rows = ref_rows if _rated(mapping) else None
    fits = {}
    for split in splits_of(reference, mapping, side="reference"):
        groups = _row_groups(rows, split)
        for label in split.parts:
            fits[split.segment(label)] = fit_reference(groups.get(label), mapping)
    return fits


def _rated(mapping: ColumnMapping) -> bool:
    """Whether segments' performance is measured (a target and outputs): only then are rows grouped."""
    return mapping.target is not None and bool(mapping.outputs)


def _unseen(split: SegmentSplit, label: str, part: DatasetProfile, total: int) -> SegmentResult:
    name = split.segment(label)
    share = part.rows / total if total else 0.0
    finding = Finding(
        check="segment.unseen",
        severity=Severity.WARNING,
        message=f"{name}: {part.rows:,} current rows ({share:.1%}) in a segment the reference does not "
        "have: nothing to compare them with",
        segment=name,
        value=share,
        evidence={"rows": part.rows},
    )
    return SegmentResult(
        segment=name,
        column=split.name,
        value=label,
        rows={"reference": 0, "current": part.rows},
        drift=None,
        findings=[finding],
    )


def _row_groups(rows: pd.DataFrame | None, split: SegmentSplit) -> dict[str, pd.DataFrame]:
    """``rows`` grouped by the split's labels, values the split does not keep pooled as ``(other)`` —
    grouped once (codes, then one stable argsort), not filtered per segment."""
    if rows is None:
        return {}
    codes, labels = row_labels(rows, split.columns)
    kept = [label for label in labels if label in split.parts]
    if len(kept) < len(labels):  # values beyond the split's cap: its (other) segment
        codes, labels = capped(codes, labels, len(labels))  # ranked, nothing pooled
        to_part = np.array([label in split.parts for label in labels])
        other = len(labels)
        codes = np.where(to_part[codes], codes, other)
        labels = [*labels, OTHER]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(labels) + 1))
    return {
        label: rows.iloc[order[bounds[i] : bounds[i + 1]]]
        for i, label in enumerate(labels)
        if bounds[i + 1] > bounds[i]
    }
