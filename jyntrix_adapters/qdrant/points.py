"""What the two Qdrant adapters (a server through qdrant-client, an on-disk shard through Qdrant Edge) share: one
dimension for every vector, the checks of a write and a search, and how a search reads its scored points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from jyntrix_adapters.support.index_rules import best_first, check_vector, searchable, type_values
from jyntrix_adapters.support.lifecycle import AsyncResource
from jyntrix_domain.model import Hit, MemoryType, UserId, Vector


class QdrantPoints(AsyncResource):
    """A VectorIndex on Qdrant points: a subclass says how to find the nearest of a user's points (`_nearest`)."""

    def __init__(self, dimension: int) -> None:
        self._dimension = dimension

    def _check(self, vector: Vector) -> list[float]:
        check_vector(vector, self._dimension)
        return vector if isinstance(vector, list) else list(vector)

    async def _nearest(self, user_id: UserId, query: list[float], limit: int, types: list[str] | None) -> Sequence[Any]:
        """The user's `limit` points nearest `query`, of one of `types` (every type for None), with the
        `memory_id` of their payload and their score."""
        raise NotImplementedError

    async def search(
        self, user_id: UserId, vector: Vector, limit: int, types: frozenset[MemoryType] | None = None
    ) -> list[Hit]:
        if not searchable(limit, types, vector, self._dimension):
            return []
        points = await self._nearest(user_id, self._check(vector), limit, type_values(types))
        return best_first([Hit(id=str((p.payload or {})["memory_id"]), score=float(p.score)) for p in points])
