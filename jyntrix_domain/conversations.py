"""Conversations as the API shows them: listing, reading and deleting a user's own."""

from __future__ import annotations

import builtins
from datetime import datetime

from jyntrix_domain.errors import NotFound
from jyntrix_domain.model import Conversation, Message, UserId
from jyntrix_domain.ports import ConversationStore


class ConversationService:
    """A user's conversations and their messages; an unknown (or another user's) conversation is NotFound."""

    def __init__(self, conversations: ConversationStore) -> None:
        self._conversations = conversations

    async def list(self, user_id: UserId, *, limit: int = 50, offset: int = 0) -> list[Conversation]:
        """Most recently active first."""
        return await self._conversations.list(user_id, limit=limit, offset=offset)

    async def get(self, user_id: UserId, conversation_id: str) -> Conversation:
        found = await self._conversations.get(user_id, conversation_id)
        if found is None:
            raise NotFound(f"conversation {conversation_id} not found")
        return found

    async def messages(
        self, user_id: UserId, conversation_id: str, *, limit: int = 100, before: datetime | None = None
    ) -> builtins.list[Message]:
        """The latest `limit` messages (before `before`, when given), oldest first."""
        await self.get(user_id, conversation_id)
        return await self._conversations.messages(user_id, conversation_id, limit=limit, before=before)

    async def with_messages(
        self, user_id: UserId, conversation_id: str, *, limit: int = 100
    ) -> tuple[Conversation, builtins.list[Message]]:
        """The conversation and its latest `limit` messages."""
        conversation = await self.get(user_id, conversation_id)
        return conversation, await self._conversations.messages(user_id, conversation_id, limit=limit)

    async def delete(self, user_id: UserId, conversation_id: str) -> None:
        if not await self._conversations.delete(user_id, conversation_id):
            raise NotFound(f"conversation {conversation_id} not found")
