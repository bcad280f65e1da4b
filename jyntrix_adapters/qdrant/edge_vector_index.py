"""VectorIndex on Qdrant Edge: the Qdrant engine in-process, one on-disk shard (the embedded default).

The shard keeps a write-ahead log, so an acknowledged write survives a crash. A shard directory can be open in one
process at a time (Edge locks its WAL), which is why the embedded profile runs the worker inside the API process.
Edge calls block, so they run in worker threads; writes are serialised, searches run concurrently.
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import qdrant_edge as qe

from jyntrix_adapters.qdrant.ids import SCHEME_FIELD, payload, point_id
from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.index_rules import best_first, can_find, check_vector, type_values
from jyntrix_domain.lifecycle import AsyncResource
from jyntrix_domain.model import Hit, MemoryId, MemoryType, UserId, Vector, VectorItem

log = logging.getLogger(__name__)
T = TypeVar("T")
_CONFIG_FILE = "edge_config.json"
# Held (flock) while an index has the shard open, so that a second process is refused rather than let in.
_LOCK_FILE = "jyntrix.lock"
_WRITE_BATCH = 1000


def _user_is(user_id: UserId) -> qe.FieldCondition:
    return qe.FieldCondition(key="user_id", match=qe.MatchValue(user_id))


def _rekey(shard: qe.EdgeShard) -> int:
    """Move points written under the old global ids to per-tenant ids (see ids.py); return how many."""
    old_scheme = qe.Filter(must=[qe.IsEmptyCondition(key=SCHEME_FIELD)])
    moved = 0
    while True:
        records, _ = shard.scroll(
            qe.ScrollRequest(limit=_WRITE_BATCH, filter=old_scheme, with_vector=True, with_payload=True)
        )
        if not records:
            break
        points = []
        for record in records:
            found = record.payload or {}
            user_id, memory_id = str(found["user_id"]), str(found["memory_id"])
            vector: Any = record.vector  # one unnamed dense vector per point in this shard
            points.append(
                qe.Point(point_id(user_id, memory_id), vector, payload(user_id, memory_id, str(found["type"])))
            )
        shard.update(qe.UpdateOperation.upsert_points(points))
        shard.update(
            qe.UpdateOperation.delete_points_by_filter(qe.Filter(must=[qe.HasIdCondition({r.id for r in records})]))
        )
        moved += len(records)
    if moved:
        shard.flush()
        log.info("re-keyed %d vector points to per-tenant ids", moved)
    return moved


class QdrantEdgeVectorIndex(AsyncResource):
    """Cosine search in a Qdrant Edge shard under `path`, pre-filtered by user (and types) on every query."""

    def __init__(self, path: str | os.PathLike[str], *, dimension: int = 384) -> None:
        self._path = Path(path)
        self._dimension = dimension
        self._shard: qe.EdgeShard | None = None
        self._process_lock: int | None = None
        self._open_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._readers = 0
        self._idle = asyncio.Condition()
        self._closed = False

    def _config(self) -> qe.EdgeConfig:
        return qe.EdgeConfig(
            vectors=qe.EdgeVectorParams(size=self._dimension, distance=qe.Distance.Cosine),
            # Qdrant's multitenant layout: no global graph, one HNSW graph per tenant when the shard is optimised.
            # Until then (or for small tenants) a filtered search scans the tenant's points via the payload index.
            hnsw_config=qe.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10_000, payload_m=16),
        )

    def _hold(self) -> None:
        """Hold the shard for this index alone: Edge loads one a second process has open, and both would write it."""
        fd = os.open(self._path / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Unavailable(f"the shard at {self._path} is open in another process or index") from None
        self._process_lock = fd

    def _release(self) -> None:
        fd, self._process_lock = self._process_lock, None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock

    def _open_sync(self) -> qe.EdgeShard:
        self._path.mkdir(parents=True, exist_ok=True)
        if self._process_lock is None:
            self._hold()
        try:
            return self._load_or_create()
        except BaseException:
            self._release()
            raise

    def _load_or_create(self) -> qe.EdgeShard:
        config = self._config()
        if (self._path / _CONFIG_FILE).exists():
            try:
                shard = qe.EdgeShard.load(str(self._path), config)
                _rekey(shard)
                return shard
            except Exception as error:
                if "incompatible" in str(error).lower():
                    raise Invalid(
                        f"the shard at {self._path} does not hold {self._dimension}-d cosine vectors"
                    ) from error
                if "wouldblock" in str(error).lower():
                    raise Unavailable(f"the shard at {self._path} is open in another process or index") from error
                raise
        shard = qe.EdgeShard.create(str(self._path), config)
        shard.update(qe.UpdateOperation.create_field_index("user_id", qe.KeywordIndexParams(is_tenant=True)))
        shard.update(qe.UpdateOperation.create_field_index("type", qe.PayloadSchemaType.Keyword))
        return shard

    async def open(self) -> None:
        """Create the shard with its payload indexes, or load it (idempotent)."""
        async with self._open_lock:
            self._closed = False
            if self._shard is None:
                self._shard = await self._run(self._open_sync)

    async def close(self) -> None:
        """Flush and release the shard once running searches have finished."""
        async with self._open_lock, self._write_lock:
            self._closed = True
            shard, self._shard = self._shard, None
            if shard is None:
                return
            async with self._idle:
                await self._idle.wait_for(lambda: self._readers == 0)

            def flush_and_close() -> None:
                try:
                    shard.flush()
                    shard.close()
                finally:
                    self._release()

            await self._run(flush_and_close)

    async def ping(self) -> None:
        await self._read(lambda shard: shard.info())

    @staticmethod
    async def _run(fn: Callable[[], T]) -> T:
        try:
            return await asyncio.to_thread(fn)
        except (Invalid, Unavailable):
            raise
        except Exception as error:  # Edge raises plain Exception for everything
            raise Unavailable(f"qdrant edge failed: {error}") from error

    async def _shard_or_open(self) -> qe.EdgeShard:
        if self._shard is None:
            if self._closed:
                raise Unavailable("the qdrant edge index is closed")
            await self.open()
        if self._shard is None:
            raise Unavailable("the qdrant edge index is closed")
        return self._shard

    async def _read(self, fn: Callable[[qe.EdgeShard], T]) -> T:
        shard = await self._shard_or_open()
        self._readers += 1
        try:
            return await self._run(lambda: fn(shard))
        finally:
            self._readers -= 1
            if self._readers == 0:
                async with self._idle:
                    self._idle.notify_all()

    async def _write(self, operations: list[qe.UpdateOperation]) -> None:
        await self._shard_or_open()
        async with self._write_lock:
            shard = await self._shard_or_open()  # close() may have run while this waited for the lock

            def apply() -> None:
                for operation in operations:
                    shard.update(operation)

            await self._run(apply)

    def _check(self, vector: Vector) -> list[float]:
        check_vector(vector, self._dimension)
        return vector if isinstance(vector, list) else list(vector)

    async def upsert(self, user_id: UserId, items: Sequence[VectorItem]) -> None:
        latest = {item.id: item for item in items}  # the last write of an id in one batch wins
        points = [
            qe.Point(point_id(user_id, item.id), self._check(item.vector), payload(user_id, item.id, item.type.value))
            for item in latest.values()
        ]
        # Point ids are per tenant already; the condition keeps that true should two ever clash.
        owned = qe.Filter(must=[_user_is(user_id)])
        await self._write(
            [
                qe.UpdateOperation.upsert_points(points[i : i + _WRITE_BATCH], condition=owned)
                for i in range(0, len(points), _WRITE_BATCH)
            ]
        )

    async def delete(self, user_id: UserId, ids: Sequence[MemoryId]) -> None:
        if not ids:
            return
        selected = qe.Filter(must=[_user_is(user_id), qe.HasIdCondition({point_id(user_id, i) for i in ids})])
        await self._write([qe.UpdateOperation.delete_points_by_filter(selected)])

    async def search(
        self, user_id: UserId, vector: Vector, limit: int, types: frozenset[MemoryType] | None = None
    ) -> list[Hit]:
        wanted_any = can_find(limit, types)
        query = self._check(vector)
        if not wanted_any:
            return []
        must: list[Any] = [_user_is(user_id)]
        if (wanted := type_values(types)) is not None:
            must.append(qe.FieldCondition(key="type", match=qe.MatchAny(wanted)))
        request = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(query),
            filter=qe.Filter(must=must),
            with_payload=qe.PayloadSelector.Include(["memory_id"]),
        )
        points = await self._read(lambda shard: shard.query(request))
        hits = [Hit(id=str((p.payload or {})["memory_id"]), score=float(p.score)) for p in points]
        return best_first(hits)

    async def forget_user(self, user_id: UserId) -> None:
        await self._write([qe.UpdateOperation.delete_points_by_filter(qe.Filter(must=[_user_is(user_id)]))])

    async def optimize(self) -> bool:
        """Build per-tenant HNSW graphs and vacuum deletions; blocks writes while it runs (minutes at 100k+ points)."""
        await self._shard_or_open()
        async with self._write_lock:
            shard = await self._shard_or_open()
            return await self._run(shard.optimize)

    async def count(self) -> int:
        """Points in the shard, all users together (for diagnostics)."""
        return await self._read(lambda shard: shard.count(qe.CountRequest(exact=True)))
