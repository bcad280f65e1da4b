"""MemoryStore on Postgres: one row per memory, an audit row per change in memory_history."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from jyntrix_adapters.postgres.pool import OnDatabase
from jyntrix_adapters.postgres.rows import from_row
from jyntrix_domain.errors import Conflict, Invalid, NotFound
from jyntrix_domain.memory_rules import check_batch
from jyntrix_domain.model import (
    ChangeKind,
    Memory,
    MemoryChange,
    MemoryFilter,
    MemoryId,
    UserId,
)
from jyntrix_domain.succession import successor_problem

_COLUMNS = (
    "id, user_id, type, content, reliability, access_count, last_accessed_at, created_at, updated_at,"
    " valid_from, valid_until, superseded_by, source_message_ids, entities, metadata, kind, slot, value, relations,"
    " place, origin, occurred, content_key"
)

# No conflict target: an existing id and a current twin of the content (memories_current_content) both
# leave the row out.
_INSERT = f"""
INSERT INTO memories ({_COLUMNS})
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
ON CONFLICT DO NOTHING
"""

_UPDATE = """
UPDATE memories
SET type = $3, content = $4, reliability = $5, access_count = $6, last_accessed_at = $7, created_at = $8,
    updated_at = $9, valid_from = $10, valid_until = $11, superseded_by = $12, source_message_ids = $13,
    entities = $14, metadata = $15, kind = $16, slot = $17, value = $18, relations = $19, place = $20,
    origin = $21, occurred = $22, content_key = $23
WHERE user_id = $2 AND id = $1
"""

_HOLDER = """
SELECT id FROM memories
WHERE user_id = $1 AND content_key = $2 AND valid_until IS NULL AND superseded_by IS NULL
"""

# The condition is what makes a supersede atomic: of two concurrent ones, the second finds no current row.
_END = """
UPDATE memories SET valid_until = $3, superseded_by = $4, updated_at = $3
WHERE user_id = $1 AND id = $2 AND valid_until IS NULL AND superseded_by IS NULL
RETURNING content
"""

# One statement per memory: the row, and its history row only when the row was new.
_INSERT_WITH_HISTORY = f"""
WITH inserted AS ({_INSERT} RETURNING user_id, id, content)
INSERT INTO memory_history (user_id, memory_id, kind, content_before, content_after, superseded_by)
SELECT user_id, id, 'create', NULL, content, NULL FROM inserted
"""
# The same for one memory, saying whether it was inserted.
_INSERT_ONE_WITH_HISTORY = f"""
WITH inserted AS ({_INSERT} RETURNING user_id, id, content),
history AS (
    INSERT INTO memory_history (user_id, memory_id, kind, content_before, content_after, superseded_by)
    SELECT user_id, id, 'create', NULL, content, NULL FROM inserted
)
SELECT id FROM inserted
"""
# The rows this transaction inserted (a row that was there already has an older xmin). Only rows inserted
# at its top level: a savepoint's rows have the xid of their subtransaction.
_INSERTED_HERE = """
SELECT id FROM memories WHERE user_id = $1 AND id = ANY($2::text[]) AND xmin = pg_current_xact_id()::xid
"""

# A restored history row, as it was: its id and time too.
_RESTORED_HISTORY = """
INSERT INTO memory_history (id, user_id, memory_id, kind, at, content_before, content_after, superseded_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""
# Batches up to this size are inserted a statement each (add_many).
_ONE_BY_ONE = 2
_SELECT_ONE = f"SELECT {_COLUMNS} FROM memories WHERE user_id = $1 AND id = $2"

_HISTORY = """
INSERT INTO memory_history (user_id, memory_id, kind, content_before, content_after, superseded_by)
VALUES ($1, $2, $3, $4, $5, $6)
"""


class _Refused(Exception):
    """Raised inside a transaction to roll back what it wrote."""


def _params(m: Memory) -> tuple[Any, ...]:
    return (
        m.id,
        m.user_id,
        m.type.value,
        m.content,
        m.reliability,
        m.access_count,
        m.last_accessed_at,
        m.created_at,
        m.updated_at,
        m.valid_from,
        m.valid_until,
        m.superseded_by,
        list(m.source_message_ids),
        list(m.entities),
        m.metadata,
        m.kind.value,
        m.slot,
        m.value,
        # Which memory asserts them is the row itself, so only the ends and the predicate are stored.
        [{"source": r.source, "predicate": r.predicate, "target": r.target} for r in m.relations],
        # jsonb: the pool's codec encodes the structs (None is NULL).
        m.place,
        m.origin,
        m.occurred,
        m.content_key,
    )


def _memory(row: asyncpg.Record) -> Memory:
    return from_row(Memory, row)


def _where(user_id: UserId, f: MemoryFilter) -> tuple[str, list[Any]]:
    """SQL conditions for a filter; created_after is inclusive, created_before exclusive."""
    clauses = ["user_id = $1"]
    args: list[Any] = [user_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if f.types is not None:
        clauses.append(f"type = ANY({arg(sorted(t.value for t in f.types))}::text[])")
    if f.kinds is not None:
        clauses.append(f"kind = ANY({arg(sorted(k.value for k in f.kinds))}::text[])")
    if f.current_only:
        clauses.append("valid_until IS NULL AND superseded_by IS NULL")
    if f.slots is not None:
        clauses.append(f"slot = ANY({arg(sorted(f.slots))}::text[])")
    if f.sources is not None:
        clauses.append(f"source_message_ids && {arg(sorted(f.sources))}::text[]")
    if f.content_keys is not None:
        clauses.append(f"content_key = ANY({arg(sorted(f.content_keys))}::text[])")
    if f.created_after is not None:
        clauses.append(f"created_at >= {arg(f.created_after)}")
    if f.created_before is not None:
        clauses.append(f"created_at < {arg(f.created_before)}")
    if f.contains:
        # strpos, not ILIKE, so that % and _ in the needle are plain characters.
        clauses.append(f"strpos(lower(content), lower({arg(f.contains)})) > 0")
    return " AND ".join(clauses), args


class PostgresMemoryStore(OnDatabase):
    """MemoryStore backed by the `memories` and `memory_history` tables."""

    async def add(self, memory: Memory) -> bool:
        async with self._db.user_tx(memory.user_id) as conn:
            status = await conn.execute(_INSERT, *_params(memory))
            inserted: bool = status == "INSERT 0 1"
            if inserted:
                await conn.execute(
                    _HISTORY, memory.user_id, memory.id, ChangeKind.CREATE.value, None, memory.content, None
                )
            return inserted

    async def add_many(self, user_id: UserId, memories: Sequence[Memory]) -> list[bool]:
        check_batch(user_id, memories)
        if not memories:
            return []
        if len(memories) <= _ONE_BY_ONE or self._db.is_shared(user_id):
            # One round trip a memory, each saying whether it was inserted: fewer than the batch's two for a
            # chat turn's one memory, and right in a savepoint of a shared transaction (_INSERTED_HERE is not).
            async with self._db.user_tx(user_id) as conn:
                return [await conn.fetchval(_INSERT_ONE_WITH_HISTORY, *_params(m)) is not None for m in memories]
        async with self._db.user_tx(user_id) as conn:
            # executemany pipelines the statements: one round trip's wait for the batch, not one per memory.
            await conn.executemany(_INSERT_WITH_HISTORY, [_params(m) for m in memories])
            rows = await conn.fetch(_INSERTED_HERE, user_id, [m.id for m in memories])
        inserted = {r["id"] for r in rows}
        return [m.id in inserted for m in memories]

    async def restore(self, user_id: UserId, memories: Sequence[Memory], history: Sequence[MemoryChange]) -> list[bool]:
        check_batch(user_id, memories)
        if any(c.user_id != user_id for c in history):
            raise Invalid("every history row of a restore must belong to its user")
        if not memories:
            return []
        async with self._db.user_tx(user_id) as conn:
            await conn.executemany(_INSERT, [_params(m) for m in memories])
            inserted = {r["id"] for r in await conn.fetch(_INSERTED_HERE, user_id, [m.id for m in memories])}
            rows = [
                (c.id, c.user_id, c.memory_id, c.kind.value, c.at, c.content_before, c.content_after, c.superseded_by)
                for c in history
                if c.memory_id in inserted
            ]
            if rows:
                await conn.executemany(_RESTORED_HISTORY, rows)
        return [m.id in inserted for m in memories]

    async def get(self, user_id: UserId, memory_id: MemoryId) -> Memory | None:
        row = await self._db.user_fetchrow(user_id, _SELECT_ONE, user_id, memory_id)
        return None if row is None else _memory(row)

    async def get_many(self, user_id: UserId, ids: Sequence[MemoryId]) -> list[Memory]:
        if not ids:
            return []
        rows = await self._db.user_fetch(
            user_id, f"SELECT {_COLUMNS} FROM memories WHERE user_id = $1 AND id = ANY($2::text[])", user_id, list(ids)
        )
        return [_memory(r) for r in rows]

    async def update(self, memory: Memory, kind: ChangeKind = ChangeKind.UPDATE) -> Memory:
        if kind not in (ChangeKind.UPDATE, ChangeKind.SUPERSEDE):
            raise Invalid(f"update cannot record a change of kind {kind.value!r}")
        async with self._db.user_tx(memory.user_id) as conn:
            before = await conn.fetchval(
                "SELECT content FROM memories WHERE user_id = $1 AND id = $2 FOR UPDATE", memory.user_id, memory.id
            )
            if before is None:
                raise NotFound(f"memory {memory.id} not found")
            await conn.execute(_UPDATE, *_params(memory))
            await conn.execute(
                _HISTORY, memory.user_id, memory.id, kind.value, before, memory.content, memory.superseded_by
            )
        return memory

    async def supersede(self, user_id: UserId, old_id: MemoryId, successor: Memory, at: datetime) -> MemoryId | None:
        if successor.id == old_id:
            return None
        try:
            async with self._db.user_tx(user_id) as conn:
                content = await conn.fetchval(_END, user_id, old_id, at, successor.id)
                if content is None:
                    return None
                holder = successor.id
                # Ended first: the successor may say what the old memory said (a restated fact), and take its
                # content. Not inserted: its id exists (it must be the very memory asked for, still current: a
                # retry, or one successor for several memories), or a current memory says what it says.
                if await conn.execute(_INSERT, *_params(successor)) == "INSERT 0 1":
                    await conn.execute(
                        _HISTORY, user_id, successor.id, ChangeKind.CREATE.value, None, successor.content, None
                    )
                else:
                    # Locked, so that it stays current until this link commits.
                    row = await conn.fetchrow(f"{_SELECT_ONE} FOR SHARE", user_id, successor.id)
                    if row is not None:
                        if successor_problem(old_id, successor, _memory(row)) is not None:
                            raise _Refused
                    else:
                        holder = await conn.fetchval(f"{_HOLDER} FOR SHARE", user_id, successor.content_key)
                        if holder is None:
                            raise Conflict(f"memory {successor.id} was written by another change at the same time")
                        await conn.execute(
                            "UPDATE memories SET superseded_by = $3 WHERE user_id = $1 AND id = $2",
                            user_id,
                            old_id,
                            holder,
                        )
                await conn.execute(_HISTORY, user_id, old_id, ChangeKind.SUPERSEDE.value, content, content, holder)
                return str(holder)
        except _Refused:
            return None  # the transaction rolled back: the old memory is current again

    async def delete(self, user_id: UserId, memory_id: MemoryId) -> bool:
        async with self._db.user_tx(user_id) as conn:
            content = await conn.fetchval(
                "DELETE FROM memories WHERE user_id = $1 AND id = $2 RETURNING content", user_id, memory_id
            )
            if content is None:
                return False
            await conn.execute(_HISTORY, user_id, memory_id, ChangeKind.DELETE.value, content, None, None)
            return True

    async def list(self, user_id: UserId, filter: MemoryFilter) -> list[Memory]:
        where, args = _where(user_id, filter)
        args += [filter.limit, filter.offset]
        sql = (
            f"SELECT {_COLUMNS} FROM memories WHERE {where}"
            f' ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT ${len(args) - 1} OFFSET ${len(args)}'
        )
        rows = await self._db.user_fetch(user_id, sql, *args)
        return [_memory(r) for r in rows]

    async def count(self, user_id: UserId, filter: MemoryFilter) -> int:
        where, args = _where(user_id, filter)
        n: int = await self._db.user_fetchval(user_id, f"SELECT count(*) FROM memories WHERE {where}", *args)
        return n

    async def history(self, user_id: UserId, memory_id: MemoryId) -> builtins.list[MemoryChange]:
        rows = await self._db.user_fetch(
            user_id,
            "SELECT id, memory_id, user_id, kind, at, content_before, content_after, superseded_by"
            " FROM memory_history WHERE user_id = $1 AND memory_id = $2 ORDER BY seq",
            user_id,
            memory_id,
        )
        return [from_row(MemoryChange, r) for r in rows]

    async def record_access(self, user_id: UserId, ids: Sequence[MemoryId], at: datetime) -> None:
        if not ids:
            return
        async with self._db.user_tx(user_id) as conn:
            await conn.execute(
                "UPDATE memories SET access_count = access_count + 1,"
                " last_accessed_at = GREATEST(last_accessed_at, $3)"
                " WHERE user_id = $1 AND id = ANY($2::text[])",
                user_id,
                list(ids),
                at,
            )

    async def user_ids(self) -> builtins.list[UserId]:
        async with self._db.directory_tx() as conn:
            rows = await conn.fetch('SELECT DISTINCT user_id COLLATE "C" AS user_id FROM memories ORDER BY 1')
        return [row["user_id"] for row in rows]

    async def forget_user(self, user_id: UserId) -> int:
        async with self._db.user_tx(user_id) as conn:
            await conn.execute("DELETE FROM memory_history WHERE user_id = $1", user_id)
            status = await conn.execute("DELETE FROM memories WHERE user_id = $1", user_id)
        return int(status.split()[-1])
