"""Forgetting a user: the one use case that removes everything Jyntrix holds about them."""

from __future__ import annotations

import msgspec

from jyntrix_domain.analytics import BufferedEmitter
from jyntrix_domain.locks import UserGate
from jyntrix_domain.model import UserId
from jyntrix_domain.ports import (
    AnalyticsSink,
    ConversationPorts,
    MemoryPorts,
    ProfileStore,
)


class ForgetResult(msgspec.Struct, frozen=True, kw_only=True):
    memories: int
    conversations: int


class ForgetService:
    """Removes a user's memories and their history, indexes, graph, conversations, task ledger, profile and spans.

    It holds `gate` (shared with ChatService and TranscriptService) alone while it runs, so it never lands
    inside a turn's setup or an import in this process: those create a conversation, which a deletion that
    began before them would miss. Every port forgets with the same call, `forget_user(user_id)`. The
    conversations go first: a turn, import or extraction still in flight then finds its conversation gone
    when it next writes or checks, and removes what it wrote after this point (everything it wrote before
    is removed here; jyntrix_domain.in_flight). The derived data (indexes, graph) goes next and the memory
    store, their source of truth, after it, so a failure half-way can be retried and still finds what is
    left to forget.
    """

    def __init__(
        self,
        memory: MemoryPorts,
        conversations: ConversationPorts,
        *,
        profiles: ProfileStore,
        analytics: AnalyticsSink,
        emitter: BufferedEmitter | None = None,
        gate: UserGate | None = None,
    ) -> None:
        self._memory = memory
        self._others = (conversations.conversations, conversations.ledger, profiles, analytics)
        self._emitter = emitter
        self._gate = gate if gate is not None else UserGate()

    async def forget_user(self, user_id: UserId) -> ForgetResult:
        """Forget everything; spans of a turn still in flight are dropped when they end (give `emitter`)."""
        async with self._gate.exclusive(user_id):
            return await self._forget(user_id)

    async def _forget(self, user_id: UserId) -> ForgetResult:
        if self._emitter is not None:
            await self._emitter.forget(user_id, self._memory.clock.now())
        conversations, ledger, profiles, analytics = self._others
        forgotten = await conversations.forget_user(user_id)
        await ledger.forget_user(user_id)
        await self._memory.vectors.forget_user(user_id)
        await self._memory.keywords.forget_user(user_id)
        await self._memory.graph.forget_user(user_id)
        memories = await self._memory.store.forget_user(user_id)
        await profiles.forget_user(user_id)
        await analytics.forget_user(user_id)
        return ForgetResult(memories=memories, conversations=forgotten)
