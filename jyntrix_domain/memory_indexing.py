"""MemoryIndexer: keeps the vector and keyword indexes and the entity graph in step with the store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import msgspec

from jyntrix_domain.model import Entity, KeywordDoc, Memory, MemoryFilter, MemoryId, UserId, Vector, VectorItem
from jyntrix_domain.ports import MemoryPorts
from jyntrix_domain.turn_places import keyword_text

_PAGE = 500


class MemoryIndexer:
    """Writes what the store holds into the indexes and the graph: every findable memory (`Memory.findable`),
    current or kept as history."""

    def __init__(self, ports: MemoryPorts) -> None:
        self._ports = ports

    async def index(
        self, user_id: UserId, memories: Sequence[Memory], given: Mapping[MemoryId, Vector] | None = None
    ) -> None:
        """Index the findable ones of `memories`; `given` holds vectors already embedded, by id."""
        current = [m for m in memories if m.findable]
        if not current:
            return
        known = given or {}
        missing = [m for m in current if m.id not in known]
        embedded = (
            dict(
                zip(
                    (m.id for m in missing), await self._ports.embedder.embed([m.content for m in missing]), strict=True
                )
            )
            if missing
            else {}
        )
        vectors = [known.get(m.id) or embedded[m.id] for m in current]
        await self._ports.vectors.upsert(
            user_id, [VectorItem(id=m.id, vector=v, type=m.type) for m, v in zip(current, vectors, strict=True)]
        )
        await self._ports.keywords.upsert(
            user_id, [KeywordDoc(id=m.id, text=keyword_text(m), type=m.type) for m in current]
        )
        for memory in current:
            if memory.entities or memory.relations:
                entities = [Entity(name=name) for name in memory.entities]
                linked = [msgspec.structs.replace(r, memory_id=memory.id) for r in memory.relations]
                await self._ports.graph.link(user_id, memory.id, entities, linked)

    async def refresh(self, user_id: UserId, memory: Memory) -> None:
        """Index an edited memory afresh: its old graph links go, the ones it has now are made."""
        await self._ports.graph.unlink(user_id, memory.id)
        await self.index(user_id, [memory])

    async def unindex(self, user_id: UserId, ids: Sequence[MemoryId]) -> None:
        await self._ports.vectors.delete(user_id, ids)
        await self._ports.keywords.delete(user_id, ids)
        for memory_id in ids:
            await self._ports.graph.unlink(user_id, memory_id)

    async def rebuild(self, user_id: UserId) -> int:
        """Rebuild the user's indexes and graph links from the store; return how many memories."""
        await self._ports.vectors.forget_user(user_id)
        await self._ports.keywords.forget_user(user_id)
        count = 0
        while True:
            batch = await self._ports.store.list(user_id, MemoryFilter(current_only=False, limit=_PAGE, offset=count))
            for memory in batch:
                await self._ports.graph.unlink(user_id, memory.id)
            await self.index(user_id, batch)
            count += len(batch)
            if len(batch) < _PAGE:
                return count
