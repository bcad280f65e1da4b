"""In-process Cache: a bounded TTL map with least-recently-used eviction."""

from __future__ import annotations

import threading
from collections import OrderedDict

from jyntrix_adapters.inprocess.clock import seconds_source
from jyntrix_domain.errors import Invalid
from jyntrix_domain.ports import Clock


class InProcessCache:
    """Cache port held in this process; entries past their TTL read as absent.

    At most `max_entries` are kept: writing a new key into a full cache evicts the least
    recently used one. Inject a Clock (ManualClock) to test expiry without sleeping.
    """

    def __init__(self, max_entries: int = 10_000, clock: Clock | None = None) -> None:
        if max_entries < 1:
            raise Invalid("max_entries must be at least 1")
        self._max_entries = max_entries
        self._now = seconds_source(clock)
        # key -> (value, expiry in the time source's seconds or None)
        self._entries: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        # The adapter is async for the event loop, but a thread (asyncio.to_thread) may share it.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> bytes | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            value, expires_at = entry
            if expires_at is not None and self._now() >= expires_at:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return value

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        if ttl_s is not None and ttl_s <= 0:
            raise Invalid("ttl_s must be positive, or None for no expiry")
        data = bytes(value)
        with self._lock:
            expires_at = None if ttl_s is None else self._now() + ttl_s
            self._entries[key] = (data, expires_at)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    async def delete(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)
