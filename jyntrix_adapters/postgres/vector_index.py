"""VectorIndex on pgvector: cosine search over the `memory_vectors` table, scoped by row-level security.

The table sits beside `memories`, keyed by (user_id, memory id), with the same owner policy as every other
table, so a vector search sees only the user's rows even if a query forgot its WHERE clause. Its schema is
created here rather than in a numbered migration: it needs the `vector` extension (the loopback PostgreSQL
15 has none, and the migrations must run there), and its column's dimension is the embedder's.

One HNSW index serves every tenant. A filtered HNSW scan stops after `hnsw.ef_search` candidates (or, with
iterative scans, after `hnsw.max_scan_tuples`), so for a user whose vectors are a small share of the table
it returns fewer hits than the user has. Hence two plans, chosen here rather than by the planner:

- a user (with the type filter applied) with fewer than `exact_scan_below` vectors is read through the
  primary key and sorted exactly: every hit, the true order;
- a larger user goes through HNSW with `hnsw.iterative_scan = relaxed_order` (pgvector >= 0.8), and when
  that still yields fewer than `limit` hits the exact scan answers instead.

`ef_search` (default 200; pgvector's own is 40) is the HNSW candidate list: measured on 20,000 384-d vectors
with queries near stored ones, recall@20 against the exact answer is 0.94 at 40 and 0.998 at 200 for
clustered vectors (as embeddings are), 0.55 and 0.77 for uniformly random ones, at 0.6 to 3 ms a query.

`explain()` returns the plan of the query a search would run, so a test or an operator can see which.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg
import numpy as np

from jyntrix_adapters.postgres.pool import Database, translate_errors
from jyntrix_adapters.support.index_rules import best_first, check_vector, searchable, type_values
from jyntrix_adapters.support.lifecycle import AsyncResource
from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.model import Hit, MemoryId, MemoryType, UserId, Vector, VectorItem

# Held while creating the schema, so two processes starting at once do not race on CREATE TABLE.
_SCHEMA_LOCK = 0x4A594E56  # "JYNV"
_HNSW_INDEX = "memory_vectors_hnsw"

_TABLE = """
CREATE TABLE IF NOT EXISTS memory_vectors (
    user_id   text NOT NULL,
    id        text NOT NULL,
    type      text NOT NULL CHECK (type IN ('profile', 'semantic', 'episodic', 'procedural')),
    embedding vector({dimension}) NOT NULL,
    PRIMARY KEY (user_id, id)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON memory_vectors TO jyntrix_app;
ALTER TABLE memory_vectors ENABLE ROW LEVEL SECURITY;
ALTER TABLE memory_vectors FORCE ROW LEVEL SECURITY;
DO $$
BEGIN
    CREATE POLICY memory_vectors_owner ON memory_vectors
        USING (user_id = current_setting('app.user_id', true))
        WITH CHECK (user_id = current_setting('app.user_id', true));
EXCEPTION WHEN duplicate_object THEN
    NULL;
END $$;
"""
_INDEX = f"CREATE INDEX IF NOT EXISTS {_HNSW_INDEX} ON memory_vectors USING hnsw (embedding vector_cosine_ops)"

_UPSERT = """
INSERT INTO memory_vectors (user_id, id, type, embedding) VALUES ($1, $2, $3, $4::real[]::vector)
ON CONFLICT (user_id, id) DO UPDATE SET type = excluded.type, embedding = excluded.embedding
"""
_TYPES = "($3::text[] IS NULL OR type = ANY ($3::text[]))"
_COUNT = """
SELECT count(*) FROM (
    SELECT 1 FROM memory_vectors WHERE user_id = $1 AND ($2::text[] IS NULL OR type = ANY ($2::text[])) LIMIT $3
) AS s
"""
# MATERIALIZED keeps the ORDER BY outside the scan, so no plan can answer it from the HNSW index.
_EXACT = f"""
WITH mine AS MATERIALIZED (
    SELECT id, embedding <=> $2::real[]::vector AS distance FROM memory_vectors WHERE user_id = $1 AND {_TYPES}
)
SELECT id, distance FROM mine ORDER BY distance, id LIMIT $4
"""
_APPROXIMATE = f"""
SELECT id, embedding <=> $2::real[]::vector AS distance FROM memory_vectors WHERE user_id = $1 AND {_TYPES}
ORDER BY embedding <=> $2::real[]::vector LIMIT $4
"""
# Transaction-local: the pooled connection's next transaction plans as before. Sorting is priced out so the
# planner takes the HNSW scan the adapter chose instead of reading the user's rows and sorting them.
_HNSW_SETTINGS = """
SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', $1, true),
       set_config('hnsw.max_scan_tuples', $2, true), set_config('enable_sort', 'off', true)
"""

DEFAULT_EXACT_SCAN_BELOW = 10_000


class PgVectorIndex(AsyncResource):
    """Cosine search in Postgres with pgvector; every statement runs in a user-scoped transaction.

    With `db`, the pool of the stores' database (the same server as `dsn`), the index runs on it rather
    than on a pool of its own: its calls then join the stores' shared transactions (Database.shared), so a
    chat turn's vector write and search cost no transaction of their own. Vectors travel as `real[]` and
    are cast in SQL, so that pool needs no codec for the `vector` type.
    """

    def __init__(
        self,
        dsn: str,
        *,
        db: Database | None = None,
        dimension: int = 384,
        exact_scan_below: int = DEFAULT_EXACT_SCAN_BELOW,
        max_scan_tuples: int = 50_000,
        ef_search: int = 200,
        min_size: int = 1,
        max_size: int = 10,
    ) -> None:
        self._dsn = dsn
        self._dimension = dimension
        self._exact_below = exact_scan_below
        self._max_scan_tuples = max_scan_tuples
        self._ef_search = ef_search
        self._pool_size = (min_size, max_size)
        self._given = db
        self._db: Database | None = None

    async def open(self) -> None:
        """Create the extension, table, policy and HNSW index when missing, then open the pool (idempotent)."""
        if self._db is not None:
            return
        with translate_errors():
            conn = await asyncpg.connect(self._dsn)
            try:
                await create_schema(conn, self._dimension)
            finally:
                await conn.close()
        if self._given is not None:
            self._db = self._given
            return
        self._db = await Database.connect(self._dsn, min_size=self._pool_size[0], max_size=self._pool_size[1])

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None and db is not self._given:
            await db.close()

    async def ping(self) -> None:
        await (await self._database()).ping()

    async def _database(self) -> Database:
        if self._db is None:
            await self.open()
        assert self._db is not None
        return self._db

    def _check(self, vector: Vector) -> list[float]:
        check_vector(vector, self._dimension)
        return _floats(vector)

    async def upsert(self, user_id: UserId, items: Sequence[VectorItem]) -> None:
        latest = {item.id: item for item in items}  # the last write of an id in one batch wins
        rows = [(user_id, item.id, item.type.value, self._check(item.vector)) for item in latest.values()]
        if not rows:
            return
        async with (await self._database()).user_tx(user_id) as conn:
            await conn.executemany(_UPSERT, rows)

    async def delete(self, user_id: UserId, ids: Sequence[MemoryId]) -> None:
        if not ids:
            return
        async with (await self._database()).user_tx(user_id) as conn:
            await conn.execute("DELETE FROM memory_vectors WHERE user_id = $1 AND id = ANY ($2::text[])", user_id, ids)

    async def forget_user(self, user_id: UserId) -> None:
        async with (await self._database()).user_tx(user_id) as conn:
            await conn.execute("DELETE FROM memory_vectors WHERE user_id = $1", user_id)

    async def search(
        self, user_id: UserId, vector: Vector, limit: int, types: frozenset[MemoryType] | None = None
    ) -> list[Hit]:
        if not searchable(limit, types, vector, self._dimension):
            return []
        query = _floats(vector)
        wanted = type_values(types)
        async with (await self._database()).user_tx(user_id) as conn:
            rows = None
            if await self._uses_hnsw(conn, user_id, wanted):
                await self._tune_hnsw(conn, limit)
                rows = await conn.fetch(_APPROXIMATE, user_id, query, wanted, limit)
                # Sorting again, for the exact scan and for the statements after this one in a shared transaction.
                await conn.execute("SELECT set_config('enable_sort', 'on', true)")
                if len(rows) < limit:  # the scan gave up before finding `limit` of this user's vectors
                    rows = None
            if rows is None:
                rows = await conn.fetch(_EXACT, user_id, query, wanted, limit)
        hits = [Hit(id=row["id"], score=1.0 - float(row["distance"])) for row in rows]
        return best_first(hits)  # relaxed_order may return neighbours slightly out of order

    async def _tune_hnsw(self, conn: asyncpg.Connection, limit: int) -> None:
        ef_search = min(max(limit, self._ef_search), 1000)  # pgvector's upper bound
        await conn.execute(_HNSW_SETTINGS, str(ef_search), str(self._max_scan_tuples))

    async def _uses_hnsw(self, conn: asyncpg.Connection, user_id: UserId, wanted: list[str] | None) -> bool:
        if self._exact_below <= 0:
            return True
        count: int = await conn.fetchval(_COUNT, user_id, wanted, self._exact_below)
        return count >= self._exact_below

    async def explain(
        self, user_id: UserId, vector: Vector, limit: int, types: frozenset[MemoryType] | None = None
    ) -> str:
        """The plan of the first query `search` would run with these arguments (EXPLAIN, not executed)."""
        query = self._check(vector)
        wanted = type_values(types)
        async with (await self._database()).user_tx(user_id) as conn:
            sql = _EXACT
            if await self._uses_hnsw(conn, user_id, wanted):
                await self._tune_hnsw(conn, limit)
                sql = _APPROXIMATE
            rows = await conn.fetch("EXPLAIN " + sql, user_id, query, wanted, limit)
        return "\n".join(row[0] for row in rows)


def _floats(vector: Vector) -> list[float]:
    """The vector as `real[]` values (float32, as pgvector stores them)."""
    return np.asarray(vector, dtype=np.float32).tolist()  # type: ignore[no-any-return]


async def create_schema(conn: asyncpg.Connection, dimension: int, *, with_index: bool = True) -> None:
    """Create what the index needs on a migrated database; Unavailable names what an administrator must do."""
    await conn.execute("SELECT pg_advisory_lock($1)", _SCHEMA_LOCK)
    try:
        await _create_extension(conn)
        if not await conn.fetchval("SELECT to_regrole('jyntrix_app') IS NOT NULL"):
            raise Unavailable("the database is not migrated: run the Jyntrix migrations before opening pgvector")
        async with conn.transaction():
            await conn.execute(_TABLE.format(dimension=int(dimension)))
            if with_index:
                await conn.execute(_INDEX)
        stored = await conn.fetchval(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'memory_vectors'::regclass AND attname = 'embedding'"
        )
        if stored != dimension:
            raise Invalid(f"memory_vectors holds {stored}-d vectors, the index expects {dimension}: reindex into it")
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _SCHEMA_LOCK)


async def _create_extension(conn: asyncpg.Connection) -> None:
    if await conn.fetchval("SELECT 1 FROM pg_extension WHERE extname = 'vector'"):
        return
    if not await conn.fetchval("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"):
        raise Unavailable(
            "this Postgres server has no `vector` extension (pgvector): install it on the server,"
            " or select another vector index"
        )
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except asyncpg.exceptions.InsufficientPrivilegeError as error:
        database = await conn.fetchval("SELECT current_database()")
        raise Unavailable(
            f"this role may not create the `vector` extension; an administrator must run, in database"
            f' "{database}": CREATE EXTENSION vector;'
        ) from error
