"""KeywordIndex on Postgres full-text search: Okapi BM25 computed in SQL over a GIN-indexed `tsvector`.

Replicas on several machines then share one keyword index, scoped by the same row-level security as every
other read. Text is split by the domain's `keyword_terms` (as bm25s splits it) and stemmed by the English
configuration in a generated column (migration 0003). Postgres's own `ts_rank` has no corpus statistics, so
the score is BM25 (k1=1.5, b=0.75, Lucene's non-negative idf) over the user's rows, on the same scale as the
bm25s and in-process adapters: the ranker's keyword weight means the same whichever index is selected.

Positions in a `tsvector` stop at 16,383 and a lexeme keeps at most 256 of them, so in a document longer
than that the late repeats of a word no longer add to its term frequency.
"""

from __future__ import annotations

from collections.abc import Sequence

from jyntrix_adapters.postgres.pool import OnDatabase
from jyntrix_adapters.support.index_rules import can_find, type_values
from jyntrix_domain.model import Hit, KeywordDoc, MemoryId, MemoryType, UserId
from jyntrix_domain.terms import keyword_terms

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

# Every document holding a query lexeme is a candidate (found through the GIN index), so a lexeme's document
# frequency is its count among the candidates; the type filter applies after the statistics, as in bm25s.
_SEARCH = f"""
WITH query AS (
    SELECT u.lexeme FROM unnest(to_tsvector('english'::regconfig, $2)) AS u
), wanted AS (
    SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS q FROM query
), matches AS (
    SELECT k.id, k.type, k.length, u.lexeme, coalesce(array_length(u.positions, 1), 1)::float8 AS tf
    FROM memory_keywords AS k, wanted, unnest(k.tsv) AS u
    WHERE k.user_id = $1 AND k.tsv @@ wanted.q AND u.lexeme IN (SELECT lexeme FROM query)
), frequency AS (
    SELECT lexeme, count(*)::float8 AS df FROM matches GROUP BY lexeme
), corpus AS (
    SELECT count(*)::float8 AS n, coalesce(avg(length), 0)::float8 AS average
    FROM memory_keywords WHERE user_id = $1
)
SELECT m.id,
       sum(ln(1.0 + (c.n - f.df + 0.5) / (f.df + 0.5)) * m.tf * {K1 + 1.0}
           / (m.tf + {K1} * (1.0 - {B} + {B} * m.length / greatest(c.average, 1e-9)))) AS score
FROM matches AS m JOIN frequency AS f USING (lexeme) CROSS JOIN corpus AS c
WHERE $3::text[] IS NULL OR m.type = ANY ($3::text[])
GROUP BY m.id
ORDER BY score DESC, m.id
LIMIT $4
"""


def _terms(text: str) -> str:
    return " ".join(keyword_terms(text))


class PostgresKeywordIndex(OnDatabase):
    """BM25 per user over the `memory_keywords` table; every statement runs in a user-scoped transaction."""

    async def upsert(self, user_id: UserId, docs: Sequence[KeywordDoc]) -> None:
        latest = {d.id: d for d in docs}  # the last write of an id in one batch wins
        if not latest:
            return
        values = list(latest.values())
        async with self._db.user_tx(user_id) as conn:
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
            await conn.execute("DELETE FROM memory_keywords WHERE user_id = $1 AND id = ANY ($2::text[])", user_id, ids)

    async def search(
        self, user_id: UserId, query: str, limit: int, types: frozenset[MemoryType] | None = None
    ) -> list[Hit]:
        wanted_any = can_find(limit, types)
        terms = _terms(query)
        if not wanted_any or not terms:
            return []
        wanted = type_values(types)
        rows = await self._db.user_fetch(user_id, _SEARCH, user_id, terms, wanted, limit)
        return [Hit(id=row["id"], score=float(row["score"])) for row in rows]

    async def forget_user(self, user_id: UserId) -> None:
        async with self._db.user_tx(user_id) as conn:
            await conn.execute("DELETE FROM memory_keywords WHERE user_id = $1", user_id)

    async def ping(self) -> None:
        await self._db.ping()
