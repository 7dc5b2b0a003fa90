"""A small in-process cache with expiry, for hot lookups that may be seconds stale."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class Memo:
    """Values by key, each kept for ``ttl_s`` seconds (monotonic time), bounded in size."""

    def __init__(self, *, max_entries: int = 10_000) -> None:
        self._values: dict[str, tuple[float, Any]] = {}
        self._max_entries = max_entries

    async def get_or_load(self, key: str, load: Callable[[], Awaitable[T]], *, ttl_s: float) -> T:
        """The cached value, or ``load()``'s (cached when it is not None)."""
        now = time.monotonic()
        hit = self._values.get(key)
        if hit is not None and hit[0] > now:
            value: T = hit[1]
            return value
        loaded = await load()
        if loaded is not None:
            if len(self._values) >= self._max_entries:
                self._values.clear()
            self._values[key] = (now + ttl_s, loaded)
        return loaded

    def invalidate(self, prefix: str = "") -> None:
        """Forget every key starting with ``prefix`` (all keys by default)."""
        for key in [key for key in self._values if key.startswith(prefix)]:
            del self._values[key]
