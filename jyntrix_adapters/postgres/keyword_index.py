"""KeywordIndex on Postgres full-text search: Okapi BM25 computed in SQL over a GIN-indexed `tsvector`.

Replicas on several machines then share one keyword index, scoped by the same row-level security as every
other read. Text is split by the keyword indexes' `keyword_terms` (as bm25s splits it) and stemmed by the English
configuration in a generated column (migration 0003). Postgres's own `ts_rank` has no corpus statistics, so
the score is BM25 (k1=1.5, b=0.75, Lucene's non-negative idf) over the user's rows, on the same scale as the
bm25s and in-process adapters: the ranker's keyword weight means the same whichever index is selected.

The corpus statistics are kept in tables of their own (migration 0007), and a search scores the documents
its plan picks (memory_keywords_plan, migration 0008), not every document holding a query word: exact for a
user whose query words are rare enough, approximate among the documents holding only common words of a large
user's query. Scoring a document in SQL costs microseconds, so scoring every document that holds a common word
is what made search slow for a large user: the plan scores every document of the rarer words (the ones that
carry most of BM25's weight) up to a budget of rows, and for the common rest only documents holding many of
them at once, first all of them, then all but one, and so on, each read capped (99% of the exact top 20's
BM25 score at 100k memories, bench/retrieval_scale.py). A search is one statement, one round trip.

Positions in a `tsvector` stop at 16,383 and a lexeme keeps at most 256 of them, so in a document longer
than that the late repeats of a word no longer add to its term frequency.
"""

from __future__ import annotations

from collections.abc import Sequence

from jyntrix_adapters.postgres.pool import OnDatabase
from jyntrix_adapters.support.index_rules import best_first, can_find, type_values
from jyntrix_adapters.support.index_terms import keyword_terms
from jyntrix_domain.model import Hit, KeywordDoc, MemoryId, MemoryType, UserId

K1 = 1.5
B = 0.75
COMPLETE_ROWS = 200  # documents scored in full for the rarer words, summed over them
CAPPED_ROWS = 100  # documents read per level of the common words (at least the number of hits asked for)

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

# A search is one statement (migration 0008): memory_keywords_search reads the statistics, plans which documents
# to score and scores them, for the user its first argument scopes the statement to (Database.user_statement).
_SEARCH = """
SELECT id, score FROM memory_keywords_search(set_config('app.user_id', $1, true), $2, $3, $4, $5, $6, $7, $8)
"""

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
        args = (terms, type_values(types), limit, self.complete_rows, self.capped_rows, K1, B)
        rows = await self._db.user_statement(user_id, _SEARCH, user_id, *args)
        hits = [Hit(id=row["id"], score=float(row["score"])) for row in rows]
        return best_first(hits)[:limit]

    async def forget_user(self, user_id: UserId) -> None:
        async with self._db.user_tx(user_id) as conn:
            await conn.execute("DELETE FROM memory_keywords WHERE user_id = $1", user_id)

    async def ping(self) -> None:
        await self._db.ping()
