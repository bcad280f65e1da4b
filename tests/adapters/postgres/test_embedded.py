"""The embedded server: starts from nothing, migrates, keeps its data across a restart, stops cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from jyntrix_adapters.postgres.stores import open_postgres
from jyntrix_domain.model import Profile, new_id
from testsupport.postgres import server_parent_dir


@pytest.fixture
def parent() -> Iterator[Path]:
    with server_parent_dir() as path:
        yield path


async def test_embedded_postgres_starts_migrates_and_persists_across_restart(parent: Path) -> None:
    data, user = parent / "pg", new_id()
    profile = Profile(user_id=user, updated_at=datetime(2024, 5, 1, tzinfo=UTC), display_name="kept")

    stores = await open_postgres(None, data_dir=data)
    try:
        assert stores.embedded is not None
        dsn = stores.embedded.dsn
        assert "host=" in dsn  # a unix socket, no TCP port
        conn = await asyncpg.connect(dsn)
        try:
            assert (await conn.fetchval("SHOW server_version")).startswith("18")
            assert await conn.fetchval("SHOW listen_addresses") == ""
            assert await conn.fetchval("SELECT count(*) FROM schema_migrations") >= 1
        finally:
            await conn.close()
        await stores.profiles.put(profile)
    finally:
        await stores.close()
    assert not (data / "postmaster.pid").exists()

    stores = await open_postgres(None, data_dir=data)
    try:
        await stores.ping()
        assert await stores.profiles.get(user) == profile
    finally:
        await stores.close()
    assert not (data / "postmaster.pid").exists()
