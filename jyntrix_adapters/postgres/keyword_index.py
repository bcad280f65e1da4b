"""KeywordIndex on Postgres full-text search: Okapi BM25 computed in SQL over a GIN-indexed `tsvector`.

Replicas on several machines then share one keyword index, scoped by the same row-level security as every
other read. Text is split by the keyword indexes' `keyword_terms` (as bm25s splits it) and stemmed by the English
configuration in a generated column (migration 0003). Postgres's own `ts_rank` has no corpus statistics, so
the score is BM25 (k1=1.5, b=0.75, Lucene's non-negative idf) over the user's rows, on the same scale as the
bm25s and in-process adapters: the ranker's keyword weight means the same whichever index is selected.

The corpus statistics are kept in tables of their own (migration 0007), and a search scores the documents
its plan picks (keyword_plan), not every document holding a query word: exact for a user whose query words
are rare enough, approximate among the documents holding only common words of a large user's query.

Positions in a `tsvector` stop at 16,383 and a lexeme keeps at most 256 of them, so in a document longer
than that the late repeats of a word no longer add to its term frequency.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from jyntrix_adapters.postgres.keyword_plan import CAPPED_ROWS, COMPLETE_ROWS, plan
from jyntrix_adapters.postgres.pool import OnDatabase
from jyntrix_adapters.support.index_rules import best_first, can_find, type_values
from jyntrix_adapters.support.index_terms import keyword_terms
from jyntrix_domain.model import Hit, KeywordDoc, MemoryId, MemoryType, UserId

K1 = 1.5
B = 0.75

# `length` is computed from the same expression as the generated `tsv`, so both agree on what the English
# configuration kept.
_UPSERT = """
INSERT INTO memory_keywords (user_id, id, type, terms, length)
SELECT $1, d.id, d.type, d.terms,
       (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0)
          FROM unnest(to_tsvector('english'::regconfig, d.terms)) AS u)
FROM unnest($2::text[], $3::text[], $4::text[]) AS d (id, type, terms)
ON CONFLICT (user_id, id) DO UPDATE SET type = excluded.type, terms = excluded.terms, length = excluded.length
"""

# A search reads the statistics first (migration 0007 keeps them), then scores only the documents its plan
# picks (keyword_plan) with memory_keywords_score (migration 0007: it reads the GIN index, which row-level
# security would keep a full-text condition of the application role from using). The type filter applies after
# the statistics, as in bm25s.
_STATISTICS = """
SELECT memory_keywords_prefix($1) AS prefix, q.lexeme, coalesce(t.df, 0) AS df, coalesce(s.documents, 0) AS documents,
       coalesce(s.total_length, 0) AS total_length
FROM unnest(to_tsvector('english'::regconfig, $2)) AS q
LEFT JOIN memory_keyword_terms AS t ON t.user_id = $1 AND t.lexeme = q.lexeme
LEFT JOIN memory_keyword_users AS s ON s.user_id = $1
"""

_SCORE = "SELECT id, score FROM memory_keywords_score($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"

# Writers of one user take this lock first: the statistics triggers update shared counter rows.
_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('jyntrix.memory_keywords:' || $1, 0))"


def _terms(text: str) -> str:
    return " ".join(keyword_terms(text))


class PostgresKeywordIndex(OnDatabase):
    """BM25 per user over the `memory_keywords` table; every statement runs in a user-scoped transaction."""

    complete_rows = COMPLETE_ROWS
    capped_rows = CAPPED_ROWS

    async def upsert(self, user_id: UserId, docs: Sequence[KeywordDoc]) -> None:
        latest = {d.id: d for d in docs}  # the last write of an id in one batch wins
        if not latest:
            return
        values = list(latest.values())
        async with self._db.user_tx(user_id) as conn:
            await conn.execute(_LOCK, user_id)
            await conn.execute(
                _UPSERT,
                user_id,
                [d.id for d in values],
                [d.type.value for d in values],
                [_terms(d.text) for d in values],
            )

    async def delete(self, user_id: UserId, ids: Sequence[MemoryId]) -> None:
        if not ids:
            return
        async with self._db.user_tx(user_id) as conn:
            await conn.execute(_LOCK, user_id)
            await conn.execute("DELETE FROM memory_keywords WHERE user_id = $1 AND id = ANY ($2::text[])", user_id, ids)

    async def search(
        self, user_id: UserId, query: str, limit: int, types: frozenset[MemoryType] | None = None
    ) -> list[Hit]:
        wanted_any = can_find(limit, types)
        terms = _terms(query)
        if not wanted_any or not terms:
            return []
        wanted = type_values(types)
        async with self._db.user_tx(user_id) as conn:
            rows = await conn.fetch(_STATISTICS, user_id, terms)
            if not rows or rows[0]["documents"] == 0:
                return []
            n = float(rows[0]["documents"])
            average = max(rows[0]["total_length"] / n, 1e-9)
            frequencies = {row["lexeme"]: int(row["df"]) for row in rows}
            lexemes = [lexeme for lexeme, df in frequencies.items() if df > 0]
            if not lexemes:
                return []
            idfs = [math.log(1.0 + (n - frequencies[x] + 0.5) / (frequencies[x] + 0.5)) for x in lexemes]
            chosen = plan(frequencies, self.complete_rows, rows[0]["prefix"])
            levels = list(chosen.levels)
            args = (lexemes, idfs, chosen.complete, levels, wanted, self.capped_rows, average, K1, B, limit)
            found = {row["id"]: float(row["score"]) for row in await conn.fetch(_SCORE, *args)}
        hits = [Hit(id=memory_id, score=score) for memory_id, score in found.items()]
        return best_first(hits)[:limit]

    async def forget_user(self, user_id: UserId) -> None:
        async with self._db.user_tx(user_id) as conn:
            await conn.execute("DELETE FROM memory_keywords WHERE user_id = $1", user_id)

    async def ping(self) -> None:
        await self._db.ping()
