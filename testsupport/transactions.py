"""Counting the Postgres transactions a piece of work runs, as the server sees them.

`counting_transactions()` hooks every asyncpg pool of the process for as long as it is entered: each
connection a pool hands out gets a query logger (asyncpg's own hook), which sees every statement the
connection sends. A transaction is a BEGIN with the statements up to its COMMIT or ROLLBACK; a statement
sent outside one is a transaction of its own (the server runs it in an implicit one). Nothing is faked: the
statements counted are the ones the server ran.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
from asyncpg.pool import PoolAcquireContext


class Transaction:
    """One transaction: the statements it ran, BEGIN and COMMIT (or ROLLBACK) included."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def committed(self) -> bool:
        return bool(self.statements) and self.statements[-1].strip().upper().startswith("COMMIT")

    def __repr__(self) -> str:
        shown = [" ".join(s.split())[:90] for s in self.statements]
        return "Transaction(" + " | ".join(shown) + ")"


class TransactionCounter:
    """The transactions that the watched connections finished, in the order they finished."""

    def __init__(self) -> None:
        self.finished: list[Transaction] = []
        self._open: dict[int, Transaction] = {}
        self._watched: set[int] = set()

    def watch(self, connection: Any) -> None:
        """Log `connection`'s statements from now on (once per server connection, however often it is
        handed out)."""
        pid = connection.get_server_pid()
        if pid in self._watched:
            return
        self._watched.add(pid)
        connection.add_query_logger(lambda record: self._seen(pid, record))

    def _seen(self, pid: int, record: Any) -> None:
        query = str(record.query)
        # Savepoints (ROLLBACK TO, RELEASE) are statements inside a transaction; only these end one.
        word = " ".join(query.upper().replace(";", " ").split())
        begins, ends = word.startswith("BEGIN"), word in ("COMMIT", "ROLLBACK", "END")
        current = self._open.get(pid)
        if begins or (current is None and not ends):
            current = self._open[pid] = Transaction()
        if current is None:
            return
        current.statements.append(query)
        if ends or (not begins and len(current.statements) == 1):
            self.finished.append(self._open.pop(pid))

    async def settled(self) -> int:
        """How many transactions have finished, once the loggers have seen every statement sent so far
        (asyncpg calls them on the event loop's next turn)."""
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return len(self.finished)

    def since(self, mark: int) -> list[Transaction]:
        """The transactions that finished after `mark` (a count `settled` returned)."""
        return self.finished[mark:]


@contextmanager
def counting_transactions() -> Iterator[TransactionCounter]:
    """A counter of the transactions every asyncpg pool's connections run while this is entered."""
    counter = TransactionCounter()
    enter = PoolAcquireContext.__aenter__

    async def watched_enter(self: PoolAcquireContext) -> asyncpg.Connection:
        connection = await enter(self)
        counter.watch(connection)
        return connection

    PoolAcquireContext.__aenter__ = watched_enter
    try:
        yield counter
    finally:
        PoolAcquireContext.__aenter__ = enter
