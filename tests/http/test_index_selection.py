"""VECTOR_INDEX and KEYWORD_INDEX choose the index adapters; invalid combinations stop start-up with a message."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from jyntrix_adapters.postgres.stores import PostgresStores
from jyntrix_bootstrap.resources import Storage, in_process_storage, open_keyword_index, open_storage, open_vector_index
from jyntrix_bootstrap.settings import KeywordIndexKind, SettingsError, VectorIndexKind, load_settings
from jyntrix_domain.errors import Unavailable
from jyntrix_domain.model import KeywordDoc, MemoryType, VectorItem, new_id
from testsupport.postgres import database_owned_by_a_plain_role, server_parent_dir

# The vector indexes that need no stores are opened alone.
_NO_STORAGE = in_process_storage()


def _stores_on_postgres() -> Storage:
    """Stores that count as Postgres for the plan, with no pool (pgvector then opens its own from DATABASE_URL);
    the real stores cannot open here, since their migrations create roles, which a plain role may not."""
    return dataclasses.replace(_NO_STORAGE, postgres=cast(PostgresStores, SimpleNamespace(embedded=None, db=None)))


@pytest.fixture
def data_dir() -> Iterator[Path]:
    with server_parent_dir() as parent:  # the embedded server must reach its data directory (see testsupport)
        yield parent


def test_unset_means_the_defaults(data_dir: Path) -> None:
    settings = load_settings({"JYNTRIX_DATA_DIR": str(data_dir)})
    assert settings.vector_index is None and settings.keyword_index is None
    chosen = load_settings({"JYNTRIX_DATA_DIR": str(data_dir), "VECTOR_INDEX": "pgvector", "KEYWORD_INDEX": "postgres"})
    assert (chosen.vector_index, chosen.keyword_index) == (VectorIndexKind.PGVECTOR, KeywordIndexKind.POSTGRES)


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"VECTOR_INDEX": "faiss"}, "VECTOR_INDEX"),
        ({"KEYWORD_INDEX": "lucene"}, "KEYWORD_INDEX"),
        ({"VECTOR_INDEX": "qdrant"}, "VECTOR_INDEX"),  # without QDRANT_URL
        ({"VECTOR_INDEX": "pgvector", "JYNTRIX_DEPLOYMENT": "in_process"}, "VECTOR_INDEX"),
        ({"KEYWORD_INDEX": "postgres", "JYNTRIX_DEPLOYMENT": "in_process"}, "KEYWORD_INDEX"),
    ],
)
def test_an_invalid_choice_names_its_variable(data_dir: Path, env: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings({"JYNTRIX_DATA_DIR": str(data_dir), **env})


@pytest.mark.slow
async def test_pgvector_and_postgres_full_text_on_the_embedded_postgres(data_dir: Path) -> None:
    settings = load_settings(
        {"JYNTRIX_DATA_DIR": str(data_dir), "VECTOR_INDEX": "pgvector", "KEYWORD_INDEX": "postgres"},
        create_local_secret=False,
    )
    user, memory = new_id(), new_id()
    vector = [1.0] + [0.0] * 383
    async with contextlib.AsyncExitStack() as stack:
        storage = await stack.enter_async_context(contextlib.asynccontextmanager(open_storage)(settings))
        vectors = await stack.enter_async_context(contextlib.asynccontextmanager(open_vector_index)(settings, storage))
        keywords = await stack.enter_async_context(
            contextlib.asynccontextmanager(open_keyword_index)(settings, storage)
        )
        assert (vectors.backend, keywords.backend) == ("pgvector", "postgres")
        await vectors.adapter.upsert(user, [VectorItem(id=memory, vector=vector, type=MemoryType.SEMANTIC)])
        await keywords.adapter.upsert(user, [KeywordDoc(id=memory, text="my bike is blue", type=MemoryType.SEMANTIC)])
        assert [h.id for h in await vectors.adapter.search(user, vector, 5)] == [memory]
        assert [h.id for h in await keywords.adapter.search(user, "bike", 5)] == [memory]


_HOLD_SHARD = """
import asyncio, sys
from jyntrix_adapters.qdrant.edge_vector_index import QdrantEdgeVectorIndex

async def hold():
    await QdrantEdgeVectorIndex(sys.argv[1]).open()
    print("held", flush=True)
    await asyncio.sleep(120)

asyncio.run(hold())
"""


@pytest.mark.slow
async def test_a_qdrant_edge_shard_held_by_another_process_stops_start_up_naming_the_setting(data_dir: Path) -> None:
    settings = load_settings({"JYNTRIX_DATA_DIR": str(data_dir)}, create_local_secret=False)
    holder = await asyncio.create_subprocess_exec(
        sys.executable, "-c", _HOLD_SHARD, str(settings.data_dir / "qdrant-edge"), stdout=asyncio.subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and (await holder.stdout.readline()).strip() == b"held"
        with pytest.raises(Unavailable, match=r"VECTOR_INDEX=qdrant-edge: the shard at .* another process") as refused:
            async with contextlib.asynccontextmanager(open_vector_index)(settings, _NO_STORAGE):
                pass
        assert "TASK_RUNNER=in_process" in str(refused.value) and "VECTOR_INDEX=pgvector" in str(refused.value)
    finally:
        holder.kill()
        await holder.wait()
    # Once the other process is gone, the shard opens.
    async with contextlib.asynccontextmanager(open_vector_index)(settings, _NO_STORAGE) as opened:
        assert opened.backend == "qdrant-edge"


@pytest.mark.slow
async def test_pgvector_for_a_role_that_may_not_create_the_extension_names_the_setting_and_the_sql(
    data_dir: Path, embedded_postgres_dsn: str
) -> None:
    async with database_owned_by_a_plain_role(embedded_postgres_dsn) as (name, dsn):
        settings = load_settings(
            {"JYNTRIX_DATA_DIR": str(data_dir), "DATABASE_URL": dsn, "VECTOR_INDEX": "pgvector"},
            create_local_secret=False,
        )
        with pytest.raises(Unavailable, match=r"VECTOR_INDEX=pgvector: .*an administrator must run") as refused:
            async with contextlib.asynccontextmanager(open_vector_index)(settings, _stores_on_postgres()):
                pass
    assert f'in database "{name}": CREATE EXTENSION vector;' in str(refused.value)
    assert "DATABASE_URL" in str(refused.value)
