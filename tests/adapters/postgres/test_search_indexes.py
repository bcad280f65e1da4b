"""The Postgres search indexes (pgvector, full-text) under row-level security, and the plans pgvector runs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import numpy as np
import pytest

from jyntrix_adapters.postgres.keyword_index import PostgresKeywordIndex
from jyntrix_adapters.postgres.pool import APP_ROLE, Database
from jyntrix_adapters.postgres.vector_index import PgVectorIndex
from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.model import KeywordDoc, MemoryType, VectorItem, new_id
from testsupport.pgvector import SERVERS_WITHOUT_VECTOR
from testsupport.postgres import database_owned_by_a_plain_role, server_dsn

DIM = 384


def unit(seed: int, dim: int = DIM) -> list[float]:
    vector = np.random.default_rng(seed).standard_normal(dim)
    return [float(x) for x in vector / np.linalg.norm(vector)]


@pytest.fixture
async def pgvector(embedded_postgres_dsn: str) -> AsyncIterator[PgVectorIndex]:
    async with PgVectorIndex(embedded_postgres_dsn, dimension=DIM, max_size=2) as index:
        yield index


@pytest.fixture
async def raw(embedded_postgres_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection as the server's superuser, with no help from the adapters."""
    conn = await asyncpg.connect(embedded_postgres_dsn)
    yield conn
    await conn.close()


async def count_as(conn: asyncpg.Connection, table: str, scope: str | None, owner: str) -> int:
    """Rows of `owner` in `table` seen by a raw query as the application role scoped to `scope`."""
    async with conn.transaction():
        await conn.execute(f"SET LOCAL ROLE {APP_ROLE}")
        if scope is not None:
            await conn.execute("SELECT set_config('app.user_id', $1, true)", scope)
        # No WHERE on the scope: only the policy stands between this query and the other user's rows.
        count: int = await conn.fetchval(f"SELECT count(*) FROM {table} WHERE user_id = $1", owner)
        return count


async def test_a_raw_query_as_another_user_finds_none_of_the_users_vectors(
    pgvector: PgVectorIndex, raw: asyncpg.Connection
) -> None:
    alice, bob = new_id(), new_id()
    await pgvector.upsert(alice, [VectorItem(id=new_id(), vector=unit(i), type=MemoryType.SEMANTIC) for i in range(3)])
    assert await count_as(raw, "memory_vectors", alice, alice) == 3
    assert await count_as(raw, "memory_vectors", bob, alice) == 0
    assert await count_as(raw, "memory_vectors", None, alice) == 0
    async with raw.transaction():
        await raw.execute(f"SET LOCAL ROLE {APP_ROLE}")
        await raw.execute("SELECT set_config('app.user_id', $1, true)", bob)
        nearest = "SELECT id FROM memory_vectors ORDER BY embedding <=> $1::vector LIMIT 10"
        assert await raw.fetch(nearest, str(unit(0))) == []


async def test_a_raw_query_as_another_user_finds_none_of_the_users_keywords(
    embedded_postgres_dsn: str, raw: asyncpg.Connection
) -> None:
    alice, bob = new_id(), new_id()
    db = await Database.connect(embedded_postgres_dsn, max_size=2)
    try:
        secret = KeywordDoc(id=new_id(), text="my pin is 4711", type=MemoryType.SEMANTIC)
        await PostgresKeywordIndex(db).upsert(alice, [secret])
    finally:
        await db.close()
    assert await count_as(raw, "memory_keywords", alice, alice) == 1
    assert await count_as(raw, "memory_keywords", bob, alice) == 0
    assert await count_as(raw, "memory_keywords", None, alice) == 0


async def test_a_small_user_is_searched_by_an_exact_scan(pgvector: PgVectorIndex) -> None:
    user = new_id()
    await pgvector.upsert(user, [VectorItem(id=new_id(), vector=unit(i), type=MemoryType.SEMANTIC) for i in range(5)])
    plan = await pgvector.explain(user, unit(0), 10)
    assert "memory_vectors_pkey" in plan
    assert "memory_vectors_hnsw" not in plan


async def test_a_large_user_is_searched_through_hnsw_and_still_gets_every_hit(embedded_postgres_dsn: str) -> None:
    user, other = new_id(), new_id()
    async with PgVectorIndex(embedded_postgres_dsn, dimension=DIM, exact_scan_below=50, max_size=2) as index:
        items = [VectorItem(id=new_id(), vector=unit(100 + i), type=MemoryType.EPISODIC) for i in range(60)]
        await index.upsert(user, items)
        await index.upsert(other, [VectorItem(id=new_id(), vector=unit(i), type=MemoryType.EPISODIC) for i in range(5)])
        assert "memory_vectors_hnsw" in await index.explain(user, unit(100), 10)
        # Below the threshold once the type filter applies: exact again.
        assert "memory_vectors_hnsw" not in await index.explain(user, unit(100), 10, frozenset({MemoryType.SEMANTIC}))
        hits = await index.search(user, unit(100), 60)
        assert {h.id for h in hits} == {i.id for i in items}
        assert hits[0].id == items[0].id
        assert hits[0].score == pytest.approx(1.0, abs=1e-4)


async def test_an_index_of_another_dimension_is_refused(embedded_postgres_dsn: str) -> None:
    with pytest.raises(Invalid):
        await PgVectorIndex(embedded_postgres_dsn, dimension=128).open()


async def test_a_role_that_may_not_create_the_extension_is_told_what_an_administrator_must_run(
    embedded_postgres_dsn: str,
) -> None:
    async with database_owned_by_a_plain_role(embedded_postgres_dsn) as (name, dsn):
        with pytest.raises(Unavailable, match=f'an administrator must run, in database "{name}": CREATE EXTENSION'):
            await PgVectorIndex(dsn).open()


if SERVERS_WITHOUT_VECTOR:  # generated only where such a server is at hand (CI's PostgreSQL 15)

    @pytest.mark.parametrize("server", SERVERS_WITHOUT_VECTOR)
    async def test_a_server_without_the_vector_extension_is_refused_with_a_reason(
        request: pytest.FixtureRequest, server: str
    ) -> None:
        with pytest.raises(Unavailable, match="no `vector` extension"):
            await PgVectorIndex(server_dsn(request, server)).open()
