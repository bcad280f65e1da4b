"""Transactions on Postgres: a block's store calls as savepoints of one transaction (shared_transaction)."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager

from jyntrix_adapters.postgres.pool import OnDatabase
from jyntrix_domain.model import UserId


class PostgresTransactions(OnDatabase):
    """Transactions over the pool the stores share: every store and index on it joins a block's transaction."""

    def shared(self, user_id: UserId) -> AbstractAsyncContextManager[None]:
        return self._db.shared(user_id)
