"""Spies for tests that count what the code under test really does: the real function still runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def first_argument(args: tuple, kwargs: dict) -> Any:
    return args[0]


def recording(
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    name: str,
    keep: Callable[[tuple, dict], Any] = first_argument,
) -> list:
    """Replace ``owner.name`` by a wrapper recording ``keep(args, kwargs)`` of each call (by default the
    first argument: ``self`` for a method patched on its class), then calling the original; returns the
    list the calls are appended to."""
    calls, original = [], getattr(owner, name)

    def wrapper(*args, **kwargs):
        calls.append(keep(args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls
