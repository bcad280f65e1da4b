"""One user-scoped transaction that the store calls of a block share (the Transactions port on Postgres).

Each transaction costs BEGIN, the scope's `set_config` and COMMIT (a WAL flush when it wrote), whatever it
runs. Within `Database.shared(user_id)`, the user-scoped transactions that the block's store calls open
(from the block's task and the tasks it starts, which inherit the context) are savepoints of one
transaction instead:

- each call stays as atomic as it was: an error inside it rolls back to its savepoint, and the others go on;
- the calls take the one connection in turn (a lock), so concurrent retrieval strategies may share it;
- the connection is taken at the first call, and the transaction commits when the block ends, or rolls
  back when the block raises: the block's writes are kept together or not at all;
- a call for another user, another role, or after the block ended (a task it started that outlives it)
  runs in a transaction of its own, as outside any block. So does a call once the shared connection
  failed: a read is not lost for a broken neighbour; the block itself then raises at its end.

What a savepoint does not undo when released: a transaction-local setting (`set_config(..., true)`) lasts
to the shared transaction's end, so a call that changes one for its own statements sets it back; and a
row a savepoint inserted carries the subtransaction's xid, not `pg_current_xact_id()` (memory_store).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, AsyncExitStack, asynccontextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

import asyncpg

from jyntrix_domain.errors import Unavailable

if TYPE_CHECKING:
    from jyntrix_adapters.postgres.pool import Database

log = logging.getLogger("jyntrix.postgres")


class SharedTransaction:
    """The transaction of one `Database.shared` block: its connection, taken at the first call."""

    def __init__(
        self,
        db: Database,
        user_id: str,
        scope: str,
        args: tuple[str, ...],
        translate: Callable[[], AbstractContextManager[None]],
    ) -> None:
        self.db = db
        self._translate = translate
        self.user_id = user_id
        self._scope = scope
        self._args = args
        self._lock = asyncio.Lock()
        self._holder: asyncio.Task[object] | None = None
        self._stack = AsyncExitStack()
        self._conn: asyncpg.Connection | None = None
        self._broken: BaseException | None = None
        self.closed = False

    def serves(self, db: Database, scope: str, args: tuple[str, ...]) -> bool:
        """Whether a transaction of `db` with this scope joins this one (module docstring)."""
        return db is self.db and not self.closed and self._broken is None and (scope, args) == (self._scope, self._args)

    @asynccontextmanager
    async def call(self) -> AsyncIterator[asyncpg.Connection]:
        """The shared connection for one store call, inside a savepoint of its own."""
        mine = asyncio.current_task()
        if self._holder is mine:  # a call made inside another call of this task: it holds the connection
            assert self._conn is not None
            async with self._conn.transaction():
                yield self._conn
            return
        async with self._lock:
            self._holder = mine
            try:
                conn = await self._open()
                async with self._failing():
                    savepoint = conn.transaction()
                    await savepoint.start()
                try:
                    yield conn
                except BaseException:
                    # The call's own failure (a refused statement, a cancelled one): its savepoint takes
                    # back what it did, and the transaction goes on.
                    async with self._failing():
                        await savepoint.rollback()
                    raise
                async with self._failing():
                    await savepoint.commit()
            finally:
                self._holder = None

    @asynccontextmanager
    async def _failing(self) -> AsyncIterator[None]:
        """Statements of the transaction itself: when one fails, the connection is in doubt."""
        try:
            yield
        except BaseException as exc:
            self._broken = self._broken or exc
            raise

    async def _open(self) -> asyncpg.Connection:
        """The shared connection, its transaction begun at the first call. A first call that fails before the
        transaction is open (cancelled while it waits for a connection, say) leaves nothing behind: the next
        call begins it again."""
        if self._conn is None:
            try:
                conn = await self._stack.enter_async_context(self.db.pool.acquire())
                await self._stack.enter_async_context(conn.transaction())
                await conn.execute(self._scope, *self._args)
            except BaseException as exc:
                stack, self._stack = self._stack, AsyncExitStack()
                try:
                    await stack.__aexit__(type(exc), exc, exc.__traceback__)
                except Exception as cleanup:  # the connection's own failure: the pool discards it
                    log.warning("giving back a connection that failed to begin a transaction failed: %s", cleanup)
                raise
            self._conn = conn
        return self._conn

    async def end(self, failed: BaseException | None) -> None:
        """Commit (or, when the block failed or the connection did, roll back) and give the connection back.

        Raises Unavailable when the block did not fail but the connection did: what the block wrote in the
        transaction may be lost, so the block must not pass for done."""
        async with self._lock:
            self.closed = True
            outcome = failed or self._broken
            if outcome is None:
                with self._translate():
                    await self._stack.aclose()
            else:
                try:
                    await self._stack.__aexit__(type(outcome), outcome, outcome.__traceback__)
                except Exception as exc:  # the rollback of a failed connection: the failure said it all
                    log.warning("rolling back a shared transaction failed: %s", exc)
        if failed is None and self._broken is not None:
            raise Unavailable("the database connection failed during the transaction") from self._broken


_CURRENT: ContextVar[SharedTransaction | None] = ContextVar("jyntrix_postgres_shared_transaction", default=None)


def joined(db: Database, scope: str, args: tuple[str, ...]) -> SharedTransaction | None:
    """The shared transaction a transaction of `db` with this scope joins, if any."""
    shared = _CURRENT.get()
    return shared if shared is not None and shared.serves(db, scope, args) else None


@asynccontextmanager
async def sharing(shared: SharedTransaction) -> AsyncIterator[None]:
    """Run the block with `shared` as the transaction its calls join; a block inside another of the same
    database joins the outer one."""
    outer = _CURRENT.get()
    if outer is not None and outer.db is shared.db and not outer.closed:
        yield
        return
    token = _CURRENT.set(shared)
    failed: BaseException | None = None
    try:
        yield
    except BaseException as exc:
        failed = exc
        raise
    finally:
        _CURRENT.reset(token)
        await shared.end(failed)
