"""A small thread-safe cache for hot lookups on the request path (tokens, model rows, references): entries
expire after a time to live and the least recently used go first beyond a size bound, so that requests with
random tokens or model names cannot grow the process's memory."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class TTLCache:
    """``get(key, load)`` returns a cached value younger than ``ttl`` seconds, else calls ``load()``; at most
    ``max_items`` entries are kept (the least recently used is dropped first).

    Other replicas' changes are seen within ``ttl``; this process's own changes call ``forget``. ``hits``
    and ``misses`` count the lookups answered from the cache and by ``load``.
    """

    def __init__(self, ttl: float, max_items: int) -> None:
        if max_items < 1:
            raise ValueError(f"max_items: expected at least 1, got {max_items}")
        self.ttl, self.max_items = ttl, max_items
        self.hits = self.misses = 0
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and now - hit[0] < self.ttl:
                self._items.move_to_end(key)
                self.hits += 1
                return hit[1]
            self.misses += 1
        value = load()
        with self._lock:
            self._items[key] = (now, value)
            self._items.move_to_end(key)
            while len(self._items) > self.max_items:
                self._items.popitem(last=False)
        return value

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)
