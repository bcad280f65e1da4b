"""EntityGraph on Postgres: entities, relations between entity keys, and memory mentions.

Relations are directed when stored but traversed in both directions: "Anna works at Acme"
makes Acme a neighbour of Anna and Anna a neighbour of Acme.
"""

from __future__ import annotations

from collections.abc import Sequence

from jyntrix_adapters.postgres.pool import OnDatabase
from jyntrix_adapters.postgres.rows import from_row
from jyntrix_domain.errors import Invalid
from jyntrix_domain.memory_rules import check_names
from jyntrix_domain.model import Entity, MemoryId, Relation, UserId, entity_key

_NEIGHBOURS = """
WITH RECURSIVE walk(key, hops) AS (
    SELECT key, 0 FROM entities WHERE user_id = $1 AND key = ANY($2::text[])
    UNION
    SELECT CASE WHEN r.source = w.key THEN r.target ELSE r.source END, w.hops + 1
    FROM walk AS w
    JOIN relations AS r ON r.user_id = $1 AND (r.source = w.key OR r.target = w.key)
    WHERE w.hops < $3
)
SELECT key, min(hops) AS hops FROM walk GROUP BY key
"""


def _merge_entities(entities: Sequence[Entity], relations: Sequence[Relation]) -> dict[str, tuple[str, str, bool]]:
    """key -> (name, kind, explicit). A specific kind beats the default 'thing'; relation ends are implicit."""
    merged: dict[str, tuple[str, str, bool]] = {}
    for e in entities:
        if not e.key:
            continue
        old = merged.get(e.key)
        kind = old[1] if old and e.kind == "thing" else e.kind
        merged[e.key] = (e.name, kind, True)
    for r in relations:
        for name in (r.source, r.target):
            key = entity_key(name)
            if key and key not in merged:
                merged[key] = (name, "thing", False)
    return merged


def _edges(relations: Sequence[Relation]) -> list[tuple[str, str, str]]:
    """(source key, predicate, target key) in first-seen order, deduplicated, incomplete ones dropped."""
    edges = dict.fromkeys((entity_key(r.source), r.predicate.strip(), entity_key(r.target)) for r in relations)
    return [e for e in edges if all(e)]


def _columns(rows: Sequence[tuple[str, ...]]) -> list[list[str]]:
    return [list(column) for column in zip(*rows, strict=True)]


class PostgresEntityGraph(OnDatabase):
    """EntityGraph backed by `entities`, `relations` and `mentions`; traversal is a recursive CTE."""

    async def link(
        self, user_id: UserId, memory_id: MemoryId, entities: Sequence[Entity], relations: Sequence[Relation] = ()
    ) -> None:
        """Relations are recorded as asserted by `memory_id`, whatever their own memory_id says."""
        check_names([e.name for e in entities], relations)
        merged = _merge_entities(entities, relations)
        explicit = [(k, n, kind) for k, (n, kind, exp) in merged.items() if exp]
        implicit = [(k, n, kind) for k, (n, kind, exp) in merged.items() if not exp]
        edges = _edges(relations)
        async with self._db.user_tx(user_id) as conn:
            # One writer per user's graph at a time: concurrent links touching the same entities
            # in different orders would otherwise deadlock.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('jyntrix.graph:' || $1))", user_id)
            if explicit:
                await conn.execute(
                    "INSERT INTO entities (user_id, key, name, kind)"
                    " SELECT $1, k, n, c FROM unnest($2::text[], $3::text[], $4::text[]) AS t(k, n, c)"
                    " ON CONFLICT (user_id, key) DO UPDATE SET name = EXCLUDED.name,"
                    " kind = CASE WHEN EXCLUDED.kind = 'thing' THEN entities.kind ELSE EXCLUDED.kind END",
                    user_id,
                    *_columns(explicit),
                )
                await conn.execute(
                    "INSERT INTO mentions (user_id, memory_id, entity_key)"
                    " SELECT $1, $2, k FROM unnest($3::text[]) AS k ON CONFLICT DO NOTHING",
                    user_id,
                    memory_id,
                    [k for k, _, _ in explicit],
                )
            if implicit:
                await conn.execute(
                    "INSERT INTO entities (user_id, key, name, kind)"
                    " SELECT $1, k, n, c FROM unnest($2::text[], $3::text[], $4::text[]) AS t(k, n, c)"
                    " ON CONFLICT DO NOTHING",
                    user_id,
                    *_columns(implicit),
                )
            if edges:
                await conn.execute(
                    "INSERT INTO relations (user_id, source, predicate, target, memory_id)"
                    " SELECT $1, s, p, t, $2 FROM unnest($3::text[], $4::text[], $5::text[]) AS x(s, p, t)"
                    " ON CONFLICT DO NOTHING",
                    user_id,
                    memory_id,
                    *_columns(edges),
                )

    async def unlink(self, user_id: UserId, memory_id: MemoryId) -> None:
        async with self._db.user_tx(user_id) as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('jyntrix.graph:' || $1))", user_id)
            await conn.execute("DELETE FROM mentions WHERE user_id = $1 AND memory_id = $2", user_id, memory_id)
            await conn.execute("DELETE FROM relations WHERE user_id = $1 AND memory_id = $2", user_id, memory_id)

    async def neighbours(self, user_id: UserId, names: Sequence[str], depth: int) -> dict[str, int]:
        """Known entities among `names` count as 0 hops; unknown names are ignored."""
        if depth < 0:
            raise Invalid("depth must be >= 0")
        keys = sorted({k for k in map(entity_key, names) if k})
        if not keys:
            return {}
        rows = await self._db.user_fetch(user_id, _NEIGHBOURS, user_id, keys, depth)
        return {r["key"]: r["hops"] for r in rows}

    async def related(self, user_id: UserId, source: str, predicates: Sequence[str]) -> list[Entity]:
        wanted = sorted({p.strip() for p in predicates if p.strip()})
        if not wanted:
            return []
        rows = await self._db.user_fetch(
            user_id,
            "SELECT e.name, e.kind FROM (SELECT target, min(seq) AS first FROM relations"
            " WHERE user_id = $1 AND source = $2 AND predicate = ANY($3::text[]) GROUP BY target) AS r"
            " JOIN entities AS e ON e.user_id = $1 AND e.key = r.target ORDER BY r.first",
            user_id,
            entity_key(source),
            wanted,
        )
        return [Entity(name=r["name"], kind=r["kind"]) for r in rows]

    async def mentions(self, user_id: UserId, keys: Sequence[str], limit: int) -> list[tuple[MemoryId, str]]:
        """Most recently linked first."""
        wanted = sorted({k for k in map(entity_key, keys) if k})
        if not wanted or limit <= 0:
            return []
        rows = await self._db.user_fetch(
            user_id,
            "SELECT memory_id, entity_key FROM mentions WHERE user_id = $1 AND entity_key = ANY($2::text[])"
            " ORDER BY seq DESC LIMIT $3",
            user_id,
            wanted,
            limit,
        )
        return [(r["memory_id"], r["entity_key"]) for r in rows]

    async def entities(self, user_id: UserId) -> list[Entity]:
        """Ordered by key."""
        rows = await self._db.user_fetch(
            user_id, 'SELECT name, kind FROM entities WHERE user_id = $1 ORDER BY key COLLATE "C"', user_id
        )
        return [from_row(Entity, r) for r in rows]

    async def relations(self, user_id: UserId) -> list[Relation]:
        """Endpoints as entity keys, in the order they were first asserted."""
        rows = await self._db.user_fetch(
            user_id,
            "SELECT source, predicate, target, memory_id FROM relations WHERE user_id = $1 ORDER BY seq",
            user_id,
        )
        return [from_row(Relation, r) for r in rows]

    async def forget_user(self, user_id: UserId) -> None:
        async with self._db.user_tx(user_id) as conn:
            for table in ("mentions", "relations", "entities"):
                await conn.execute(f"DELETE FROM {table} WHERE user_id = $1", user_id)
