"""Migrations: ordered, recorded, idempotent, safe to run from many processes at once."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from jyntrix_adapters.postgres.migrations import Migration, load_migrations, migrate
from jyntrix_domain.errors import Invalid


async def recorded(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        return [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")]
    finally:
        await conn.close()


async def tables(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return {r["tablename"] for r in rows}
    finally:
        await conn.close()


def test_migrations_are_numbered_from_one_without_gaps() -> None:
    versions = [m.version for m in load_migrations()]
    assert versions == list(range(1, len(versions) + 1))


async def test_a_fresh_database_gets_every_migration_once(fresh_database_dsn: str) -> None:
    everything = [m.version for m in load_migrations()]
    assert await migrate(fresh_database_dsn) == everything
    assert await recorded(fresh_database_dsn) == everything
    assert {"memories", "memory_history", "conversations", "messages", "spans"} <= await tables(fresh_database_dsn)


async def test_reapplying_is_a_no_op(fresh_database_dsn: str) -> None:
    await migrate(fresh_database_dsn)
    before = await recorded(fresh_database_dsn)
    assert await migrate(fresh_database_dsn) == []
    assert await migrate(fresh_database_dsn) == []
    assert await recorded(fresh_database_dsn) == before


async def test_the_shared_test_database_is_up_to_date(postgres_dsn: str) -> None:
    assert await migrate(postgres_dsn) == []


async def test_concurrent_starters_apply_each_migration_exactly_once(fresh_database_dsn: str) -> None:
    results = await asyncio.gather(*(migrate(fresh_database_dsn) for _ in range(5)))
    everything = [m.version for m in load_migrations()]
    assert sorted(results, key=len) == [[]] * 4 + [everything]
    assert await recorded(fresh_database_dsn) == everything


async def test_a_failing_migration_leaves_nothing_behind(fresh_database_dsn: str) -> None:
    broken = Migration(9001, "broken", "CREATE TABLE half_done (x int); SELECT no_such_function();")
    with pytest.raises(asyncpg.exceptions.UndefinedFunctionError):
        await migrate(fresh_database_dsn, [*load_migrations(), broken])
    assert 9001 not in await recorded(fresh_database_dsn)
    assert "half_done" not in await tables(fresh_database_dsn)
    assert "memories" in await tables(fresh_database_dsn)


async def test_an_applied_migration_that_changed_is_refused(fresh_database_dsn: str) -> None:
    first = load_migrations()[0]
    await migrate(fresh_database_dsn, [first])
    edited = Migration(first.version, first.name, first.sql + "\n-- edited\n")
    with pytest.raises(Invalid):
        await migrate(fresh_database_dsn, [edited])
