"""In-process VectorIndex: exact cosine search over numpy matrices, one per user and memory type."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from jyntrix_adapters.support.index_rules import best_first, can_find
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import Hit, MemoryId, MemoryType, UserId, Vector, VectorItem

# Above this many float multiplications a search takes about a millisecond: move it off the loop.
_OFFLOAD_WORK = 1_000_000


class _Block:
    """Unit-length rows of one memory type; rows grow by doubling, a delete moves the last row into the gap."""

    def __init__(self, dimension: int) -> None:
        self.matrix: npt.NDArray[np.float32] = np.empty((16, dimension), dtype=np.float32)
        self.ids: list[MemoryId] = []
        self.rows: dict[MemoryId, int] = {}

    def put(self, item_id: MemoryId, unit: npt.NDArray[np.float32]) -> None:
        row = self.rows.get(item_id)
        if row is None:
            row = len(self.ids)
            if row == len(self.matrix):
                self.matrix = np.concatenate([self.matrix, np.empty_like(self.matrix)])
            self.ids.append(item_id)
            self.rows[item_id] = row
        self.matrix[row] = unit

    def remove(self, item_id: MemoryId) -> None:
        row = self.rows.pop(item_id)
        last = len(self.ids) - 1
        if row != last:
            moved = self.ids[last]
            self.matrix[row] = self.matrix[last]
            self.ids[row] = moved
            self.rows[moved] = row
        self.ids.pop()

    def top(self, query: npt.NDArray[np.float32], limit: int) -> list[Hit]:
        scores = self.matrix[: len(self.ids)] @ query  # a view: no copy of the rows
        best = np.argpartition(-scores, limit - 1)[:limit] if limit < scores.size else np.arange(scores.size)
        return [Hit(id=self.ids[i], score=float(scores[i])) for i in best]


class _UserVectors:
    """One block per memory type, so a type filter selects whole blocks instead of masking rows."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.blocks: dict[MemoryType, _Block] = {}
        self.type_of: dict[MemoryId, MemoryType] = {}
        self.lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self.type_of)

    def upsert(self, item_id: MemoryId, unit: npt.NDArray[np.float32], type: MemoryType) -> None:
        previous = self.type_of.get(item_id)
        if previous is not None and previous != type:
            self.blocks[previous].remove(item_id)
        self.type_of[item_id] = type
        block = self.blocks.get(type)
        if block is None:
            block = self.blocks[type] = _Block(self.dimension)
        block.put(item_id, unit)

    def delete(self, item_id: MemoryId) -> None:
        type = self.type_of.pop(item_id, None)
        if type is not None:
            self.blocks[type].remove(item_id)

    def search(self, query: npt.NDArray[np.float32], limit: int, types: frozenset[MemoryType] | None) -> list[Hit]:
        hits: list[Hit] = []
        for type, block in self.blocks.items():
            if types is None or type in types:
                hits.extend(block.top(query, limit))
        return best_first(hits)[:limit]


class InProcessVectorIndex:
    """Exact cosine similarity; each user's vectors live in their own array, so search never sees another user's."""

    def __init__(self, dimension: int | None = None) -> None:
        self._dimension = dimension
        self._users: dict[UserId, _UserVectors] = {}

    def _unit(self, vector: Vector, *, learn: bool = False) -> npt.NDArray[np.float32]:
        array = np.asarray(vector, dtype=np.float32)
        if array.ndim != 1 or array.size == 0:
            raise Invalid("a vector must be a non-empty list of floats")
        if self._dimension is None and learn:
            self._dimension = int(array.size)
        if self._dimension is not None and array.size != self._dimension:
            raise Invalid(f"vector has dimension {array.size}, the index expects {self._dimension}")
        norm = float(np.linalg.norm(array))
        if not math.isfinite(norm) or norm == 0.0:
            raise Invalid("a vector must be finite and non-zero")
        return array / norm

    async def upsert(self, user_id: UserId, items: Sequence[VectorItem]) -> None:
        units = [self._unit(item.vector, learn=True) for item in items]
        if not units:
            return
        assert self._dimension is not None
        user = self._users.get(user_id)
        if user is None:
            user = self._users[user_id] = _UserVectors(self._dimension)
        async with user.lock:
            for item, unit in zip(items, units, strict=True):
                user.upsert(item.id, unit, item.type)

    async def delete(self, user_id: UserId, ids: Sequence[MemoryId]) -> None:
        user = self._users.get(user_id)
        if user is None:
            return
        async with user.lock:
            for item_id in ids:
                user.delete(item_id)

    async def search(
        self, user_id: UserId, vector: Vector, limit: int, types: frozenset[MemoryType] | None = None
    ) -> list[Hit]:
        wanted_any = can_find(limit, types)
        query = self._unit(vector)
        user = self._users.get(user_id)
        if user is None or not wanted_any:
            return []
        async with user.lock:
            if len(user) * query.size < _OFFLOAD_WORK:
                return user.search(query, limit, types)
            return await asyncio.to_thread(user.search, query, limit, types)

    async def forget_user(self, user_id: UserId) -> None:
        self._users.pop(user_id, None)

    async def ping(self) -> None:
        return None
