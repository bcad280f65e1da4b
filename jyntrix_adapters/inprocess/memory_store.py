"""In-process MemoryStore: dicts and a history list, with the same behaviour as the Postgres one."""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from jyntrix_adapters.inprocess.user_rows import forget_rows
from jyntrix_domain.errors import Conflict, Invalid, NotFound
from jyntrix_domain.memory_rules import check_batch
from jyntrix_domain.model import ChangeKind, Memory, MemoryChange, MemoryFilter, MemoryId, UserId, new_id
from jyntrix_domain.succession import successor_problem


def json_copy(value: Any) -> Any:
    """A deep copy through JSON, so stored values come back as a database would return them."""
    return msgspec.json.decode(msgspec.json.encode(value))


def check_text(*texts: str) -> None:
    # Postgres text cannot hold NUL; refusing it here keeps both adapters interchangeable.
    if any("\x00" in t for t in texts):
        raise Invalid("text must not contain NUL characters")


def matches(m: Memory, f: MemoryFilter) -> bool:
    """created_after is inclusive, created_before exclusive; contains ignores case."""
    if f.types is not None and m.type not in f.types:
        return False
    if f.kinds is not None and m.kind not in f.kinds:
        return False
    if f.current_only and not m.is_current:
        return False
    if f.slots is not None and m.slot not in f.slots:
        return False
    if f.sources is not None and f.sources.isdisjoint(m.source_message_ids):
        return False
    if f.content_keys is not None and m.content_key not in f.content_keys:
        return False
    if f.created_after is not None and m.created_at < f.created_after:
        return False
    if f.created_before is not None and m.created_at >= f.created_before:
        return False
    return not (f.contains and f.contains.lower() not in m.content.lower())


class InMemoryMemoryStore:
    """MemoryStore in a dict keyed by (user id, memory id), history in a list.

    `_holders` maps (user id, content key) to the current memory with that content: one content is one
    current memory per user, as the Postgres store's unique index keeps it.
    """

    def __init__(self) -> None:
        self._rows: dict[tuple[UserId, MemoryId], Memory] = {}
        self._holders: dict[tuple[UserId, str], MemoryId] = {}
        self.history_rows: list[MemoryChange] = []

    def _record(self, m: Memory, kind: ChangeKind, before: str | None, after: str | None) -> None:
        self.history_rows.append(
            MemoryChange(
                id=new_id(),
                memory_id=m.id,
                user_id=m.user_id,
                kind=kind,
                at=datetime.now(UTC),
                content_before=before,
                content_after=after,
                superseded_by=m.superseded_by if kind is not ChangeKind.DELETE else None,
            )
        )

    @staticmethod
    def _check(m: Memory) -> None:
        relation_texts = [x for r in m.relations for x in (r.source, r.predicate, r.target)]
        check_text(m.content, *m.source_message_ids, *m.entities, *relation_texts, m.slot or "", m.value or "")

    def _holder(self, m: Memory) -> MemoryId | None:
        """The id of the user's current memory with `m`'s content, other than `m` itself."""
        held = self._holders.get((m.user_id, m.content_key))
        return held if held != m.id else None

    def _store(self, m: Memory) -> Memory:
        self._check(m)
        if m.is_current and self._holder(m) is not None:
            raise Conflict("another current memory of the user has this content")
        stored = msgspec.structs.replace(m, metadata=json_copy(m.metadata))
        old = self._rows.get((m.user_id, m.id))
        if old is not None and self._holders.get((m.user_id, old.content_key)) == m.id:
            del self._holders[(m.user_id, old.content_key)]
        self._rows[(m.user_id, m.id)] = stored
        if stored.is_current:
            self._holders[(m.user_id, stored.content_key)] = stored.id
        return stored

    async def add(self, memory: Memory) -> bool:
        if (memory.user_id, memory.id) in self._rows or (memory.is_current and self._holder(memory) is not None):
            return False
        self._store(memory)
        self._record(memory, ChangeKind.CREATE, None, memory.content)
        return True

    async def add_many(self, user_id: UserId, memories: Sequence[Memory]) -> list[bool]:
        check_batch(user_id, memories)
        return [await self.add(m) for m in memories]

    async def restore(self, user_id: UserId, memories: Sequence[Memory], history: Sequence[MemoryChange]) -> list[bool]:
        check_batch(user_id, memories)
        if any(c.user_id != user_id for c in history):
            raise Invalid("every history row of a restore must belong to its user")
        # All or nothing, like one transaction: every memory and row is checked before any is stored.
        for m in memories:
            self._check(m)
        check_text(*(text for c in history for text in (c.content_before or "", c.content_after or "")))
        inserted = []
        for m in memories:
            fresh = (user_id, m.id) not in self._rows and not (m.is_current and self._holder(m) is not None)
            if fresh:
                self._store(m)
            inserted.append(fresh)
        new = {m.id for m, fresh in zip(memories, inserted, strict=True) if fresh}
        self.history_rows.extend(c for c in history if c.memory_id in new)
        return inserted

    async def get(self, user_id: UserId, memory_id: MemoryId) -> Memory | None:
        return self._rows.get((user_id, memory_id))

    async def get_many(self, user_id: UserId, ids: Sequence[MemoryId]) -> list[Memory]:
        return [m for i in dict.fromkeys(ids) if (m := self._rows.get((user_id, i))) is not None]

    async def update(self, memory: Memory, kind: ChangeKind = ChangeKind.UPDATE) -> Memory:
        if kind not in (ChangeKind.UPDATE, ChangeKind.SUPERSEDE):
            raise Invalid(f"update cannot record a change of kind {kind.value!r}")
        old = self._rows.get((memory.user_id, memory.id))
        if old is None:
            raise NotFound(f"memory {memory.id} not found")
        self._store(memory)
        self._record(memory, kind, old.content, memory.content)
        return memory

    async def supersede(self, user_id: UserId, old_id: MemoryId, successor: Memory, at: datetime) -> MemoryId | None:
        # No await between the check and the writes: on one event loop this is the atomic step.
        old = self._rows.get((user_id, old_id))
        if old is None or not old.is_current:
            return None
        existing = self._rows.get((user_id, successor.id))
        if successor_problem(old_id, successor, existing) is not None:
            return None
        # Ended first: a successor may say what the old one said (a restated fact), and take its content.
        ended = self._store(old.ended(at, successor.id))
        holder = successor.id if existing is not None else (self._holder(successor) if successor.is_current else None)
        if holder is None:
            await self.add(successor)
            holder = successor.id
        elif holder != successor.id:
            ended = self._store(msgspec.structs.replace(ended, superseded_by=holder))
        self._record(ended, ChangeKind.SUPERSEDE, old.content, old.content)
        return holder

    async def delete(self, user_id: UserId, memory_id: MemoryId) -> bool:
        old = self._rows.pop((user_id, memory_id), None)
        if old is None:
            return False
        if self._holders.get((user_id, old.content_key)) == memory_id:
            del self._holders[(user_id, old.content_key)]
        self._record(old, ChangeKind.DELETE, old.content, None)
        return True

    def _select(self, user_id: UserId, f: MemoryFilter) -> list[Memory]:
        found = [m for (u, _), m in self._rows.items() if u == user_id and matches(m, f)]
        found.sort(key=lambda m: (m.created_at, m.id), reverse=True)
        return found

    async def list(self, user_id: UserId, filter: MemoryFilter) -> list[Memory]:
        """Newest first (ties by id, descending)."""
        return list(itertools.islice(self._select(user_id, filter), filter.offset, filter.offset + filter.limit))

    async def count(self, user_id: UserId, filter: MemoryFilter) -> int:
        return len(self._select(user_id, filter))

    async def history(self, user_id: UserId, memory_id: MemoryId) -> builtins.list[MemoryChange]:
        return [c for c in self.history_rows if c.user_id == user_id and c.memory_id == memory_id]

    async def record_access(self, user_id: UserId, ids: Sequence[MemoryId], at: datetime) -> None:
        for i in dict.fromkeys(ids):
            m = self._rows.get((user_id, i))
            if m is not None:
                last = at if m.last_accessed_at is None else max(m.last_accessed_at, at)
                self._rows[(user_id, i)] = msgspec.structs.replace(
                    m, access_count=m.access_count + 1, last_accessed_at=last
                )

    async def user_ids(self) -> builtins.list[UserId]:
        return sorted({user_id for user_id, _ in self._rows})

    async def forget_user(self, user_id: UserId) -> int:
        forget_rows(self._holders, user_id)
        self.history_rows = [c for c in self.history_rows if c.user_id != user_id]
        return forget_rows(self._rows, user_id)
