"""``Monitor``: profile the reference and fit its performance estimator once, then judge many chunks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from mlwarden.chunks.report import ChunkedReport, ChunkResult
from mlwarden.chunks.split import Chunk, split_chunks
from mlwarden.comparison import (
    Data,
    Progress,
    Scores,
    _name,
    _names,
    _only_features,
    _score_names,
    check_named_columns,
    drift_roles,
    evaluate,
    load_data,
)
from mlwarden.errors import InputError
from mlwarden.findings import Finding, Severity, sort_findings
from mlwarden.profile import DatasetProfile, is_profile_file, profile, read_table
from mlwarden.schema import ColumnMapping

if TYPE_CHECKING:
    from mlwarden.drift import DriftConfig
    from mlwarden.profile.segments import SegmentSpec
    from mlwarden.report import Report
    from mlwarden.segments import SegmentResult

MIN_CHUNK_ROWS = 50  # the fewest rows CBPE and DLE fit on: a smaller chunk is judged, with a note


class Monitor:
    """The reference, prepared once, against which any number of current chunks are judged.

    >>> mapping = mw.ColumnMapping(target="y", scores="p")
    >>> monitor = mw.Monitor(reference_df, mapping=mapping, slo={"roc_auc": 0.8})
    >>> monitor.check(current_df)                                       # -> Report, as mw.compare
    >>> monitor.check_chunks(current_df, chunk_by="ts", period="1d")    # -> ChunkedReport

    The reference (a DataFrame, a saved profile or a CSV/Parquet path) is profiled once and its CBPE
    (classifier) or DLE (regression) estimator fitted once, on first use; every chunk reuses both.
    ``mapping``, ``target``/``prediction``/``score``, ``columns`` and ``slo`` mean what they mean for
    :func:`mlwarden.compare`; ``drift`` is the :class:`~mlwarden.drift.DriftConfig`. With segments
    (``mapping.segments``, ``segments``) every chunk is also judged per segment (``report.segments``), and
    ``segment_slo`` maps segment names (``"*"``: every segment) to their SLO limits. Raises
    :class:`InputError` when a column the mapping names is missing from the reference (outputs are checked
    on each chunk too) or the reference has no rows.
    """

    def __init__(
        self,
        reference: Data,
        mapping: ColumnMapping | None = None,
        *,
        target: str | None = None,
        prediction: str | None = None,
        score: Scores | None = None,
        columns: list[str] | None = None,
        slo: dict[str, float] | None = None,
        drift: DriftConfig | None = None,
        on_progress: Progress | None = None,
        segments: list[SegmentSpec] | None = None,
        segment_slo: dict[str, dict[str, float]] | None = None,
    ) -> None:
        from mlwarden.drift import DriftConfig
        from mlwarden.performance import fit_reference
        from mlwarden.segments import fit_segments

        mapping = (mapping or ColumnMapping()).merged(
            target=_name(target), prediction=_name(prediction), scores=_score_names(score), segments=segments
        )
        ref_rows, ref_profile, source = load_data(reference, role="reference")
        self._ref_names = _names(ref_rows, ref_profile, source)
        if columns is not None:
            mapping = _only_features(mapping, [str(c) for c in columns], self._ref_names)
        # the reference's side now (as current, the names it surely has: the target may be in chunks only)
        check_named_columns(mapping, self._ref_names, [*self._ref_names, str(mapping.target)])
        if ref_profile is None:
            ref_profile = profile(ref_rows, mapping=mapping, source=source, on_column=on_progress)
        if ref_profile.rows == 0:
            raise InputError("reference has no rows: a reference needs data to compare against")
        self.mapping = mapping
        self.reference = ref_profile
        self.slo = slo
        self.segment_slo = segment_slo
        self.drift_config = DriftConfig.from_mapping(mapping, base=drift)
        self._ref_rows = ref_rows
        self.fit = fit_reference(ref_rows, mapping)
        self.segment_fits = fit_segments(ref_profile, ref_rows, mapping) if mapping.segments else {}

    def check(self, current: Data) -> Report:
        """Judge one current data set (DataFrame, saved profile or CSV/Parquet path) as
        :func:`mlwarden.compare` would, with the reference's profile and estimator reused."""
        rows, prof, source = load_data(current, role="current")
        return self._judge([(rows, prof, source)])[0]

    def check_chunks(
        self,
        current: pd.DataFrame | str | Path,
        *,
        chunk_by: str | None = None,
        period: str | None = None,
        chunk_size: int | None = None,
    ) -> ChunkedReport:
        """One :class:`~mlwarden.report.Report` per chunk of ``current`` (a DataFrame or CSV/Parquet path).

        Chunks: calendar periods of the ``chunk_by`` timestamps (``period="1d"``) or runs of ``chunk_size``
        rows (in ``chunk_by`` order when given) — see :func:`~mlwarden.chunks.split_chunks`. Drift is decided
        with one Benjamini–Hochberg correction over every chunk × column p-value (a column of a chunk drifts
        when its adjusted p-value is below ``alpha`` and its effect size reaches its threshold), so more
        chunks do not mean more false alarms; with segments, over every chunk × (whole data and segment) ×
        column, and the segments' performance comparisons with one Holm correction over every chunk ×
        segment × metric. A run of consecutive periods without rows gives one warning ``chunk.empty`` on
        its first chunk (its ``value``: how many periods), the run's other chunks a note only, so that
        sparse data does not bury the report under one warning per empty period; a chunk under
        ``MIN_CHUNK_ROWS`` rows is judged with a note that its tests have little power. Raises
        :class:`InputError` for a bad chunking (unknown column, bad period, both or neither of ``period``
        and ``chunk_size``) or a column the mapping names missing from ``current``.
        """
        source = None
        if isinstance(current, str | Path):
            if is_profile_file(current):
                raise InputError(f"{current}: chunks need rows (CSV or Parquet), not a saved profile")
            source = str(current)
            current = read_table(current)
        elif not isinstance(current, pd.DataFrame):
            raise InputError(
                f"current: expected a DataFrame or a CSV/Parquet path, got {type(current).__name__}"
            )
        rows, _, _ = load_data(current, role="current")
        chunks = split_chunks(rows, chunk_by=chunk_by, period=period, chunk_size=chunk_size)
        label = source or "DataFrame"
        prepared = [(rows.iloc[c.positions], None, f"{label} [{c.key}]") for c in chunks]
        reports = self._judge(prepared, chunks)
        return ChunkedReport(
            chunks=[
                ChunkResult(c.key, c.start, c.end, c.rows, r) for c, r in zip(chunks, reports, strict=True)
            ],
            chunk_by=chunk_by,
            period=period,
            chunk_size=chunk_size,
            source=source,
            slo=dict(self.slo or {}),
            reference_performance=dict(self.fit.baseline or {}),
        )

    def _judge(
        self,
        currents: list[tuple[pd.DataFrame | None, DatasetProfile | None, str | None]],
        chunks: list[Chunk] | None = None,
    ) -> list[Report]:
        """Profile each current against the reference, decide drift jointly, then run every other check."""
        from mlwarden.drift import DriftResult, detect_drift_jointly
        from mlwarden.quality import check_ids
        from mlwarden.report import Report

        mapping, reference = self.mapping, self.reference
        profiles = []
        for rows, prof, source in currents:
            check_named_columns(mapping, self._ref_names, _names(rows, prof, source))
            if prof is None:
                names = list(rows.columns)
                if names and not set(reference.columns) & set(names):
                    raise InputError(
                        "reference and current share no columns "
                        f"(reference: {', '.join(self._ref_names[:10])}; "
                        f"current: {', '.join(names[:10])})"
                    )
                prof = profile(rows, mapping=mapping, reference=reference, source=source)
            profiles.append(prof)
        tested = [i for i, p in enumerate(profiles) if p.rows]
        roles = {i: drift_roles(mapping, reference, profiles[i])[0] for i in tested}
        segments: dict[int, list[SegmentResult]] = {}
        if mapping.segments:
            from mlwarden.segments import check_segments_jointly

            judged = check_segments_jointly(
                reference,
                [(profiles[i], roles[i], currents[i][0]) for i in tested],
                mapping=mapping,
                config=self.drift_config,
                ref_rows=self._ref_rows,
                slo=self.segment_slo,
                fits=self.segment_fits,
            )
            decided = [drift for drift, _ in judged]
            segments = {i: found for i, (_, found) in zip(tested, judged, strict=True)}
        else:
            decided = detect_drift_jointly(
                [(reference, profiles[i], roles[i]) for i in tested], self.drift_config
            )
        drifts: dict[int, DriftResult] = dict(zip(tested, decided, strict=True))
        gaps = _gap_runs(chunks or [])
        reports = []
        for i, ((rows, _, _), prof) in enumerate(zip(currents, profiles, strict=True)):
            chunk = chunks[i] if chunks else None
            if chunk is not None and chunk.gap:
                empty = Report(reference, prof, drift=DriftResult([]), findings=[], mapping=mapping)
                reports.append(_gap_report(empty, chunk, gaps[i]))
                continue
            report = evaluate(
                reference,
                prof,
                mapping=mapping,
                ref_rows=self._ref_rows,
                cur_rows=rows,
                drift=drifts.get(i),
                slo=self.slo,
                fit=self.fit,
                segments=segments.get(i),
            )
            if rows is not None and mapping.id in rows.columns and prof.rows:
                report.findings = sort_findings(
                    report.findings + check_ids(rows[mapping.id], column=mapping.id)
                )
            if chunk is not None and 0 < prof.rows < MIN_CHUNK_ROWS:
                report.notes.append(
                    f"chunk {chunk.key} holds {prof.rows} rows, fewer than {MIN_CHUNK_ROWS}: its drift tests "
                    "have little power and its performance bands are wide (a quiet verdict is weak evidence)"
                )
            reports.append(report)
        return reports


def _gap_runs(chunks: list[Chunk]) -> dict[int, list[Chunk]]:
    """Each gap chunk's index → the run of consecutive gap chunks it belongs to, in order (one list shared
    by the run's indices)."""
    runs: dict[int, list[Chunk]] = {}
    for i, chunk in enumerate(chunks):
        if chunk.gap:
            runs[i] = runs.get(i - 1, [])
            runs[i].append(chunk)
    return runs


def _gap_report(report: Report, chunk: Chunk, run: list[Chunk]) -> Report:
    """``report`` of ``chunk``, a period without rows in ``run``: on the run's first chunk one warning
    ``chunk.empty`` for the whole run (``value``: its number of periods), on the others a note naming that
    chunk."""
    first, last = run[0], run[-1]
    if chunk is not first:
        report.notes.append(f"no rows: part of the gap reported on chunk {first.key}")
        return report
    periods = f"{len(run)} consecutive periods, " if len(run) > 1 else ""
    report.findings = [
        Finding(
            check="chunk.empty",
            severity=Severity.WARNING,
            message=f"no rows in {periods}from {first.start} to {last.end}: a gap in the data",
            value=float(len(run)),
        )
    ]
    return report
