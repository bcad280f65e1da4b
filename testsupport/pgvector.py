"""Which Postgres servers at hand can hold a pgvector index.

The embedded PostgreSQL 18 always ships the `vector` extension; the server in DATABASE_URL (CI's loopback
PostgreSQL 15) may not, and then no pgvector case is generated for it at all, rather than one skipped.
"""

from __future__ import annotations

import os

import asyncpg

from testsupport.postgres import run_sync


async def _has_vector(dsn: str) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"))
    finally:
        await conn.close()


_URL = os.environ.get("DATABASE_URL")
_URL_HAS_VECTOR = bool(_URL) and run_sync(_has_vector(_URL or ""))

# `postgres_embedded`, and `postgres_url` when DATABASE_URL is set and its server has `vector`.
PGVECTOR_SERVERS = ["postgres_embedded", *(["postgres_url"] if _URL_HAS_VECTOR else [])]
# The server in DATABASE_URL when it has no `vector` (CI's PostgreSQL 15), where pgvector must be refused.
SERVERS_WITHOUT_VECTOR = ["postgres_url"] if _URL and not _URL_HAS_VECTOR else []
