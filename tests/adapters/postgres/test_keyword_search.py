"""The Postgres keyword search as one statement (migration 0008): what it sends, whom it answers, and the
upgrade from a database indexed before it."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import asyncpg
import pytest

from jyntrix_adapters.postgres.keyword_index import PostgresKeywordIndex
from jyntrix_adapters.postgres.migrations import load_migrations, migrate
from jyntrix_adapters.postgres.pool import Database
from jyntrix_domain.model import KeywordDoc, MemoryType, new_id
from tests.adapters.postgres.test_memory_fields_migration import as_user
from testsupport.postgres import database_owned_by_a_plain_role

SEMANTIC = MemoryType.SEMANTIC
_ARGS = "'garden', NULL, 10, 200, 100, 1.5, 0.75"
_CALL = f"SELECT id FROM memory_keywords_search($1, {_ARGS})"
_SCOPING = f"SELECT id FROM memory_keywords_search(set_config('app.user_id', $1, true), {_ARGS})"


def doc(text: str, id: str | None = None) -> KeywordDoc:
    return KeywordDoc(id=id or new_id(), text=text, type=SEMANTIC)


@pytest.fixture
async def db(postgres_dsn: str) -> AsyncIterator[Database]:
    database = await Database.connect(postgres_dsn, min_size=1, max_size=1)
    try:
        yield database
    finally:
        await database.close()


async def test_a_search_sends_one_statement_and_leaves_no_scope_on_the_pooled_connection(db: Database) -> None:
    index = PostgresKeywordIndex(db)
    user = new_id()
    stored = doc("the garden gate needs oil")
    await index.upsert(user, [stored])
    sent: list[str] = []

    def log(record: object) -> None:
        sent.append(record.query)  # type: ignore[attr-defined]

    async with db.pool.acquire() as conn:
        conn.add_query_logger(log)
    try:
        hits = await index.search(user, "garden gate", 5)
    finally:
        async with db.pool.acquire() as conn:
            conn.remove_query_logger(log)
            left = await conn.fetchval("SELECT current_setting('app.user_id', true)")
            role = await conn.fetchval("SELECT current_user = session_user")
    assert [h.id for h in hits] == [stored.id]
    assert len(sent) == 1 and "memory_keywords_search" in sent[0]
    assert left in ("", None)  # the max_size=1 pool gave the same connection back
    assert role


async def test_the_search_function_answers_only_for_the_user_the_statement_is_scoped_to(
    db: Database, postgres_dsn: str
) -> None:
    index = PostgresKeywordIndex(db)
    alice, bob = new_id(), new_id()
    await index.upsert(alice, [doc("secret garden plans")])
    await index.upsert(bob, [doc("garden gnome collection")])
    async with as_user(postgres_dsn, bob) as conn:
        assert len(await conn.fetch(_CALL, bob)) == 1
        assert await conn.fetch(_CALL, alice) == []  # alice's rows, asked in bob's transaction
    async with as_user(postgres_dsn, "") as conn:
        assert await conn.fetch(_CALL, bob) == []  # no scope, no rows
    async with db.pool.acquire() as owner:  # the login role, outside any transaction
        assert await owner.fetch(_CALL, bob) == []
        assert len(await owner.fetch(_SCOPING, alice)) == 1
        assert await owner.fetchval("SELECT current_setting('app.user_id', true)") in ("", None)


async def test_a_search_within_a_shared_block_reads_its_uncommitted_writes(db: Database) -> None:
    index = PostgresKeywordIndex(db)
    user = new_id()
    stored = doc("violin lessons on tuesday")
    async with db.shared(user):
        await index.upsert(user, [stored])
        assert [h.id for h in await index.search(user, "violin", 5)] == [stored.id]
    assert [h.id for h in await index.search(user, "violin", 5)] == [stored.id]


async def test_a_database_owned_by_a_plain_role_searches_under_its_forced_row_security(
    embedded_postgres_dsn: str,
) -> None:
    async with database_owned_by_a_plain_role(embedded_postgres_dsn) as (_, dsn):
        # A plain role may not create the migrations' roles: an administrator creates them and lets it in.
        owner = dsn.split("://", 1)[1].split("@", 1)[0]
        admin = await asyncpg.connect(embedded_postgres_dsn)
        try:
            for role in ("jyntrix_app", "jyntrix_maintenance", "jyntrix_directory"):
                exists = await admin.fetchval("SELECT true FROM pg_roles WHERE rolname = $1", role)
                if not exists:
                    await admin.execute(f"CREATE ROLE {role} NOLOGIN")
                await admin.execute(f'GRANT {role} TO "{owner}"')
            await admin.execute(f'ALTER ROLE "{owner}" CREATEROLE')
        finally:
            await admin.close()
        await migrate(dsn)
        db = await Database.connect(dsn, min_size=1, max_size=2)
        try:
            index = PostgresKeywordIndex(db)
            alice, bob = new_id(), new_id()
            mine = doc("kayak trip down the river")
            await index.upsert(alice, [mine, doc("a quiet weekend")])
            await index.upsert(bob, [doc("kayak kayak kayak")])
            hits = await index.search(alice, "kayak river", 10)
        finally:
            await db.close()
    assert [h.id for h in hits] == [mine.id]


async def test_0008_searches_what_was_indexed_before_it_with_the_same_scores(fresh_database_dsn: str) -> None:
    before = [m for m in load_migrations() if m.version < 8]
    await migrate(fresh_database_dsn, before)
    user = new_id()
    db = await Database.connect(fresh_database_dsn, min_size=1, max_size=2)
    try:
        index = PostgresKeywordIndex(db)
        await index.upsert(user, [doc("kayak trip river", "a"), doc("kayak paddle repair kayak", "b"), doc("tea", "c")])
        assert await migrate(fresh_database_dsn) == [m.version for m in load_migrations() if m.version >= 8]
        hits = await index.search(user, "kayak river", 10)
    finally:
        await db.close()

    # BM25 by hand: n = 3, average length 8/3, df(kayak) = 2, df(river) = 1.
    def term(df: int, tf: int, length: int) -> float:
        idf = math.log(1.0 + (3 - df + 0.5) / (df + 0.5))
        return idf * tf * 2.5 / (tf + 1.5 * (1.0 - 0.75 + 0.75 * length / (8 / 3)))

    expected = {"a": term(2, 1, 3) + term(1, 1, 3), "b": term(2, 2, 4)}
    assert {h.id: h.score for h in hits} == pytest.approx(expected, rel=1e-12)
    assert [h.id for h in hits] == sorted(expected, key=lambda k: -expected[k])
