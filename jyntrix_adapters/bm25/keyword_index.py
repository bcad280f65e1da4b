"""KeywordIndex on BM25 (k1=1.5, b=0.75): one index per user, persisted under a directory, shared by processes.

The files and the in-memory state of one user are `user_index.UserIndex`; the scoring is `postings`. A write is
logged and applied in memory at once, so the next search sees it without a rebuild: new documents sit in a small
delta searched beside the built postings, deleted ones are masked out, and the corpus statistics are always
current (results equal a fresh rebuild's). A user's writes are folded into new postings:

- inline, at the search after a write, while the user has fewer than `inline_build_below` documents (a build of
  that size takes a few milliseconds, and the files then match what is served);
- otherwise in the background, once the pending writes reach `merge_fraction` of the built documents (at least
  `merge_min`), while searches keep being served from the previous postings plus the delta.

On restart a user whose postings match its snapshot loads them without rebuilding and replays the log.
Tokens are stemmed keyword terms (`tokens`); files written before stemming are upgraded on load.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections import Counter, OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jyntrix_adapters.bm25.tokens import FORMAT, tokens
from jyntrix_adapters.bm25.user_index import LogEntry, StoredDoc, UserIndex
from jyntrix_adapters.support.index_rules import can_find
from jyntrix_domain.errors import Unavailable
from jyntrix_domain.model import Hit, KeywordDoc, MemoryId, MemoryType, UserId

logger = logging.getLogger(__name__)


class Bm25sKeywordIndex:
    """BM25 per user on disk; writes are searchable at once, rebuilds never hold a large user's search up."""

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        max_loaded_users: int = 1000,
        inline_build_below: int = 1000,
        merge_fraction: float = 0.02,
        merge_min: int = 64,
    ) -> None:
        self._root = Path(directory)
        self._max_loaded = max_loaded_users
        self._inline_below = inline_build_below
        self._merge_fraction = merge_fraction
        self._merge_min = merge_min
        self._users: OrderedDict[UserId, UserIndex] = OrderedDict()
        self._merges: set[asyncio.Task[None]] = set()
        self.builds: Counter[str] = Counter()  # "inline" and "background" builds done by this instance

    def _user(self, user_id: UserId) -> UserIndex:
        user = self._users.get(user_id)
        if user is None:
            name = hashlib.sha256(user_id.encode()).hexdigest()[:32]
            user = self._users[user_id] = UserIndex(user_id, self._root / name)
            self._evict()
        self._users.move_to_end(user_id)
        return user

    def _evict(self) -> None:
        # Everything is on disk, so a user not in use can be dropped from memory and reloaded later.
        for user_id in list(self._users)[: max(0, len(self._users) - self._max_loaded)]:
            user = self._users[user_id]
            if not user.lock.locked() and user.merging is None:
                del self._users[user_id]

    @staticmethod
    async def _run(user: UserIndex, fn: Any, *args: Any) -> Any:
        try:
            return await asyncio.to_thread(fn, *args)
        except OSError as error:
            raise Unavailable(f"keyword index storage failed for {user.dir}: {error}") from error

    async def upsert(self, user_id: UserId, docs: Sequence[KeywordDoc]) -> None:
        if not docs:
            return
        user = self._user(user_id)

        def write() -> None:
            entry = LogEntry(
                op="upsert",
                docs=[StoredDoc(id=d.id, type=d.type.value, tokens=tokens(d.text)) for d in docs],
                format=FORMAT,
            )
            with user.flock(exclusive=True):
                user.refresh()
                user.append(entry)

        async with user.lock:
            await self._run(user, write)

    async def delete(self, user_id: UserId, ids: Sequence[MemoryId]) -> None:
        if not ids:
            return
        user = self._user(user_id)

        def write() -> None:
            with user.flock(exclusive=True):
                user.refresh()
                if any(i in user.docs for i in ids):
                    user.append(LogEntry(op="delete", ids=list(ids)))
                    if not user.docs:
                        user.erase()  # nothing left: no file keeps the deleted text

        async with user.lock:
            await self._run(user, write)

    async def search(
        self, user_id: UserId, query: str, limit: int, types: frozenset[MemoryType] | None = None
    ) -> list[Hit]:
        wanted_any = can_find(limit, types)
        terms = tokens(query)
        if not wanted_any or not terms:
            return []
        user = self._user(user_id)

        def run() -> list[Hit]:
            if not user.dir.exists():
                return []  # never written (or erased): nothing to find, and nothing to create on disk
            with user.flock(exclusive=False):
                user.refresh()
            if user.pending and len(user.docs) < self._inline_below:
                with user.flock(exclusive=True):
                    user.refresh()
                    if user.pending and user.commit(user.build(*user.prepare())):
                        self.builds["inline"] += 1
            return user.search(terms, limit, types)

        async with user.lock:
            result: list[Hit] = await self._run(user, run)
            self._maybe_merge(user)
            return result

    def _maybe_merge(self, user: UserIndex) -> None:
        threshold = max(self._merge_min, self._merge_fraction * len(user.built))
        if user.merging is None and len(user.docs) >= self._inline_below and user.pending >= threshold:
            user.merging = asyncio.create_task(self._merge(user))
            self._merges.add(user.merging)
            user.merging.add_done_callback(self._merges.discard)

    async def _merge(self, user: UserIndex) -> None:
        """Build new postings beside the served ones, then swap them in under the locks (a short write)."""
        try:
            async with user.lock:
                start = user.prepare()
            build = await self._run(user, user.build, *start)

            def commit() -> bool:
                with user.flock(exclusive=True):
                    user.refresh()
                    return user.commit(build)

            async with user.lock:
                if await self._run(user, commit):
                    self.builds["background"] += 1
        except Exception:  # nobody awaits this task: searches go on from the delta, the next merge retries
            logger.exception("background keyword index build failed in %s", user.dir)
        finally:
            user.merging = None

    async def settle(self) -> None:
        """Wait until the background builds started so far have finished (tests, shutdown)."""
        while self._merges:
            await asyncio.gather(*self._merges, return_exceptions=True)

    async def close(self) -> None:
        """Let the background builds finish (an interrupted one is harmless: the log still holds its writes)."""
        await self.settle()

    async def forget_user(self, user_id: UserId) -> None:
        user = self._user(user_id)

        def erase() -> None:
            if not user.dir.exists():
                return
            with user.flock(exclusive=True):
                user.erase()

        async with user.lock:
            await self._run(user, erase)
        self._users.pop(user_id, None)

    async def ping(self) -> None:
        try:
            self._root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise Unavailable(f"keyword index directory {self._root} is not usable: {error}") from error
