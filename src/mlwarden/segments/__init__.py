"""Segments: the checks of :func:`mlwarden.compare` per slice of the population (``columns.segments``),
with one multiple-testing correction over the whole data and every segment. The per-segment partial
profiles themselves live in :mod:`mlwarden.profile.segments`. See docs/segments.md."""

from mlwarden.segments.checks import (
    ALL_SEGMENTS,
    SegmentDrift,
    SegmentResult,
    check_segments,
    check_segments_jointly,
    decide_segment_drift,
    fit_segments,
    segment_slo,
)

__all__ = [
    "ALL_SEGMENTS",
    "SegmentDrift",
    "SegmentResult",
    "check_segments",
    "check_segments_jointly",
    "decide_segment_drift",
    "fit_segments",
    "segment_slo",
]
