"""Which documents the Postgres keyword search scores, from the query words' document frequencies
(memory_keywords_plan, migration 0008)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

MAX_CLAUSES = 36


@pytest.fixture
async def conn(postgres_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(postgres_dsn)
    try:
        yield connection
    finally:
        await connection.close()


async def plan(
    conn: asyncpg.Connection, frequencies: dict[str, int], complete_rows: int = 200, prefix: str = ""
) -> tuple[str | None, list[str]]:
    row = await conn.fetchrow(
        "SELECT complete, levels FROM memory_keywords_plan($1, $2, $3, $4)",
        list(frequencies),
        list(frequencies.values()),
        complete_rows,
        prefix,
    )
    assert row is not None
    return row["complete"], list(row["levels"])


async def test_words_that_fit_the_budget_are_scored_in_full_rarest_first(conn: asyncpg.Connection) -> None:
    chosen = await plan(conn, {"kayak": 40, "trip": 500, "river": 300, "absent": 0}, complete_rows=400)
    assert chosen == ("'kayak' | 'river'", ["'trip'"])


async def test_a_small_users_words_all_fit_so_nothing_is_capped(conn: asyncpg.Connection) -> None:
    assert await plan(conn, {"coffee": 3, "tea": 2}, prefix="u1") == ("'u1tea' | 'u1coffee'", [])


async def test_a_word_that_does_not_fit_sends_every_more_common_one_to_the_levels(conn: asyncpg.Connection) -> None:
    chosen = await plan(conn, {"rare": 5, "middle": 300, "small": 6}, complete_rows=100)
    assert chosen == ("'rare' | 'small'", ["'middle'"])


async def test_common_words_are_read_by_how_many_of_them_a_document_holds(conn: asyncpg.Connection) -> None:
    chosen = await plan(conn, {"lisbon": 14_000, "quiet": 10_000, "restaur": 9_800}, complete_rows=1000)
    assert chosen == (
        None,
        [
            "('restaur' & 'quiet' & 'lisbon')",
            "('restaur' & 'quiet') | ('restaur' & 'lisbon') | ('quiet' & 'lisbon')",
            "'restaur' | 'quiet' | 'lisbon'",
        ],
    )


async def test_levels_with_too_many_combinations_are_skipped_but_any_word_always_remains(
    conn: asyncpg.Connection,
) -> None:
    words = {f"w{i:02d}": 5000 + i for i in range(12)}
    _, levels = await plan(conn, words, complete_rows=10)
    for level in levels:
        assert level.count("(") <= MAX_CLAUSES
    assert levels[0].count("&") == 11  # all twelve at once: one clause
    assert levels[1].count("(") == 12  # all but one: twelve clauses; all but two (66) is skipped
    assert [level.count("(") for level in levels[2:]] == [0]
    assert levels[-1] == " | ".join(f"'{w}'" for w in sorted(words))


async def test_ties_in_frequency_go_in_code_point_order(conn: asyncpg.Connection) -> None:
    complete, _ = await plan(conn, {"zebra": 1, "Zebra": 1, "apple": 1, "été": 1})
    assert complete == "'Zebra' | 'apple' | 'zebra' | 'été'"


async def test_quotes_and_backslashes_are_taken_literally(conn: asyncpg.Connection) -> None:
    complete, _ = await plan(conn, {"o'neil": 1, "back\\slash": 2})
    assert complete == "'o''neil' | 'back\\\\slash'"
    assert await conn.fetchval("SELECT $1::tsquery::text", complete) == "'o''neil' | 'back\\\\slash'"


async def test_no_word_in_any_document_plans_nothing(conn: asyncpg.Connection) -> None:
    assert await plan(conn, {"absent": 0}) == (None, [])


async def test_a_long_query_keeps_only_all_of_its_words_and_any_of_them(conn: asyncpg.Connection) -> None:
    words = {f"w{i:03d}": 5000 + i for i in range(200)}
    _, levels = await plan(conn, words, complete_rows=10)
    assert [level.count("&") for level in levels] == [199, 0]
