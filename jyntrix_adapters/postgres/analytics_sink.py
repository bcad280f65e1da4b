"""AnalyticsSink on Postgres: spans in one table, queried across users.

Spans are operational telemetry that the analytics API aggregates over all users, so the
table has no row-level policy; the sink still runs as the unprivileged application role.
Spans hold timings, ids and small attributes, never memory or message text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from jyntrix_adapters.postgres.pool import OnDatabase
from jyntrix_adapters.postgres.rows import from_row
from jyntrix_domain.model import Span, UserId

_COLUMNS = "id, trace_id, name, kind, started_at, duration_ms, status, user_id, attributes"


class PostgresAnalyticsSink(OnDatabase):
    """AnalyticsSink backed by the `spans` table."""

    async def write(self, spans: Sequence[Span]) -> None:
        """Idempotent by span id, so a retried flush does not double-count."""
        if not spans:
            return
        async with self._db.admin_tx() as conn:
            await conn.executemany(
                f"INSERT INTO spans ({_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING",
                [
                    (
                        s.id,
                        s.trace_id,
                        s.name,
                        s.kind.value,
                        s.started_at,
                        s.duration_ms,
                        s.status.value,
                        s.user_id,
                        s.attributes,
                    )
                    for s in spans
                ],
            )

    async def query(
        self, since: datetime, until: datetime, user_id: UserId | None = None, kind: str | None = None
    ) -> list[Span]:
        """Spans with since <= started_at < until, oldest first; every user's when `user_id` is None."""
        async with self._db.admin_tx() as conn:
            rows = await conn.fetch(
                f"SELECT {_COLUMNS} FROM spans WHERE started_at >= $1 AND started_at < $2"
                " AND ($3::text IS NULL OR user_id = $3) AND ($4::text IS NULL OR kind = $4)"
                ' ORDER BY started_at, id COLLATE "C"',
                since,
                until,
                user_id,
                kind,
            )
        return [from_row(Span, r) for r in rows]

    async def purge(self, before: datetime) -> int:
        async with self._db.admin_tx() as conn:
            status = await conn.execute("DELETE FROM spans WHERE started_at < $1", before)
        return int(status.split()[-1])

    async def forget_user(self, user_id: UserId) -> int:
        """Delete the user's spans, for a user's delete-all (an addition to the port)."""
        async with self._db.admin_tx() as conn:
            status = await conn.execute("DELETE FROM spans WHERE user_id = $1", user_id)
        return int(status.split()[-1])
