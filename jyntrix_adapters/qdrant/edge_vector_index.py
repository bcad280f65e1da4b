"""VectorIndex on Qdrant Edge: the Qdrant engine in-process, one on-disk shard (the embedded default).

The shard keeps a write-ahead log, so an acknowledged write survives a crash. A shard directory can be open in one
process at a time (Edge locks its WAL), which is why the embedded deployment runs the worker inside the API process.
Edge calls block, so they run in worker threads; writes are serialised, searches run concurrently.

Past `optimize_points` points, and again after `optimize_after_writes` more writes, the shard is optimised into
per-tenant HNSW graphs in the background (edge_optimize.py): on a copy, in a child process, swapped in once it has
caught up with the writes made meanwhile. Searches and writes go on against the current shard throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import qdrant_edge as qe

from jyntrix_adapters.qdrant.edge_optimize import (
    LOCK_FILE,
    OPTIMIZER_COMMAND,
    apply_all,
    copy_shard,
    log_failure,
    optimize_in_child,
    point_to,
    retire,
    settle_layout,
)
from jyntrix_adapters.qdrant.ids import SCHEME_FIELD, payload, point_id, rekeyed
from jyntrix_adapters.qdrant.points import QdrantPoints
from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.model import MemoryId, UserId, VectorItem

log = logging.getLogger(__name__)
T = TypeVar("T")
_CONFIG_FILE = "edge_config.json"
# Held (flock) while an index has the shard open, so that a second process is refused rather than let in.
_LOCK_FILE = LOCK_FILE
_WRITE_BATCH = 1000
# Candidates an HNSW search keeps (Qdrant's default is ef_construct, 100). Measured on 20k clustered 384-d vectors
# (bench/edge_optimize.py): recall@20 0.86 at 128, 0.95 at 256, 0.99 at 512, for about a millisecond more each.
_HNSW_EF = 256
# A tenant whose vectors take less than this (KB; 30,000 is some 20,000 384-d vectors) is searched exactly through
# the payload index even in an optimised shard: a scan that small costs about what HNSW does, and loses nothing.
_FULL_SCAN_KB = 30_000


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
        page = rekeyed(records)
        shard.update(qe.UpdateOperation.upsert_points([qe.Point(*point) for point in page.points]))
        shard.update(qe.UpdateOperation.delete_points_by_filter(qe.Filter(must=[qe.HasIdCondition(set(page.old_ids))])))
        moved += len(records)
    if moved:
        shard.flush()
        log.info("re-keyed %d vector points to per-tenant ids", moved)
    return moved


class QdrantEdgeVectorIndex(QdrantPoints):
    """Cosine search in a Qdrant Edge shard under `path`, pre-filtered by user (and types) on every query."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        dimension: int = 384,
        optimize_points: int = 0,
        optimize_after_writes: int = 20_000,
        optimizer_command: Sequence[str] = OPTIMIZER_COMMAND,
    ) -> None:
        """`optimize_points` 0 never optimises in the background (`optimize()` still does on demand)."""
        if optimize_points < 0 or optimize_after_writes < 1:
            raise Invalid("optimize_points must not be negative and optimize_after_writes must be at least 1")
        super().__init__(dimension)
        self._path = Path(path)
        self._optimize_points = optimize_points
        self._optimize_after_writes = optimize_after_writes
        self._optimizer_command = tuple(optimizer_command)
        self._shard: qe.EdgeShard | None = None
        self._dir = self._path  # the active shard's directory (see edge_optimize.py)
        self._process_lock: int | None = None
        self._open_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        self._readers: dict[int, int] = {}  # searches running, per shard (by id): a swapped-out one closes after
        self._idle = asyncio.Condition()
        self._closed = False
        self._optimizing: asyncio.Task[bool] | None = None
        # While an optimisation runs: every write applied to the current shard, to replay on the optimised copy.
        self._replay: list[qe.UpdateOperation] | None = None
        self._written_since = 0  # points written since the last optimisation started

    def _config(self) -> qe.EdgeConfig:
        return qe.EdgeConfig(
            vectors=qe.EdgeVectorParams(size=self._dimension, distance=qe.Distance.Cosine),
            # Qdrant's multitenant layout: no global graph, one HNSW graph per tenant when the shard is optimised.
            # Until then (or for small tenants) a filtered search scans the tenant's points via the payload index.
            hnsw_config=qe.HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=_FULL_SCAN_KB, payload_m=16),
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
            self._dir = settle_layout(self._path)
            shard = self._load_or_create(self._dir)
            info = shard.info()
            # Points the last optimisation did not index count as written since (all of them, before any).
            self._written_since = info.points_count - info.indexed_vectors_count
            return shard
        except BaseException:
            self._release()
            raise

    def _load_or_create(self, directory: Path) -> qe.EdgeShard:
        config = self._config()
        if (directory / _CONFIG_FILE).exists():
            try:
                shard = qe.EdgeShard.load(str(directory), config)
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
        shard = qe.EdgeShard.create(str(directory), config)
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
        """Stop an optimisation in progress (the copy is dropped), then flush and release the shard once running
        searches have finished."""
        optimizing, self._optimizing = self._optimizing, None
        if optimizing is not None:
            optimizing.cancel()
            with contextlib.suppress(BaseException):
                await optimizing
        async with self._open_lock, self._write_lock:
            self._closed = True
            shard, self._shard = self._shard, None
            if shard is None:
                return
            async with self._idle:
                await self._idle.wait_for(lambda: not any(self._readers.values()))

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
        key = id(shard)
        self._readers[key] = self._readers.get(key, 0) + 1
        try:
            return await self._run(lambda: fn(shard))
        finally:
            self._readers[key] -= 1
            if self._readers[key] == 0:
                del self._readers[key]
                async with self._idle:
                    self._idle.notify_all()

    async def _write(self, operations: list[qe.UpdateOperation], points: int) -> None:
        await self._shard_or_open()
        async with self._write_lock:
            shard = await self._shard_or_open()  # close() may have run while this waited for the lock

            def apply() -> bool:
                for operation in operations:
                    shard.update(operation)
                if self._replay is not None:
                    self._replay.extend(operations)
                self._written_since += points
                return self._wants_optimize(shard)

            wanted = await self._run(apply)
        if wanted:
            self._start_optimize()

    def _wants_optimize(self, shard: qe.EdgeShard) -> bool:
        """Past the size, once, then again after `optimize_after_writes` further writes (blocking)."""
        if self._optimize_points <= 0 or self.optimizing or self._closed:
            return False
        never = self._dir == self._path
        if not never and self._written_since < self._optimize_after_writes:
            return False
        return bool(shard.info().points_count >= self._optimize_points)

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
            ],
            len(points),
        )

    async def delete(self, user_id: UserId, ids: Sequence[MemoryId]) -> None:
        if not ids:
            return
        selected = qe.Filter(must=[_user_is(user_id), qe.HasIdCondition({point_id(user_id, i) for i in ids})])
        await self._write([qe.UpdateOperation.delete_points_by_filter(selected)], len(ids))

    async def _nearest(self, user_id: UserId, query: list[float], limit: int, types: list[str] | None) -> Sequence[Any]:
        must: list[Any] = [_user_is(user_id)]
        if types is not None:
            must.append(qe.FieldCondition(key="type", match=qe.MatchAny(types)))
        request = qe.QueryRequest(
            limit=limit,
            query=qe.Query.Nearest(query),
            filter=qe.Filter(must=must),
            with_payload=qe.PayloadSelector.Include(["memory_id"]),
            params=qe.SearchParams(hnsw_ef=max(limit, _HNSW_EF)),
        )
        return await self._read(lambda shard: shard.query(request))

    async def forget_user(self, user_id: UserId) -> None:
        await self._write([qe.UpdateOperation.delete_points_by_filter(qe.Filter(must=[_user_is(user_id)]))], 1)

    @property
    def optimizing(self) -> bool:
        """Whether an optimisation is in progress."""
        return self._optimizing is not None and not self._optimizing.done()

    async def optimize(self) -> bool:
        """Build per-tenant HNSW graphs and vacuum deletions now; searches and writes go on meanwhile.

        Returns once the optimised shard serves (after the one in progress, if any): whether segments changed.
        """
        task = self._optimizing if self.optimizing else None
        return await asyncio.shield(task or self._start_optimize())

    def _start_optimize(self) -> asyncio.Task[bool]:
        if self._optimizing is None or self._optimizing.done():
            self._optimizing = asyncio.create_task(self._optimize_in_background(), name="qdrant-edge-optimize")
            self._optimizing.add_done_callback(log_failure)
        return self._optimizing

    async def _optimize_in_background(self) -> bool:
        started = time.perf_counter()
        await self._shard_or_open()
        async with self._write_lock:  # writes wait for the copy only
            shard = await self._shard_or_open()
            source = self._dir

            def snapshot() -> Path:
                shard.flush()
                return copy_shard(source, self._path)

            target = await self._run(snapshot)
            self._replay, self._written_since = [], 0
        fresh: qe.EdgeShard | None = None
        switched = False
        try:
            changed = await optimize_in_child(target, self._optimizer_command)
            fresh = await self._run(lambda: qe.EdgeShard.load(str(target), self._config()))
            replay = self._replay
            caught_up = len(replay)
            await self._run(lambda: apply_all(fresh, replay[:caught_up]))  # most of it while writes go on
            async with self._write_lock:
                if self._shard is not shard:
                    raise Unavailable("the qdrant edge index closed during an optimisation")

                def switch() -> None:
                    apply_all(fresh, replay[caught_up:])
                    fresh.flush()
                    point_to(self._path, target)

                await self._run(switch)
                self._shard, self._dir, self._replay, switched = fresh, target, None, True
            async with self._idle:
                await self._idle.wait_for(lambda: self._readers.get(id(shard), 0) == 0)
            await self._run(lambda: retire(shard, source, self._path))
        except BaseException:
            self._replay = None
            if not switched:
                await asyncio.shield(self._run(lambda: retire(fresh, target, self._path)))
            raise
        log.info(
            "vector index optimised in the background in %.1fs (%d writes replayed)",
            time.perf_counter() - started,
            len(replay),
        )
        return changed

    async def count(self) -> int:
        """Points in the shard, all users together (for diagnostics)."""
        return await self._read(lambda shard: shard.count(qe.CountRequest(exact=True)))
