"""A tiny thread-safe time-to-live cache for hot lookups on the ingestion path (model rows, references)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any


class TTLCache:
    """``get(key, load)`` returns a cached value younger than ``ttl`` seconds, else calls ``load()``.

    Other replicas' changes are seen within ``ttl``; this process's own changes call ``forget``.
    """

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._items: dict[Hashable, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = load()
        with self._lock:
            self._items[key] = (now, value)
        return value

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)
