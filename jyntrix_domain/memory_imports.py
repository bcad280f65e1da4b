"""Writing memories in a batch with one content, one memory: what each item of a batch became (created, there
already, a duplicate of another, or conflicting with what is stored under its id)."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from jyntrix_domain.errors import Invalid, NotFound
from jyntrix_domain.import_outcomes import ImportOutcome, ImportReport, same_import
from jyntrix_domain.locks import KeyedLocks
from jyntrix_domain.memory_indexing import MemoryIndexer
from jyntrix_domain.memory_writes import NewMemory, build_memory
from jyntrix_domain.model import ChangeKind, Memory, MemoryFilter, MemoryId, UserId, Vector
from jyntrix_domain.ports import Clock, MemoryStore


class Importer:
    """MemoryService's writes of new memories: the store first, then the indexes of those it created."""

    def __init__(self, store: MemoryStore, clock: Clock, indexer: MemoryIndexer, locks: KeyedLocks) -> None:
        self._store = store
        self._clock = clock
        self._indexer = indexer
        self._locks = locks

    async def run(
        self, user_id: UserId, items: Sequence[NewMemory], vectors: Sequence[Vector] | None, *, read_back: bool = True
    ) -> ImportReport:
        """One content, one memory: an item whose id was given before in the batch, or whose content a memory
        of the batch or a current memory of the user holds already, is a duplicate of that memory."""
        if vectors is not None and len(vectors) != len(items):
            raise Invalid("give one vector per memory, or none")
        now = self._clock.now()
        memories = [build_memory(user_id, new, now) for new in items]
        first: dict[MemoryId, Memory] = {}
        by_key: dict[str, MemoryId] = {}
        for memory in memories:
            if memory.id not in first and (not memory.current or memory.content_key not in by_key):
                first[memory.id] = memory
                if memory.current:
                    by_key[memory.content_key] = memory.id
        inserted = dict(zip(first, await self._store.add_many(user_id, list(first.values())), strict=True))
        outcomes: list[ImportOutcome] = []
        seen: set[MemoryId] = set()
        for memory in memories:
            if memory.id in seen or memory.id not in first:
                outcomes.append(ImportOutcome.DUPLICATE)
                continue
            seen.add(memory.id)
            outcomes.append(ImportOutcome.CREATED if inserted[memory.id] else ImportOutcome.UNCHANGED)
        created = [m for m, o in zip(memories, outcomes, strict=True) if o is ImportOutcome.CREATED]
        given = {m.id: v for m, v in zip(memories, vectors, strict=True)} if vectors is not None else {}
        await self._indexer.index(user_id, created, given)
        if not read_back and len(created) == len(memories):
            # Every memory is stored as built; the caller does not need the store's rendering of it.
            return ImportReport(memories=memories, outcomes=outcomes)
        stored = {m.id: m for m in await self._store.get_many(user_id, [m.id for m in memories])}
        # Not stored under its own id and not created: a current memory holds its content (in the store, or
        # earlier in this batch).
        twins = [
            m for m, o in zip(memories, outcomes, strict=True) if m.id not in stored and o is not ImportOutcome.CREATED
        ]
        holders = await self._holders(user_id, twins)
        kept: list[Memory] = []
        for n, (memory, outcome, new) in enumerate(zip(memories, outcomes, items, strict=True)):
            found = stored.get(memory.id)
            if found is None and memory.content_key in holders:
                found = holders[memory.content_key] = await self._add_sources(
                    user_id, holders[memory.content_key], memory.source_message_ids
                )
                outcomes[n] = ImportOutcome.DUPLICATE
            elif (
                found is not None
                and outcome is not ImportOutcome.CREATED
                and not same_import(found, memory, dated=new.created_at is not None)
            ):
                # An id that was there already, or came twice, saying anything else keeps what is stored: say so.
                outcomes[n] = ImportOutcome.CONFLICTING
            kept.append(found or memory)
        return ImportReport(memories=kept, outcomes=outcomes)

    async def _holders(self, user_id: UserId, memories: Sequence[Memory]) -> dict[str, Memory]:
        """The user's current memories holding the content of `memories`, by content key."""
        keys = frozenset(m.content_key for m in memories)
        if not keys:
            return {}
        found = await self._store.list(user_id, MemoryFilter(content_keys=keys, current_only=True, limit=len(keys)))
        return {m.content_key: m for m in found}

    async def _add_sources(self, user_id: UserId, memory: Memory, sources: Sequence[str]) -> Memory:
        """The memory citing `sources` too (a twin said again); its indexes do not change."""
        merged = tuple(dict.fromkeys((*memory.source_message_ids, *sources)))
        if merged == memory.source_message_ids:
            return memory
        async with self._locks.hold(user_id, memory.id):
            current = await self._store.get(user_id, memory.id)
            if current is None:
                raise NotFound(f"memory {memory.id} not found")
            merged = tuple(dict.fromkeys((*current.source_message_ids, *sources)))
            updated = msgspec.structs.replace(current, source_message_ids=merged, updated_at=self._clock.now())
            return await self._store.update(updated, ChangeKind.UPDATE)
