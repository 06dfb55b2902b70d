"""Spies for tests that count what the code under test really does: the real function still runs."""

from __future__ import annotations

from typing import Any

import pytest


def recording(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list:
    """Replace ``owner.name`` by a wrapper recording each call's first argument (``self`` for a method
    patched on its class), then calling the original; returns the list the calls are appended to."""
    calls, original = [], getattr(owner, name)

    def wrapper(*args, **kwargs):
        calls.append(args[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls
