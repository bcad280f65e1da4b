"""ConversationStore on Postgres: conversations and their messages (pending batches go to the task ledger)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from jyntrix_adapters.postgres.pool import OnDatabase
from jyntrix_adapters.postgres.rows import from_row
from jyntrix_adapters.postgres.task_ledger import MARK_PENDING, pending_args
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import Conversation, Message, PendingBatch, UserId

_CONV = "id, user_id, title, metadata, created_at, updated_at"
_MSG = "id, conversation_id, user_id, role, content, metadata, created_at, name"


class PostgresConversationStore(OnDatabase):
    """ConversationStore backed by `conversations` and `messages`; `add_messages` also writes `processed_keys`."""

    async def create(self, conversation: Conversation) -> Conversation:
        """Insert; creating an id that exists returns the stored conversation unchanged."""
        c = conversation
        async with self._db.user_tx(c.user_id) as conn:
            await conn.execute(
                f"INSERT INTO conversations ({_CONV}) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                c.id,
                c.user_id,
                c.title,
                c.metadata,
                c.created_at,
                c.updated_at,
            )
            row = await conn.fetchrow(
                f"SELECT {_CONV} FROM conversations WHERE user_id = $1 AND id = $2", c.user_id, c.id
            )
        return from_row(Conversation, row)

    async def get(self, user_id: UserId, conversation_id: str) -> Conversation | None:
        row = await self._db.user_fetchrow(
            user_id, f"SELECT {_CONV} FROM conversations WHERE user_id = $1 AND id = $2", user_id, conversation_id
        )
        return None if row is None else from_row(Conversation, row)

    async def list(self, user_id: UserId, limit: int = 50, offset: int = 0) -> list[Conversation]:
        rows = await self._db.user_fetch(
            user_id,
            f"SELECT {_CONV} FROM conversations WHERE user_id = $1"
            ' ORDER BY updated_at DESC, id COLLATE "C" DESC LIMIT $2 OFFSET $3',
            user_id,
            limit,
            offset,
        )
        return [from_row(Conversation, r) for r in rows]

    async def delete(self, user_id: UserId, conversation_id: str) -> bool:
        async with self._db.user_tx(user_id) as conn:
            status = await conn.execute(
                "DELETE FROM conversations WHERE user_id = $1 AND id = $2", user_id, conversation_id
            )
        return bool(status == "DELETE 1")

    async def add_message(self, message: Message) -> Message:
        """Append; a repeated id returns the stored message. Raises NotFound for an unknown conversation."""
        async with self._db.user_tx(message.user_id) as conn:
            return await self._add(conn, message)

    async def add_messages(
        self, messages: Sequence[Message], pending: PendingBatch | None = None
    ) -> builtins.list[Message]:
        owners = {(m.user_id, m.conversation_id) for m in messages}
        if pending is not None:
            owners.add((pending.user_id, pending.conversation_id))
        if len(owners) > 1:
            raise Invalid("add_messages takes messages of one conversation, and their pending batch")
        if not owners:
            return []
        [(user_id, _)] = owners
        async with self._db.user_tx(user_id) as conn:
            stored = [await self._add(conn, m) for m in messages]
            if pending is not None:
                await conn.execute(MARK_PENDING, *pending_args(pending))
        return stored

    async def _add(self, conn: asyncpg.Connection, m: Message) -> Message:
        # An unknown conversation fails the foreign key, which surfaces as NotFound.
        row = await conn.fetchrow(
            f"INSERT INTO messages ({_MSG}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            f" ON CONFLICT (user_id, id) DO NOTHING RETURNING {_MSG}",
            m.id,
            m.conversation_id,
            m.user_id,
            m.role.value,
            m.content,
            m.metadata,
            m.created_at,
            m.name,
        )
        if row is None:  # a duplicate delivery: change nothing
            row = await conn.fetchrow(f"SELECT {_MSG} FROM messages WHERE user_id = $1 AND id = $2", m.user_id, m.id)
        else:
            await conn.execute(
                "UPDATE conversations SET updated_at = GREATEST(updated_at, $3) WHERE user_id = $1 AND id = $2",
                m.user_id,
                m.conversation_id,
                m.created_at,
            )
        return from_row(Message, row)

    async def messages(
        self, user_id: UserId, conversation_id: str, limit: int = 100, before: datetime | None = None
    ) -> builtins.list[Message]:
        rows = await self._db.user_fetch(
            user_id,
            f"SELECT {_MSG} FROM messages WHERE user_id = $1 AND conversation_id = $2"
            " AND ($3::timestamptz IS NULL OR created_at < $3)"
            " ORDER BY created_at DESC, seq DESC LIMIT $4",
            user_id,
            conversation_id,
            before,
            limit,
        )
        return [from_row(Message, r) for r in reversed(rows)]

    async def messages_before(
        self, user_id: UserId, conversation_id: str, message_id: str, limit: int = 100
    ) -> builtins.list[Message]:
        async with self._db.user_tx(user_id) as conn:
            place = await conn.fetchrow(
                "SELECT created_at, seq FROM messages WHERE user_id = $1 AND conversation_id = $2 AND id = $3",
                user_id,
                conversation_id,
                message_id,
            )
            if place is None:
                raise Invalid(f"message {message_id} is not in conversation {conversation_id}")
            # A row comparison, which the (user_id, conversation_id, created_at, seq) index serves.
            rows = await conn.fetch(
                f"SELECT {_MSG} FROM messages WHERE user_id = $1 AND conversation_id = $2"
                " AND (created_at, seq) < ($3::timestamptz, $4::bigint)"
                " ORDER BY created_at DESC, seq DESC LIMIT $5",
                user_id,
                conversation_id,
                place["created_at"],
                place["seq"],
                limit,
            )
        return [from_row(Message, r) for r in reversed(rows)]

    async def get_messages(self, user_id: UserId, ids: Sequence[str]) -> builtins.list[Message]:
        """Oldest first."""
        if not ids:
            return []
        rows = await self._db.user_fetch(
            user_id,
            f"SELECT {_MSG} FROM messages WHERE user_id = $1 AND id = ANY($2::text[]) ORDER BY created_at, seq",
            user_id,
            list(ids),
        )
        return [from_row(Message, r) for r in rows]

    async def forget_user(self, user_id: UserId) -> int:
        """Remove the user's conversations and messages; return how many conversations."""
        async with self._db.user_tx(user_id) as conn:
            await conn.execute("DELETE FROM messages WHERE user_id = $1", user_id)
            status = await conn.execute("DELETE FROM conversations WHERE user_id = $1", user_id)
        return int(status.split()[-1])
