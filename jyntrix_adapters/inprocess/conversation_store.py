"""In-process ConversationStore: conversations and messages in dicts, pending batches in its TaskLedger."""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Callable, Sequence
from datetime import datetime

import msgspec

from jyntrix_adapters.inprocess.memory_store import check_text, json_copy
from jyntrix_adapters.inprocess.task_ledger import InMemoryTaskLedger
from jyntrix_adapters.inprocess.user_rows import forget_rows
from jyntrix_domain.errors import Invalid, NotFound
from jyntrix_domain.model import Conversation, Message, PendingBatch, UserId


class InMemoryConversationStore:
    """ConversationStore in dicts keyed by user id, with the same ordering rules as Postgres.

    `ledger` is the TaskLedger its `add_messages` records pending batches in (a new one by default).
    """

    def __init__(self, ledger: InMemoryTaskLedger | None = None) -> None:
        self.ledger = ledger or InMemoryTaskLedger()
        self._conversations: dict[tuple[UserId, str], Conversation] = {}
        # message key -> (insertion number, message); the number breaks created_at ties.
        self._messages: dict[tuple[UserId, str], tuple[int, Message]] = {}
        self._seq = itertools.count()

    async def create(self, conversation: Conversation) -> Conversation:
        """Insert; creating an id that exists returns the stored conversation unchanged."""
        key = (conversation.user_id, conversation.id)
        if key not in self._conversations:
            check_text(conversation.title or "")
            self._conversations[key] = msgspec.structs.replace(conversation, metadata=json_copy(conversation.metadata))
        return self._conversations[key]

    async def get(self, user_id: UserId, conversation_id: str) -> Conversation | None:
        return self._conversations.get((user_id, conversation_id))

    async def list(self, user_id: UserId, limit: int = 50, offset: int = 0) -> list[Conversation]:
        mine = [c for (u, _), c in self._conversations.items() if u == user_id]
        mine.sort(key=lambda c: (c.updated_at, c.id), reverse=True)
        return mine[offset : offset + limit]

    async def delete(self, user_id: UserId, conversation_id: str) -> bool:
        if self._conversations.pop((user_id, conversation_id), None) is None:
            return False
        for key in [
            k for k, (_, m) in self._messages.items() if k[0] == user_id and m.conversation_id == conversation_id
        ]:
            del self._messages[key]
        self.ledger.drop_conversation(user_id, conversation_id)
        return True

    async def add_message(self, message: Message) -> Message:
        """Append; a repeated id returns the stored message. Raises NotFound for an unknown conversation."""
        return self._add(message)

    async def add_messages(
        self, messages: Sequence[Message], pending: PendingBatch | None = None
    ) -> builtins.list[Message]:
        """All or nothing, like one transaction: every message is checked before any is stored."""
        if len({(m.user_id, m.conversation_id) for m in messages}) > 1:
            raise Invalid("add_messages takes messages of one conversation")
        if (
            pending is not None
            and messages
            and (pending.user_id, pending.conversation_id)
            != (
                messages[0].user_id,
                messages[0].conversation_id,
            )
        ):
            raise Invalid("a pending batch belongs to the conversation of its messages")
        for m in messages:
            if (m.user_id, m.id) not in self._messages:
                if (m.user_id, m.conversation_id) not in self._conversations:
                    raise NotFound(f"conversation {m.conversation_id} not found")
                check_text(m.content)
        if pending is not None and (pending.user_id, pending.conversation_id) not in self._conversations:
            raise NotFound(f"conversation {pending.conversation_id} not found")
        stored = [self._add(m) for m in messages]
        if pending is not None:
            self.ledger.record_pending(pending)
        return stored

    def _add(self, message: Message) -> Message:
        key = (message.user_id, message.id)
        if key in self._messages:
            return self._messages[key][1]
        conv_key = (message.user_id, message.conversation_id)
        conversation = self._conversations.get(conv_key)
        if conversation is None:
            raise NotFound(f"conversation {message.conversation_id} not found")
        check_text(message.content)
        stored = msgspec.structs.replace(message, metadata=json_copy(message.metadata))
        self._messages[key] = (next(self._seq), stored)
        if message.created_at > conversation.updated_at:
            self._conversations[conv_key] = msgspec.structs.replace(conversation, updated_at=message.created_at)
        return stored

    def _placed(self, user_id: UserId, keep: Callable[[Message], bool]) -> builtins.list[tuple[datetime, int, Message]]:
        """(time, insertion number, message) of the user's messages that `keep` keeps, in that order."""
        rows = [(m.created_at, seq, m) for (u, _), (seq, m) in self._messages.items() if u == user_id and keep(m)]
        rows.sort(key=lambda r: (r[0], r[1]))
        return rows

    def _ordered(self, user_id: UserId, keep: Callable[[Message], bool]) -> builtins.list[Message]:
        return [m for _, _, m in self._placed(user_id, keep)]

    def _place(self, user_id: UserId, conversation_id: str, message_id: str) -> tuple[datetime, int]:
        """Where a message of the conversation stands in its order: (time, insertion number)."""
        seq, m = self._messages.get((user_id, message_id), (0, None))
        if m is None or m.conversation_id != conversation_id:
            raise Invalid(f"message {message_id} is not in conversation {conversation_id}")
        return m.created_at, seq

    async def messages(
        self, user_id: UserId, conversation_id: str, limit: int = 100, before: datetime | None = None
    ) -> builtins.list[Message]:
        found = self._ordered(
            user_id,
            lambda m: m.conversation_id == conversation_id and (before is None or m.created_at < before),
        )
        return found[-limit:] if limit > 0 else []

    async def messages_before(
        self, user_id: UserId, conversation_id: str, message_id: str, limit: int = 100
    ) -> builtins.list[Message]:
        cursor = self._place(user_id, conversation_id, message_id)
        mine = self._placed(user_id, lambda m: m.conversation_id == conversation_id)
        found = [m for at, seq, m in mine if (at, seq) < cursor]
        return found[-limit:] if limit > 0 else []

    async def get_messages(self, user_id: UserId, ids: Sequence[str]) -> builtins.list[Message]:
        """Oldest first."""
        wanted = set(ids)
        return self._ordered(user_id, lambda m: m.id in wanted)

    async def forget_user(self, user_id: UserId) -> int:
        """Remove the user's conversations and messages; return how many conversations."""
        forget_rows(self._messages, user_id)
        return forget_rows(self._conversations, user_id)
