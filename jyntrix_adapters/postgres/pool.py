"""Connection pool and the two kinds of transaction every Postgres adapter runs in.

Row-level security only binds roles that are not superusers and do not own the tables, so
every transaction switches to the NOLOGIN role `jyntrix_app` (created by the migrations)
with `SET LOCAL ROLE`. A user-scoped transaction also sets `app.user_id`, which the RLS
policies compare with each row's `user_id`: even a query that forgets its WHERE clause
sees only that user's rows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from typing import Any

import asyncpg
import msgspec

from jyntrix_adapters.postgres.shared_transaction import SharedTransaction, joined, sharing
from jyntrix_domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unavailable

log = logging.getLogger("jyntrix.postgres")

APP_ROLE = "jyntrix_app"
# Reads the task ledger of every user, and nothing else (migration 0002).
MAINTENANCE_ROLE = "jyntrix_maintenance"
# Reads which users have memories (their ids, no content) and nothing else (migration 0005).
DIRECTORY_ROLE = "jyntrix_directory"

# One round trip: both settings are transaction-local, so they vanish at COMMIT/ROLLBACK
# and a pooled connection never leaks one user's scope into the next transaction.
_SCOPE_USER = "SELECT set_config('role', $1, true), set_config('app.user_id', $2, true)"
_SCOPE_ADMIN = "SELECT set_config('role', $1, true)"

_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.TransactionRollbackError,  # serialization failures and deadlocks: retryable
)
_INVALID: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.DataError,  # bad encoding (NUL bytes), out-of-range values, ...
    asyncpg.exceptions.CheckViolationError,
    asyncpg.exceptions.NotNullViolationError,
)


# What a value the database refused was, by the driver's error; anything else is "a value it cannot store".
_REFUSED_VALUES: tuple[tuple[type[BaseException], str], ...] = (
    (asyncpg.exceptions.CharacterNotInRepertoireError, "text that is not valid Unicode"),
    (asyncpg.exceptions.UntranslatableCharacterError, "text that is not valid Unicode"),
    (asyncpg.exceptions.StringDataRightTruncationError, "a text longer than the database holds"),
    (asyncpg.exceptions.NumericValueOutOfRangeError, "a number out of range"),
    (asyncpg.exceptions.DatetimeFieldOverflowError, "a date out of range"),
)


@contextmanager
def translate_errors() -> Iterator[None]:
    """Re-raise driver errors as domain errors; domain errors pass through untouched.

    The domain errors say what happened in words of their own, since their text can reach an API answer: the
    driver's (table, constraint and column names, the value it choked on) goes to the log instead, and of a
    refused statement only the names, never the value, which is a user's data.
    """
    try:
        yield
    except DomainError:
        raise
    except asyncpg.exceptions.ForeignKeyViolationError as exc:
        _log_refusal(exc)
        raise NotFound("a record this refers to does not exist") from exc
    except asyncpg.exceptions.UniqueViolationError as exc:
        _log_refusal(exc)
        raise Conflict("a record with the same key already exists") from exc
    except asyncpg.exceptions.InsufficientPrivilegeError as exc:
        _log_refusal(exc)
        raise Forbidden("the database refused access to a record") from exc
    except _INVALID as exc:
        _log_refusal(exc)
        what = next((text for kind, text in _REFUSED_VALUES if isinstance(exc, kind)), None)
        if what is None and isinstance(exc.__cause__, UnicodeError):  # asyncpg could not even encode the argument
            what = "text that is not valid Unicode"
        raise Invalid(f"the database cannot store {what or 'a value of this request'}") from exc
    except _UNAVAILABLE as exc:
        log.warning("postgres unavailable: %s: %s", type(exc).__name__, exc)
        raise Unavailable("the database did not answer") from exc


def _log_refusal(exc: BaseException) -> None:
    log.info(
        "postgres refused a statement: %s (sqlstate %s, table %s, column %s, constraint %s)",
        type(exc).__name__,
        getattr(exc, "sqlstate", None),
        getattr(exc, "table_name", None),
        getattr(exc, "column_name", None),
        getattr(exc, "constraint_name", None),
    )


def encode_json(value: Any) -> bytes:
    # jsonb's binary wire format is a version byte followed by the JSON text.
    return b"\x01" + msgspec.json.encode(value)


def decode_json(data: bytes) -> Any:
    return msgspec.json.decode(data[1:])


class _Connection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection released without asyncpg's reset query.

    Every use of a connection is one transaction (the methods below), whose settings are transaction-local
    and whose advisory locks are transaction-scoped or unlocked explicitly, so there is no session state to
    reset; asyncpg still rolls back an open transaction on release. The reset query (`RESET ALL`,
    `UNLISTEN *`, ...) was one more round trip per transaction, several per chat turn.
    """

    def get_reset_query(self) -> str:
        return ""


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", schema="pg_catalog", encoder=encode_json, decoder=decode_json, format="binary")


class Database:
    """An asyncpg pool plus user-scoped and admin transactions."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @classmethod
    async def connect(
        cls, dsn: str, *, min_size: int = 1, max_size: int = 10, command_timeout: float = 30.0
    ) -> Database:
        with translate_errors():
            pool = await asyncpg.create_pool(
                dsn,
                min_size=min_size,
                max_size=max_size,
                command_timeout=command_timeout,
                init=_init_connection,
                connection_class=_Connection,
            )
        return cls(pool)

    def user_tx(self, user_id: str) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A transaction that sees and writes only `user_id`'s rows (enforced by RLS)."""
        if not user_id:
            raise Invalid("user_id must not be empty")
        return self._scoped(_SCOPE_USER, APP_ROLE, user_id)

    async def user_fetch(self, user_id: str, sql: str, *args: Any) -> list[asyncpg.Record]:
        """`sql`'s rows, read in a user-scoped transaction of its own."""
        async with self.user_tx(user_id) as conn:
            rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
        return rows

    async def user_fetchrow(self, user_id: str, sql: str, *args: Any) -> asyncpg.Record | None:
        """`sql`'s first row (None for none), read in a user-scoped transaction of its own."""
        async with self.user_tx(user_id) as conn:
            row: asyncpg.Record | None = await conn.fetchrow(sql, *args)
        return row

    async def user_fetchval(self, user_id: str, sql: str, *args: Any) -> Any:
        """`sql`'s first value, read in a user-scoped transaction of its own."""
        async with self.user_tx(user_id) as conn:
            return await conn.fetchval(sql, *args)

    async def user_statement(self, user_id: str, sql: str, *args: Any) -> list[asyncpg.Record]:
        """The rows of `sql`, one statement that scopes itself to `user_id`: sent alone, a transaction of its own
        in one round trip (a user-scoped transaction takes four: BEGIN, the scope, the statement, COMMIT),
        or a savepoint of the user's `shared` block. It runs as the login role, so it must touch no table itself:
        it calls a security-definer function with `set_config('app.user_id', <user_id>, true)` as an argument,
        a setting that lasts to the end of the statement's transaction, and the function reads no other user's
        rows than that setting names."""
        if not user_id:
            raise Invalid("user_id must not be empty")
        with translate_errors():
            shared = joined(self, _SCOPE_USER, (APP_ROLE, user_id))
            if shared is not None:
                async with shared.call() as conn:
                    rows: list[asyncpg.Record] = await conn.fetch(sql, *args)
                    return rows
            async with self.pool.acquire() as conn:
                rows = await conn.fetch(sql, *args)
                return rows

    def admin_tx(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A transaction as the application role with no user scope (tables without RLS only)."""
        return self._scoped(_SCOPE_ADMIN, APP_ROLE)

    def maintenance_tx(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A transaction as the maintenance role: every user's task ledger, read only, no other table."""
        return self._scoped(_SCOPE_ADMIN, MAINTENANCE_ROLE)

    def directory_tx(self) -> AbstractAsyncContextManager[asyncpg.Connection]:
        """A transaction as the directory role: the user id of every memory, read only, nothing else."""
        return self._scoped(_SCOPE_ADMIN, DIRECTORY_ROLE)

    def shared(self, user_id: str) -> AbstractAsyncContextManager[None]:
        """The block's user-scoped transactions of `user_id` as savepoints of one (jyntrix_adapters.postgres.
        shared_transaction): committed together when the block ends, rolled back when it raises."""
        if not user_id:
            raise Invalid("user_id must not be empty")
        return sharing(SharedTransaction(self, user_id, _SCOPE_USER, (APP_ROLE, user_id), translate_errors))

    def is_shared(self, user_id: str) -> bool:
        """Whether `user_id`'s transactions here are savepoints of a `shared` block's transaction."""
        return joined(self, _SCOPE_USER, (APP_ROLE, user_id)) is not None

    @asynccontextmanager
    async def _scoped(self, scope: str, *args: str) -> AsyncIterator[asyncpg.Connection]:
        """A transaction whose first statement sets its role and scope (`scope` with `args`); within a
        `shared` block of its scope, a savepoint of the block's transaction."""
        with translate_errors():
            shared = joined(self, scope, args)
            if shared is not None:
                async with shared.call() as conn:
                    yield conn
                return
            async with self.pool.acquire() as conn, conn.transaction():
                await conn.execute(scope, *args)
                yield conn

    async def ping(self) -> None:
        with translate_errors():
            async with self.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")

    async def close(self) -> None:
        await self.pool.close()


class OnDatabase:
    """The base of the adapters whose tables live in `db`; each call runs in one of its scoped transactions."""

    def __init__(self, db: Database) -> None:
        self._db = db
