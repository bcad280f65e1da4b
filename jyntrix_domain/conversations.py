"""Conversations as the API shows them: listing, reading and deleting a user's own."""

from __future__ import annotations

import builtins
from datetime import datetime

from jyntrix_domain.errors import Invalid, NotFound
from jyntrix_domain.memories import MemoryService
from jyntrix_domain.model import Conversation, Message, Role, UserId
from jyntrix_domain.ports import ConversationStore
from jyntrix_domain.turns import forget_turns

_PAGE = 500


class ConversationService:
    """A user's conversations and their messages; an unknown (or another user's) conversation is NotFound."""

    def __init__(self, conversations: ConversationStore, memories: MemoryService | None = None) -> None:
        self._conversations = conversations
        self._memories = memories

    async def list(self, user_id: UserId, *, limit: int = 50, offset: int = 0) -> list[Conversation]:
        """Most recently active first."""
        return await self._conversations.list(user_id, limit=limit, offset=offset)

    async def get(self, user_id: UserId, conversation_id: str) -> Conversation:
        found = await self._conversations.get(user_id, conversation_id)
        if found is None:
            raise NotFound(f"conversation {conversation_id} not found")
        return found

    async def messages(
        self,
        user_id: UserId,
        conversation_id: str,
        *,
        limit: int = 100,
        before: datetime | None = None,
        before_id: str | None = None,
    ) -> builtins.list[Message]:
        """The latest `limit` messages, oldest first: older than `before`, or before the message `before_id`
        (the cursor that pages back through every message, ConversationStore.messages_before), not both."""
        await self.get(user_id, conversation_id)
        if before_id is None:
            return await self._conversations.messages(user_id, conversation_id, limit=limit, before=before)
        if before is not None:
            raise Invalid("page by before or by before_id, not both")
        return await self._conversations.messages_before(user_id, conversation_id, before_id, limit=limit)

    async def with_messages(
        self, user_id: UserId, conversation_id: str, *, limit: int = 100
    ) -> tuple[Conversation, builtins.list[Message]]:
        """The conversation and its latest `limit` messages."""
        conversation = await self.get(user_id, conversation_id)
        return conversation, await self._conversations.messages(user_id, conversation_id, limit=limit)

    async def message(self, user_id: UserId, message_id: str) -> Message:
        """One of the user's messages, by id (its conversation_id leads to the conversation)."""
        found = await self._conversations.get_messages(user_id, [message_id])
        if not found:
            raise NotFound(f"message {message_id} not found")
        return found[0]

    async def delete(self, user_id: UserId, conversation_id: str) -> None:
        """Delete the conversation, its messages and their turn memories.

        Facts extracted from its messages stay: they are what the user told, kept as knowledge, and
        their `source_message_ids` then name messages that no longer resolve.
        """
        said = await self._said_message_ids(user_id, conversation_id)
        if not await self._conversations.delete(user_id, conversation_id):
            raise NotFound(f"conversation {conversation_id} not found")
        if self._memories is not None and said:
            await forget_turns(self._memories, user_id, said)

    async def _said_message_ids(self, user_id: UserId, conversation_id: str) -> builtins.list[str]:
        ids: builtins.list[str] = []
        page = await self._conversations.messages(user_id, conversation_id, limit=_PAGE)
        while True:
            ids.extend(m.id for m in page if m.role is not Role.SYSTEM)
            if len(page) < _PAGE:
                return ids
            page = await self._conversations.messages_before(user_id, conversation_id, page[0].id, limit=_PAGE)
