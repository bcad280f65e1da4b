"""Versioned SQL migrations (NNNN_name.sql in this package), applied once each at start-up.

Each file runs in its own transaction together with its row in `schema_migrations`, so a
failed migration leaves nothing half-applied. A session-level advisory lock serialises
concurrent starters: the second one waits, then finds everything applied and does nothing.
"""

from __future__ import annotations

import hashlib
import re
from importlib import resources

import asyncpg
import msgspec

from jyntrix_adapters.postgres.pool import translate_errors
from jyntrix_domain.errors import Invalid

# Arbitrary but fixed: the advisory lock id every Jyntrix process agrees on.
_LOCK_ID = 0x4A594E54  # "JYNT"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class Migration(msgspec.Struct, frozen=True):
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def load_migrations() -> list[Migration]:
    """The migrations shipped with the package, in version order."""
    found = []
    for entry in resources.files(__name__).iterdir():
        match = _FILE.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    return found


async def migrate(dsn: str, migrations: list[Migration] | None = None) -> list[int]:
    """Bring the database at `dsn` up to date; return the versions applied by this call.

    Raises Invalid when an applied migration's file has since changed: migrations are
    append-only, a change needs a new file.
    """
    todo = load_migrations() if migrations is None else migrations
    with translate_errors():
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_ID)
            try:
                return await _apply(conn, todo)
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_ID)
        finally:
            await conn.close()


async def _apply(conn: asyncpg.Connection, migrations: list[Migration]) -> list[int]:
    await conn.execute(_CREATE_TABLE)
    applied = {
        row["version"]: row["checksum"] for row in await conn.fetch("SELECT version, checksum FROM schema_migrations")
    }
    done = []
    for migration in migrations:
        if migration.version in applied:
            if applied[migration.version] != migration.checksum:
                raise Invalid(f"migration {migration.version:04d}_{migration.name} changed after it was applied")
            continue
        async with conn.transaction():
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
            )
        done.append(migration.version)
    return done
