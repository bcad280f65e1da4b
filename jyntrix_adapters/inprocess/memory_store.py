"""In-process MemoryStore: dicts and a history list, with the same behaviour as the Postgres one."""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from jyntrix_domain.errors import Invalid, NotFound
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
    if f.created_after is not None and m.created_at < f.created_after:
        return False
    if f.created_before is not None and m.created_at >= f.created_before:
        return False
    return not (f.contains and f.contains.lower() not in m.content.lower())


class InMemoryMemoryStore:
    """MemoryStore in a dict keyed by (user id, memory id), history in a list."""

    def __init__(self) -> None:
        self._rows: dict[tuple[UserId, MemoryId], Memory] = {}
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

    def _store(self, m: Memory) -> Memory:
        relation_texts = [x for r in m.relations for x in (r.source, r.predicate, r.target)]
        check_text(m.content, *m.source_message_ids, *m.entities, *relation_texts, m.slot or "", m.value or "")
        stored = msgspec.structs.replace(m, metadata=json_copy(m.metadata))
        self._rows[(m.user_id, m.id)] = stored
        return stored

    async def add(self, memory: Memory) -> bool:
        if (memory.user_id, memory.id) in self._rows:
            return False
        self._store(memory)
        self._record(memory, ChangeKind.CREATE, None, memory.content)
        return True

    async def add_many(self, user_id: UserId, memories: Sequence[Memory]) -> list[bool]:
        check_batch(user_id, memories)
        return [await self.add(m) for m in memories]

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

    async def supersede(self, user_id: UserId, old_id: MemoryId, successor: Memory, at: datetime) -> bool:
        # No await between the check and the writes: on one event loop this is the atomic step.
        old = self._rows.get((user_id, old_id))
        if old is None or not old.is_current:
            return False
        if successor_problem(old_id, successor, self._rows.get((user_id, successor.id))) is not None:
            return False
        await self.add(successor)
        ended = msgspec.structs.replace(old, valid_until=at, superseded_by=successor.id, updated_at=at)
        self._store(ended)
        self._record(ended, ChangeKind.SUPERSEDE, old.content, old.content)
        return True

    async def delete(self, user_id: UserId, memory_id: MemoryId) -> bool:
        old = self._rows.pop((user_id, memory_id), None)
        if old is None:
            return False
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
        keys = [k for k in self._rows if k[0] == user_id]
        for k in keys:
            del self._rows[k]
        self.history_rows = [c for c in self.history_rows if c.user_id != user_id]
        return len(keys)
