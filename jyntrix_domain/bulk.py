"""BulkLimiter: bounds a user's concurrent bulk work (imports, rebuilds), and everyone's together.

Bulk work embeds and indexes many memories at once; without a bound one user's batches queue
ahead of everyone's searches on the same embedder, database and indexes. A slot is taken without
waiting: when the user's are all in use the caller gets RateLimited (429 with Retry-After), when
the whole server's are, Unavailable (503 with Retry-After), and can come back later.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from jyntrix_domain.errors import Invalid, RateLimited, Unavailable
from jyntrix_domain.model import UserId

BULK_RETRY_AFTER_S = 5.0


class BulkLimiter:
    """At most `per_user` bulk jobs of one user and `total` of all users run at once (in this process)."""

    def __init__(self, *, per_user: int = 1, total: int = 4) -> None:
        if per_user < 1 or total < per_user:
            raise Invalid("per_user >= 1 and total >= per_user are required")
        self._per_user = per_user
        self._total = total
        self._running: dict[UserId, int] = {}

    @property
    def running(self) -> int:
        return sum(self._running.values())

    @asynccontextmanager
    async def slot(self, user_id: UserId) -> AsyncIterator[None]:
        mine = self._running.get(user_id, 0)
        if mine >= self._per_user:
            raise RateLimited(
                f"{mine} bulk job(s) of yours are running; try again when they are done",
                BULK_RETRY_AFTER_S,
                limit=self._per_user,
            )
        if self.running >= self._total:
            raise Unavailable("the server is busy with other bulk work; try again shortly")
        self._running[user_id] = mine + 1
        try:
            yield
        finally:
            left = self._running[user_id] - 1
            if left:
                self._running[user_id] = left
            else:
                del self._running[user_id]
