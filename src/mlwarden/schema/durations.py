"""Durations as configuration files write them: ``30s``, ``5m``, ``4h``, ``7d``, ``2w`` (or a number of
seconds)."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """``"7d"`` → ``timedelta(days=7)``; a bare number is seconds. Raises ``ValueError`` (the message says
    what is expected) on anything else, or on a negative number."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30s, 5m, 4h, 7d, got {value!r}")
    elif isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise ValueError(f"expected a duration such as 30s, 5m, 4h, 7d, got {value!r}")
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    if not 0 <= seconds < 10 * 366 * 86_400:
        raise ValueError(f"expected a duration from 0 to 10 years, got {value!r}")
    return timedelta(seconds=seconds)
