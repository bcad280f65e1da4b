"""In-process TaskLedger: pending and claimed batch keys in dicts."""

from __future__ import annotations

from datetime import datetime

from jyntrix_domain.model import PendingBatch, UserId


class InMemoryTaskLedger:
    """TaskLedger in dicts keyed by (user id, key); an InMemoryConversationStore records pending batches in it."""

    def __init__(self) -> None:
        self._pending: dict[tuple[UserId, str], PendingBatch] = {}
        self._claimed: set[tuple[UserId, str]] = set()

    async def mark_pending(self, batch: PendingBatch) -> bool:
        return self.record_pending(batch)

    def record_pending(self, batch: PendingBatch) -> bool:
        """mark_pending without awaiting, for the conversation store's writes that must not interleave."""
        key = (batch.user_id, batch.key)
        if key in self._pending or key in self._claimed:
            return False
        self._pending[key] = batch
        return True

    async def claim(self, user_id: UserId, key: str) -> bool:
        self._pending.pop((user_id, key), None)
        if (user_id, key) in self._claimed:
            return False
        self._claimed.add((user_id, key))
        return True

    async def claimed(self, user_id: UserId, key: str) -> bool:
        return (user_id, key) in self._claimed

    async def unfinished(self, older_than: datetime, limit: int = 100) -> list[PendingBatch]:
        found = sorted(
            (b for b in self._pending.values() if b.pending_since < older_than),
            key=lambda b: (b.pending_since, b.user_id, b.key),
        )
        return found[: max(limit, 0)]

    async def pending_count(self, user_id: UserId, conversation_id: str) -> int:
        return sum(1 for (u, _), b in self._pending.items() if u == user_id and b.conversation_id == conversation_id)

    def drop_conversation(self, user_id: UserId, conversation_id: str) -> None:
        """Forget the pending batches of a deleted conversation: nobody can extract them any more."""
        for key in [k for k, b in self._pending.items() if k[0] == user_id and b.conversation_id == conversation_id]:
            del self._pending[key]

    async def forget_user(self, user_id: UserId) -> None:
        self._pending = {k: b for k, b in self._pending.items() if k[0] != user_id}
        self._claimed = {k for k in self._claimed if k[0] != user_id}
