"""One call that gives the wiring every Postgres-backed port, migrated and ready."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jyntrix_adapters.postgres.analytics_sink import PostgresAnalyticsSink
from jyntrix_adapters.postgres.conversation_store import PostgresConversationStore
from jyntrix_adapters.postgres.embedded import DEFAULT_DATA_DIR, EmbeddedPostgres
from jyntrix_adapters.postgres.entity_graph import PostgresEntityGraph
from jyntrix_adapters.postgres.memory_store import PostgresMemoryStore
from jyntrix_adapters.postgres.migrations import migrate
from jyntrix_adapters.postgres.pool import Database
from jyntrix_adapters.postgres.profile_store import PostgresProfileStore
from jyntrix_adapters.postgres.task_ledger import PostgresTaskLedger
from jyntrix_adapters.postgres.transactions import PostgresTransactions


@dataclass
class PostgresStores:
    """The pool, the six adapters that share it, and the transactions their calls may share."""

    db: Database
    memories: PostgresMemoryStore
    conversations: PostgresConversationStore
    profiles: PostgresProfileStore
    graph: PostgresEntityGraph
    analytics: PostgresAnalyticsSink
    ledger: PostgresTaskLedger
    transactions: PostgresTransactions
    embedded: EmbeddedPostgres | None = None

    async def ping(self) -> None:
        """Raise Unavailable when the server does not answer."""
        await self.db.ping()

    async def close(self) -> None:
        """Close the pool, then stop the embedded server if this opened one."""
        await self.db.close()
        if self.embedded is not None:
            await self.embedded.stop()


async def open_postgres(
    dsn: str | None,
    *,
    data_dir: Path | str = DEFAULT_DATA_DIR,
    run_migrations: bool = True,
    min_size: int = 1,
    max_size: int = 10,
) -> PostgresStores:
    """Connect to `dsn`, or with no DSN start embedded Postgres under `data_dir`; migrate; build the adapters."""
    embedded = None
    if dsn is None:
        embedded = EmbeddedPostgres(data_dir)
        dsn = await embedded.start()
    try:
        if run_migrations:
            await migrate(dsn)
        db = await Database.connect(dsn, min_size=min_size, max_size=max_size)
    except BaseException:
        if embedded is not None:
            await embedded.stop()
        raise
    return PostgresStores(
        db=db,
        memories=PostgresMemoryStore(db),
        conversations=PostgresConversationStore(db),
        profiles=PostgresProfileStore(db),
        graph=PostgresEntityGraph(db),
        analytics=PostgresAnalyticsSink(db),
        ledger=PostgresTaskLedger(db),
        transactions=PostgresTransactions(db),
        embedded=embedded,
    )
