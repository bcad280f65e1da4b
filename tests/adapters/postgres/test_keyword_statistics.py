"""The Postgres keyword index's corpus statistics (migration 0007), its capped search plan and its scoring
function's scope, on a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from jyntrix_adapters.postgres.keyword_index import PostgresKeywordIndex
from jyntrix_adapters.postgres.migrations import load_migrations, migrate
from jyntrix_adapters.postgres.pool import Database
from jyntrix_domain.model import KeywordDoc, MemoryType, new_id
from tests.adapters.postgres.test_memory_fields_migration import as_user

SEMANTIC, EPISODIC = MemoryType.SEMANTIC, MemoryType.EPISODIC

# The statistics as counted from the rows themselves (run by the owner, which row-level security lets read).
_RECOUNT = """
SELECT (SELECT coalesce(jsonb_object_agg(lexeme, df), '{}') FROM (
            SELECT u.lexeme, count(*) AS df FROM memory_keywords AS k, unnest(k.tsv) AS u
            WHERE k.user_id = $1 GROUP BY 1) AS t) AS terms,
       (SELECT count(*) FROM memory_keywords WHERE user_id = $1) AS documents,
       (SELECT coalesce(sum(length), 0) FROM memory_keywords WHERE user_id = $1) AS total_length
"""
_KEPT = """
SELECT (SELECT coalesce(jsonb_object_agg(lexeme, df), '{}') FROM memory_keyword_terms WHERE user_id = $1) AS terms,
       coalesce((SELECT documents FROM memory_keyword_users WHERE user_id = $1), 0) AS documents,
       coalesce((SELECT total_length FROM memory_keyword_users WHERE user_id = $1), 0) AS total_length
"""


@pytest.fixture
async def index(postgres_dsn: str) -> AsyncIterator[PostgresKeywordIndex]:
    db = await Database.connect(postgres_dsn, min_size=1, max_size=4)
    try:
        yield PostgresKeywordIndex(db)
    finally:
        await db.close()


async def assert_statistics_match_the_rows(dsn: str, user: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        recount, kept = await conn.fetchrow(_RECOUNT, user), await conn.fetchrow(_KEPT, user)
    finally:
        await conn.close()
    assert dict(kept) == dict(recount)


def doc(text: str, type: MemoryType = SEMANTIC, id: str | None = None) -> KeywordDoc:
    return KeywordDoc(id=id or new_id(), text=text, type=type)


async def test_statistics_follow_inserts_replacements_deletes_and_forgetting(
    index: PostgresKeywordIndex, postgres_dsn: str
) -> None:
    user, other = new_id(), new_id()
    docs = [doc("green tea in the garden"), doc("garden party with tea and cake"), doc("black coffee")]
    await index.upsert(user, docs)
    await index.upsert(other, [doc("tea tea tea")])
    assert (await as_kept(postgres_dsn, user))["documents"] == 3
    await assert_statistics_match_the_rows(postgres_dsn, user)
    await index.upsert(user, [doc("a much longer text about coffee roasting at home", id=docs[0].id)])
    await assert_statistics_match_the_rows(postgres_dsn, user)
    await index.delete(user, [docs[1].id])
    await assert_statistics_match_the_rows(postgres_dsn, user)
    kept = await as_kept(postgres_dsn, user)
    assert "cake" not in kept["terms"] and kept["documents"] == 2  # a word no document holds any more is gone
    await index.forget_user(user)
    assert await as_kept(postgres_dsn, user) == {"terms": "{}", "documents": 0, "total_length": 0}
    await assert_statistics_match_the_rows(postgres_dsn, other)


async def as_kept(dsn: str, user: str) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        return dict(await conn.fetchrow(_KEPT, user))
    finally:
        await conn.close()


async def test_a_capped_search_still_finds_every_document_of_a_rare_word_and_those_holding_all_common_ones(
    index: PostgresKeywordIndex,
) -> None:
    user = new_id()
    index.complete_rows, index.capped_rows = 5, 3
    fillers = [doc(f"weekly meeting notes about the budget {i}") for i in range(12)]
    both = doc("meeting notes for the budget review")
    rare = [doc("the dentist moved the appointment"), doc("dentist bill")]
    await index.upsert(user, [*fillers, both, *rare])
    hits = await index.search(user, "dentist budget review", 10)
    assert {h.id for h in hits} >= {both.id, *(d.id for d in rare)}
    # Holding all the common words ranks first, as exact BM25 would; and the scores are exact BM25.
    full = PostgresKeywordIndex(index._db)
    exact = {h.id: h.score for h in await full.search(user, "dentist budget review", 100)}
    assert {h.id: h.score for h in hits} == pytest.approx({h.id: exact[h.id] for h in hits}, rel=1e-9)
    assert hits[0].id == max(exact, key=lambda memory_id: exact[memory_id])


async def test_a_level_that_finds_too_few_is_followed_by_the_next_without_scoring_a_document_twice(
    index: PostgresKeywordIndex,
) -> None:
    user = new_id()
    index.complete_rows, index.capped_rows = 0, 1
    both = [doc("alpha beta"), doc("beta alpha again")]
    singles = [doc(f"alpha note {i}") for i in range(5)] + [doc(f"beta note {i}") for i in range(5)]
    await index.upsert(user, [*both, *singles])
    hits = await index.search(user, "alpha beta", 6)
    assert len(hits) == len({h.id for h in hits}) == 6
    assert {h.id for h in hits[:2]} == {d.id for d in both}
    exact = {h.id: h.score for h in await PostgresKeywordIndex(index._db).search(user, "alpha beta", 100)}
    assert {h.id: h.score for h in hits} == pytest.approx({h.id: exact[h.id] for h in hits}, rel=1e-9)


async def test_the_capped_part_keeps_the_type_filter(index: PostgresKeywordIndex) -> None:
    user = new_id()
    index.complete_rows, index.capped_rows = 2, 2
    await index.upsert(user, [doc(f"marathon training day {i}", EPISODIC) for i in range(8)])
    wanted = doc("marathon training plan", SEMANTIC)
    await index.upsert(user, [wanted])
    hits = await index.search(user, "marathon training", 5, frozenset({SEMANTIC}))
    assert [h.id for h in hits] == [wanted.id]


async def test_the_scoring_function_reads_only_the_scoped_user(index: PostgresKeywordIndex, postgres_dsn: str) -> None:
    alice, bob = new_id(), new_id()
    await index.upsert(alice, [doc("secret garden plans")])
    await index.upsert(bob, [doc("garden gnome collection")])
    call = "SELECT id FROM memory_keywords_score($1, $2, $3, '{}', NULL, 10, 3.0, 1.5, 0.75, 10)"

    async def garden(conn: asyncpg.Connection, user: str) -> tuple[list[str], list[float], str]:
        return ["garden"], [1.0], f"'{await conn.fetchval('SELECT memory_keywords_prefix($1)', user)}garden'"

    async with as_user(postgres_dsn, bob) as conn:
        assert len(await conn.fetch(call, *await garden(conn, bob))) == 1
        assert await conn.fetch(call, *await garden(conn, alice)) == []  # alice's keys, asked as bob
    async with as_user(postgres_dsn, "") as conn:
        args = await garden(conn, bob)
        assert await conn.fetch(call, *args) == []


async def test_0007_counts_the_rows_indexed_before_it(fresh_database_dsn: str) -> None:
    before = [m for m in load_migrations() if m.version < 7]
    await migrate(fresh_database_dsn, before)
    user = new_id()
    old_upsert = """
        INSERT INTO memory_keywords (user_id, id, type, terms, length)
        SELECT $1, d.id, 'semantic', d.terms, (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0)
                                               FROM unnest(to_tsvector('english'::regconfig, d.terms)) AS u)
        FROM unnest($2::text[], $3::text[]) AS d (id, terms)
    """
    async with as_user(fresh_database_dsn, user) as conn:
        await conn.execute(old_upsert, user, ["a", "b"], ["kayak trip river", "kayak paddle repair kayak"])
    assert await migrate(fresh_database_dsn) == [m.version for m in load_migrations() if m.version >= 7]
    await assert_statistics_match_the_rows(fresh_database_dsn, user)
    db = await Database.connect(fresh_database_dsn, min_size=1, max_size=2)
    try:
        hits = await PostgresKeywordIndex(db).search(user, "kayak", 10)
    finally:
        await db.close()
    assert [h.id for h in hits] == ["b", "a"]
