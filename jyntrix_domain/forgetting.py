"""Forgetting a user: the one use case that removes everything Jyntrix holds about them."""

from __future__ import annotations

import msgspec

from jyntrix_domain.analytics import BufferedEmitter
from jyntrix_domain.model import UserId
from jyntrix_domain.ports import (
    AnalyticsSink,
    Clock,
    ConversationStore,
    EntityGraph,
    KeywordIndex,
    MemoryStore,
    ProfileStore,
    TaskLedger,
    VectorIndex,
)


class ForgetResult(msgspec.Struct, frozen=True, kw_only=True):
    memories: int
    conversations: int


class ForgetService:
    """Removes a user's memories and their history, indexes, graph, conversations, task ledger, profile and spans.

    Every port forgets with the same call, `forget_user(user_id)`. The derived data (indexes, graph)
    goes first and the memory store, their source of truth, after it, so a failure half-way can be
    retried and still finds what is left to forget.
    """

    def __init__(
        self,
        *,
        memories: MemoryStore,
        vectors: VectorIndex,
        keywords: KeywordIndex,
        graph: EntityGraph,
        conversations: ConversationStore,
        ledger: TaskLedger,
        profiles: ProfileStore,
        analytics: AnalyticsSink,
        emitter: BufferedEmitter | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._memories = memories
        self._vectors = vectors
        self._keywords = keywords
        self._graph = graph
        self._conversations = conversations
        self._ledger = ledger
        self._profiles = profiles
        self._analytics = analytics
        self._emitter = emitter
        self._clock = clock

    async def forget_user(self, user_id: UserId) -> ForgetResult:
        """Forget everything; spans of a turn still in flight are dropped when they end (give `emitter` and `clock`)."""
        if self._emitter is not None and self._clock is not None:
            await self._emitter.forget(user_id, self._clock.now())
        await self._vectors.forget_user(user_id)
        await self._keywords.forget_user(user_id)
        await self._graph.forget_user(user_id)
        memories = await self._memories.forget_user(user_id)
        conversations = await self._conversations.forget_user(user_id)
        await self._ledger.forget_user(user_id)
        await self._profiles.forget_user(user_id)
        await self._analytics.forget_user(user_id)
        return ForgetResult(memories=memories, conversations=conversations)
