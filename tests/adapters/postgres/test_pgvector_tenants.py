"""pgvector among 100,000 other tenants: a user's search returns all k of their hits, by exact scan below a size
and by HNSW's iterative scan above it."""

from __future__ import annotations

from collections.abc import Iterator

import asyncpg
import numpy as np
import pytest
from pgvector.asyncpg import register_vector

from jyntrix_adapters.postgres.migrations import migrate
from jyntrix_adapters.postgres.vector_index import PgVectorIndex, create_schema
from jyntrix_domain.model import new_id
from testsupport.postgres import run_sync, scratch_database
from testsupport.vector_items import item

MANY_DIM = 16  # the HNSW graph over 100,000 points builds in seconds at 16 dimensions, in minutes at 384


@pytest.fixture(scope="module")
def crowded_pgvector_dsn(embedded_postgres_dsn: str) -> Iterator[str]:
    """A database whose pgvector table holds 100,000 other tenants' vectors (one each) and its HNSW index."""

    async def load(dsn: str) -> None:
        await migrate(dsn)
        conn = await asyncpg.connect(dsn)
        try:
            # Loading before the HNSW index exists and building it once is far faster than 100,000 inserts.
            await create_schema(conn, MANY_DIM, with_index=False)
            await register_vector(conn)
            vectors = np.random.default_rng(7).standard_normal((100_000, MANY_DIM)).astype(np.float32)
            await conn.copy_records_to_table(
                "memory_vectors",
                records=((f"tenant-{i}", f"m{i}", "semantic", vectors[i]) for i in range(len(vectors))),
                columns=["user_id", "id", "type", "embedding"],
            )
            await create_schema(conn, MANY_DIM)
        finally:
            await conn.close()

    with scratch_database(embedded_postgres_dsn, "jyntrix_crowd_") as dsn:
        run_sync(load(dsn))
        yield dsn


@pytest.mark.slow
@pytest.mark.parametrize("exact_scan_below", [10_000, 0], ids=["exact-below-size", "hnsw-iterative"])
async def test_pgvector_returns_all_k_hits_of_a_user_among_100000_tenants(
    crowded_pgvector_dsn: str, exact_scan_below: int
) -> None:
    user, k = new_id(), 10
    rng = np.random.default_rng(8)
    mine = [item([float(x) for x in rng.standard_normal(MANY_DIM)]) for _ in range(k)]
    async with PgVectorIndex(crowded_pgvector_dsn, dimension=MANY_DIM, exact_scan_below=exact_scan_below) as index:
        await index.upsert(user, mine)
        plan = await index.explain(user, mine[0].vector, k)
        assert ("memory_vectors_hnsw" in plan) == (exact_scan_below == 0)
        hits = await index.search(user, mine[0].vector, k)
        assert {h.id for h in hits} == {m.id for m in mine}
        assert hits[0].id == mine[0].id
        assert len(await index.search(user, mine[0].vector, 3)) == 3
        await index.forget_user(user)
