"""MemoryService: the one place that writes memories, keeping store and indexes in step."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from jyntrix_domain.errors import Invalid, NotFound
from jyntrix_domain.model import (
    ChangeKind,
    Entity,
    KeywordDoc,
    Memory,
    MemoryChange,
    MemoryFilter,
    MemoryId,
    MemoryType,
    Profile,
    Relation,
    UserId,
    VectorItem,
    new_id,
)
from jyntrix_domain.ports import (
    AnalyticsSink,
    Clock,
    ConversationStore,
    Embedder,
    EntityGraph,
    KeywordIndex,
    MemoryStore,
    ProfileStore,
    VectorIndex,
)
from jyntrix_domain.ranking import RankedMemory
from jyntrix_domain.retrieval import RetrievalService

log = logging.getLogger(__name__)

MAX_CONTENT_CHARS = 20_000


class NewMemory(msgspec.Struct, frozen=True, kw_only=True):
    """A memory to create; `created_at` may be in the past when importing history."""

    content: str
    type: MemoryType = MemoryType.SEMANTIC
    reliability: float = 0.8
    created_at: datetime | None = None
    entities: tuple[str, ...] = ()
    relations: tuple[Relation, ...] = ()
    source_message_ids: tuple[str, ...] = ()
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    id: MemoryId | None = None


class MemoryExport(msgspec.Struct, frozen=True, kw_only=True):
    user_id: UserId
    exported_at: datetime
    memories: list[Memory]
    history: dict[MemoryId, list[MemoryChange]]
    entities: list[Entity]
    relations: list[Relation]
    profile: Profile | None


class DeleteAllResult(msgspec.Struct, frozen=True, kw_only=True):
    memories: int
    conversations: int


def _validate(new: NewMemory) -> str:
    content = new.content.strip()
    if not content:
        raise Invalid("memory content must not be empty")
    if len(content) > MAX_CONTENT_CHARS:
        raise Invalid(f"memory content is longer than {MAX_CONTENT_CHARS} characters")
    if not 0.0 <= new.reliability <= 1.0:
        raise Invalid("reliability must be between 0 and 1")
    return content


class MemoryService:
    """CRUD, search, import, history, export and deletion of a user's memories.

    The store is the source of truth: it is written first, then the vector and
    keyword indexes and the entity graph, which `reindex` can rebuild from it.
    Superseded and deleted memories leave the indexes, so search sees current truth.
    """

    def __init__(
        self,
        *,
        store: MemoryStore,
        vectors: VectorIndex,
        keywords: KeywordIndex,
        graph: EntityGraph,
        embedder: Embedder,
        retrieval: RetrievalService,
        clock: Clock,
        conversations: ConversationStore | None = None,
        profiles: ProfileStore | None = None,
        analytics: AnalyticsSink | None = None,
    ) -> None:
        self._store = store
        self._vectors = vectors
        self._keywords = keywords
        self._graph = graph
        self._embedder = embedder
        self._retrieval = retrieval
        self._clock = clock
        self._conversations = conversations
        self._profiles = profiles
        self._analytics = analytics

    async def create(self, user_id: UserId, new: NewMemory) -> Memory:
        return (await self.bulk_import(user_id, [new]))[0]

    async def bulk_import(self, user_id: UserId, items: Sequence[NewMemory]) -> list[Memory]:
        """Create many memories with one embedding batch; ids given by the caller make it idempotent."""
        now = self._clock.now()
        memories = []
        for new in items:
            content = _validate(new)
            at = new.created_at or now
            memories.append(
                Memory(
                    id=new.id or new_id(),
                    user_id=user_id,
                    type=new.type,
                    content=content,
                    reliability=new.reliability,
                    created_at=at,
                    updated_at=at,
                    valid_from=at,
                    entities=tuple(dict.fromkeys(e.strip() for e in new.entities if e.strip())),
                    source_message_ids=new.source_message_ids,
                    metadata=dict(new.metadata),
                )
            )
        created = []
        for memory, new in zip(memories, items, strict=True):
            if await self._store.add(memory):
                created.append((memory, new.relations))
        await self._index(user_id, created)
        stored = await self._store.get_many(user_id, [m.id for m in memories])
        by_id = {m.id: m for m in stored}
        return [by_id.get(m.id, m) for m in memories]

    async def get(self, user_id: UserId, memory_id: MemoryId) -> Memory:
        memory = await self._store.get(user_id, memory_id)
        if memory is None:
            raise NotFound(f"memory {memory_id} not found")
        return memory

    async def list(self, user_id: UserId, filter: MemoryFilter) -> list[Memory]:
        return await self._store.list(user_id, filter)

    async def count(self, user_id: UserId, filter: MemoryFilter) -> int:
        return await self._store.count(user_id, filter)

    async def update(
        self,
        user_id: UserId,
        memory_id: MemoryId,
        *,
        content: str | None = None,
        type: MemoryType | None = None,
        reliability: float | None = None,
        entities: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
        source_message_ids: Sequence[str] = (),
    ) -> Memory:
        """Edit a current memory; `source_message_ids` are added to the ones it came from."""
        current = await self.get(user_id, memory_id)
        if not current.is_current:
            raise Invalid("a superseded memory cannot be edited; update its successor")
        check = NewMemory(
            content=current.content if content is None else content,
            reliability=current.reliability if reliability is None else reliability,
        )
        updated = msgspec.structs.replace(
            current,
            content=_validate(check),
            type=current.type if type is None else type,
            reliability=check.reliability,
            entities=current.entities if entities is None else tuple(entities),
            metadata=current.metadata if metadata is None else dict(metadata),
            source_message_ids=tuple(dict.fromkeys((*current.source_message_ids, *source_message_ids))),
            updated_at=self._clock.now(),
        )
        saved = await self._store.update(updated, ChangeKind.UPDATE)
        await self._graph.unlink(user_id, memory_id)
        await self._index(user_id, [(saved, ())])
        return saved

    async def supersede(self, user_id: UserId, old_id: MemoryId, new: NewMemory) -> Memory:
        """Replace a fact with a newer one; the old keeps `valid_until` and a link to its successor."""
        old = await self.get(user_id, old_id)
        if not old.is_current:
            if old.superseded_by is not None:
                # Already replaced (a retried task): hand back the successor instead of forking history.
                return await self.get(user_id, old.superseded_by)
            raise Invalid("memory is no longer current")
        successor = await self.create(user_id, new)
        now = self._clock.now()
        await self._store.update(
            msgspec.structs.replace(old, valid_until=now, superseded_by=successor.id, updated_at=now),
            ChangeKind.SUPERSEDE,
        )
        await self._unindex(user_id, [old_id])
        return successor

    async def delete(self, user_id: UserId, memory_id: MemoryId) -> None:
        if not await self._store.delete(user_id, memory_id):
            raise NotFound(f"memory {memory_id} not found")
        await self._unindex(user_id, [memory_id])

    async def history(self, user_id: UserId, memory_id: MemoryId) -> builtins.list[MemoryChange]:
        changes = await self._store.history(user_id, memory_id)
        if not changes and await self._store.get(user_id, memory_id) is None:
            raise NotFound(f"memory {memory_id} not found")
        return changes

    async def search(
        self,
        user_id: UserId,
        query: str,
        *,
        limit: int = 10,
        types: frozenset[MemoryType] | None = None,
        record: bool = True,
    ) -> builtins.list[RankedMemory]:
        """Ranked memories for `query`; `record=False` for internal lookups that are not a user's search."""
        if not query.strip():
            raise Invalid("query must not be empty")
        result = await self._retrieval.retrieve(user_id, query, limit=limit, types=types, record=record)
        return result.memories

    async def export(self, user_id: UserId) -> MemoryExport:
        memories: builtins.list[Memory] = []
        page = 500
        while True:
            batch = await self._store.list(user_id, MemoryFilter(current_only=False, limit=page, offset=len(memories)))
            memories.extend(batch)
            if len(batch) < page:
                break
        history = {m.id: await self._store.history(user_id, m.id) for m in memories}
        return MemoryExport(
            user_id=user_id,
            exported_at=self._clock.now(),
            memories=memories,
            history=history,
            entities=await self._graph.entities(user_id),
            relations=await self._graph.relations(user_id),
            profile=await self._profiles.get(user_id) if self._profiles else None,
        )

    async def delete_all(self, user_id: UserId) -> DeleteAllResult:
        """Forget the user: memories, history, indexes, graph, conversations, profile and spans."""
        await self._vectors.delete_user(user_id)
        await self._keywords.delete_user(user_id)
        await self._graph.delete_all(user_id)
        memories = await self._store.delete_all(user_id)
        conversations = await self._conversations.delete_all(user_id) if self._conversations else 0
        if self._profiles:
            await self._profiles.delete(user_id)
        if self._analytics:
            await self._analytics.delete_user(user_id)
        return DeleteAllResult(memories=memories, conversations=conversations)

    async def reindex(self, user_id: UserId) -> int:
        """Rebuild the user's indexes and graph links from the store; return how many memories."""
        await self._vectors.delete_user(user_id)
        await self._keywords.delete_user(user_id)
        count = 0
        page = 500
        while True:
            batch = await self._store.list(user_id, MemoryFilter(limit=page, offset=count))
            for memory in batch:
                await self._graph.unlink(user_id, memory.id)
            await self._index(user_id, [(m, ()) for m in batch])
            count += len(batch)
            if len(batch) < page:
                return count

    async def record_access(self, user_id: UserId, ids: Sequence[MemoryId]) -> None:
        if ids:
            await self._store.record_access(user_id, ids, self._clock.now())

    async def _index(self, user_id: UserId, items: Sequence[tuple[Memory, Sequence[Relation]]]) -> None:
        current = [(m, r) for m, r in items if m.is_current]
        if not current:
            return
        vectors = await self._embedder.embed([m.content for m, _ in current])
        await self._vectors.upsert(
            user_id, [VectorItem(id=m.id, vector=v, type=m.type) for (m, _), v in zip(current, vectors, strict=True)]
        )
        await self._keywords.upsert(user_id, [KeywordDoc(id=m.id, text=m.content, type=m.type) for m, _ in current])
        for memory, relations in current:
            if memory.entities or relations:
                entities = [Entity(name=name) for name in memory.entities]
                linked = [msgspec.structs.replace(r, memory_id=memory.id) for r in relations]
                await self._graph.link(user_id, memory.id, entities, linked)

    async def _unindex(self, user_id: UserId, ids: Sequence[MemoryId]) -> None:
        await self._vectors.delete(user_id, ids)
        await self._keywords.delete(user_id, ids)
        for memory_id in ids:
            await self._graph.unlink(user_id, memory_id)
