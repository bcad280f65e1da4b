"""In-process AnalyticsSink: spans in a dict, queried like the Postgres sink."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from jyntrix_adapters.inprocess.memory_store import json_copy
from jyntrix_domain.model import Span, UserId


class InMemoryAnalyticsSink:
    """AnalyticsSink keeping spans by id; spans of every user, queried across users."""

    def __init__(self) -> None:
        self._spans: dict[str, Span] = {}

    async def write(self, spans: Sequence[Span]) -> None:
        """Idempotent by span id, so a retried flush does not double-count."""
        for s in spans:
            if s.id not in self._spans:
                self._spans[s.id] = msgspec.structs.replace(s, attributes=json_copy(s.attributes))

    async def query(
        self, since: datetime, until: datetime, user_id: UserId | None = None, kind: str | None = None
    ) -> list[Span]:
        """Spans with since <= started_at < until, oldest first; every user's when `user_id` is None."""
        found = [
            s
            for s in self._spans.values()
            if since <= s.started_at < until
            and (user_id is None or s.user_id == user_id)
            and (kind is None or s.kind.value == kind)
        ]
        found.sort(key=lambda s: (s.started_at, s.id))
        return found

    async def purge(self, before: datetime) -> int:
        doomed = [i for i, s in self._spans.items() if s.started_at < before]
        for i in doomed:
            del self._spans[i]
        return len(doomed)

    async def forget_user(self, user_id: UserId) -> int:
        """Delete the user's spans, for a user's delete-all (an addition to the port)."""
        doomed = [i for i, s in self._spans.items() if s.user_id == user_id]
        for i in doomed:
            del self._spans[i]
        return len(doomed)
