"""TaskLedger on Postgres: the `processed_keys` table, pending rows and claimed rows.

A pending row is written in the transaction that stores its messages
(`PostgresConversationStore.add_messages` runs `MARK_PENDING` there). Finding unfinished
batches reads every user's rows, which the per-user RLS policy cannot allow: it runs as the
`jyntrix_maintenance` role, which may read this table and nothing else.
"""

from __future__ import annotations

from datetime import datetime

from jyntrix_adapters.postgres.pool import OnDatabase
from jyntrix_adapters.postgres.rows import from_row
from jyntrix_domain.model import PendingBatch, UserId

MARK_PENDING = """
INSERT INTO processed_keys (user_id, key, conversation_id, message_ids, pending_since, claimed_at)
VALUES ($1, $2, $3, $4, $5, NULL)
ON CONFLICT (user_id, key) DO NOTHING
"""


def pending_args(batch: PendingBatch) -> tuple[object, ...]:
    return (batch.user_id, batch.key, batch.conversation_id, list(batch.message_ids), batch.pending_since)


class PostgresTaskLedger(OnDatabase):
    """TaskLedger backed by `processed_keys` (claimed_at NULL while pending)."""

    async def mark_pending(self, batch: PendingBatch) -> bool:
        """Raises NotFound when the batch's conversation does not exist (the foreign key)."""
        async with self._db.user_tx(batch.user_id) as conn:
            status = await conn.execute(MARK_PENDING, *pending_args(batch))
        return bool(status == "INSERT 0 1")

    async def claim(self, user_id: UserId, key: str) -> bool:
        async with self._db.user_tx(user_id) as conn:
            # A pending row becomes claimed; a key never marked pending is claimed at once.
            status = await conn.execute(
                "INSERT INTO processed_keys (user_id, key, claimed_at) VALUES ($1, $2, now())"
                " ON CONFLICT (user_id, key) DO UPDATE SET claimed_at = now()"
                " WHERE processed_keys.claimed_at IS NULL",
                user_id,
                key,
            )
        return bool(status == "INSERT 0 1")

    async def claimed(self, user_id: UserId, key: str) -> bool:
        found = await self._db.user_fetchval(
            user_id,
            "SELECT EXISTS (SELECT 1 FROM processed_keys WHERE user_id = $1 AND key = $2 AND claimed_at IS NOT NULL)",
            user_id,
            key,
        )
        return bool(found)

    async def unfinished(self, older_than: datetime, limit: int = 100) -> list[PendingBatch]:
        async with self._db.maintenance_tx() as conn:
            rows = await conn.fetch(
                "SELECT user_id, key, conversation_id, message_ids, pending_since FROM processed_keys"
                " WHERE claimed_at IS NULL AND pending_since < $1"
                ' ORDER BY pending_since, user_id COLLATE "C", key COLLATE "C" LIMIT $2',
                older_than,
                max(limit, 0),
            )
        return [from_row(PendingBatch, r) for r in rows]

    async def pending_count(self, user_id: UserId, conversation_id: str) -> int:
        found = await self._db.user_fetchval(
            user_id,
            "SELECT count(*) FROM processed_keys WHERE user_id = $1 AND conversation_id = $2 AND claimed_at IS NULL",
            user_id,
            conversation_id,
        )
        return int(found or 0)

    async def forget_user(self, user_id: UserId) -> None:
        async with self._db.user_tx(user_id) as conn:
            await conn.execute("DELETE FROM processed_keys WHERE user_id = $1", user_id)
