"""Segment names in the HTTP API: ``country=FR`` (a crossing: ``country,plan=FR,pro``)."""

from __future__ import annotations

from typing import Any

from mlwarden.errors import InputError, NotFoundError
from mlwarden.profile import DatasetProfile
from mlwarden.registry.columns import service_mapping
from mlwarden.schema.config import segment_key_problem

SEGMENT_HELP = "a segment, 'column=value' (crossed columns: 'country,plan=FR,pro'); see docs/segments.md"


def parse_segment(text: str) -> tuple[str, str]:
    """``(split, value)`` of a segment name; raises :class:`InputError` (422) when it has no ``=``."""
    split, sep, value = text.partition("=")
    if not sep or not split or not value:
        raise InputError(f"segment: expected COLUMN=VALUE (e.g. country=FR), got {text!r}")
    return split, value


def check_segment(segment: str, columns: dict[str, Any]) -> None:
    """Raise :class:`InputError` (422) naming the field unless ``segment`` is ``COLUMN=VALUE`` of one of the
    model's ``columns.segments`` (stored form): a misspelt column would answer no data, silently. A value
    not seen yet is not an error (it may come)."""
    parse_segment(segment)
    problem = segment_key_problem(segment, service_mapping(columns).segments)
    if problem:
        raise InputError(f"segment: {problem}")


def segment_profile(profile: DatasetProfile, segment: str) -> DatasetProfile:
    """The partial profile of one segment of ``profile``; :class:`NotFoundError` (404) naming the segment
    when the profile has no such split or value."""
    split, value = parse_segment(segment)
    found = profile.segments.get(split)
    part = found.parts.get(value) if found is not None else None
    if part is None:
        raise NotFoundError(f"no data for segment {segment!r} in that time range")
    return part


def window_for_segment(window: dict[str, Any], segment: str) -> dict[str, Any]:
    """A window as the windows route answers it, its summary narrowed to one segment's (``None`` when the
    window was not evaluated for it)."""
    summary = (window.get("summary") or {}).get("segments", {}).get(segment)
    return {**window, "segment": segment, "summary": summary}
