"""KeyedLocks: one asyncio lock per key, made on first use and dropped when nobody holds or awaits it; UserGate:
shared and exclusive holders of one user, likewise."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager


class KeyedLocks:
    """Serialise work on one key (a user's memory) in this process while other keys run freely."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, *key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class _Gate:
    def __init__(self) -> None:
        self.changed = asyncio.Condition()
        self.sharing = 0
        self.exclusive = False
        self.waiting = 0  # exclusive holders waiting: new shared holders let them go first
        self.users = 0


class UserGate:
    """Per user, in this process: many shared holders at once (the writes that set up a user's data, such
    as a chat turn's setup or a transcript import), or one exclusive holder (forgetting the user), never
    both. An exclusive holder waiting goes before shared holders that come after it, so a stream of turns
    cannot hold a delete-all off."""

    def __init__(self) -> None:
        self._gates: dict[Hashable, _Gate] = {}

    @asynccontextmanager
    async def shared(self, user: Hashable) -> AsyncIterator[None]:
        async with self._held(user) as gate:
            async with gate.changed:
                await gate.changed.wait_for(lambda: not gate.exclusive and not gate.waiting)
                gate.sharing += 1
            try:
                yield
            finally:
                async with gate.changed:
                    gate.sharing -= 1
                    gate.changed.notify_all()

    @asynccontextmanager
    async def exclusive(self, user: Hashable) -> AsyncIterator[None]:
        async with self._held(user) as gate:
            async with gate.changed:
                gate.waiting += 1
                try:
                    await gate.changed.wait_for(lambda: not gate.exclusive and not gate.sharing)
                finally:
                    gate.waiting -= 1
                    gate.changed.notify_all()
                gate.exclusive = True
            try:
                yield
            finally:
                async with gate.changed:
                    gate.exclusive = False
                    gate.changed.notify_all()

    @asynccontextmanager
    async def _held(self, user: Hashable) -> AsyncIterator[_Gate]:
        gate = self._gates.setdefault(user, _Gate())
        gate.users += 1
        try:
            yield gate
        finally:
            gate.users -= 1
            if not gate.users:
                del self._gates[user]

    def __len__(self) -> int:
        return len(self._gates)
