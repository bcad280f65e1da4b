"""`jyntrix reindex` rebuilds the selected indexes from the Postgres rows, for one user or for all.

The deployment is the embedded Postgres with pgvector and full-text indexes (a fresh data directory, so
the users in it are exactly the test's). Emptying the indexes stands in for a switch to a new backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from jyntrix_bootstrap.container import build_services
from jyntrix_bootstrap.settings import load_settings
from jyntrix_cli.cli import main
from jyntrix_domain.memories import NewMemory
from jyntrix_domain.model import new_id
from testsupport.postgres import run_sync, server_parent_dir
from testsupport.server import NOT_INHERITED

pytestmark = pytest.mark.slow

SAID = {"first": ["My bike is blue", "I play the cello"], "second": ["I grow tomatoes"]}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, minilm_model_dir: Path) -> Iterator[dict[str, str]]:
    with server_parent_dir() as parent:  # the embedded server must reach its data directory (see testsupport)
        for name in NOT_INHERITED:
            monkeypatch.delenv(name, raising=False)
        values = {
            "JYNTRIX_DATA_DIR": str(parent),
            "EMBEDDING_MODEL_DIR": str(minilm_model_dir),
            "VECTOR_INDEX": "pgvector",
            "KEYWORD_INDEX": "postgres",
        }
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        yield values


async def _remember_then_empty_the_indexes(env: dict[str, str]) -> dict[str, str]:
    users = {name: new_id() for name in SAID}
    runtime = await build_services(load_settings(env, create_local_secret=False))
    try:
        for name, contents in SAID.items():
            for content in contents:
                await runtime.services.memories.create(users[name], NewMemory(content=content))
            await runtime.backends["vector_index"].adapter.forget_user(users[name])
            await runtime.backends["keyword_index"].adapter.forget_user(users[name])
    finally:
        await runtime.aclose()
    return users


async def _found(env: dict[str, str], user: str, query: str) -> list[str]:
    runtime = await build_services(load_settings(env, create_local_secret=False))
    try:
        keyword_hits = await runtime.backends["keyword_index"].adapter.search(user, query, 5)
        vector = await runtime.backends["embedder"].adapter.embed_query(query)
        vector_hits = await runtime.backends["vector_index"].adapter.search(user, vector, 5)
        ids = {hit.id for hit in keyword_hits} | {hit.id for hit in vector_hits}
        return sorted(m.content for m in await runtime.storage.memories.get_many(user, list(ids)))
    finally:
        await runtime.aclose()


def test_reindex_rebuilds_one_user_then_every_user_from_the_database(
    env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    users = run_sync(_remember_then_empty_the_indexes(env))
    assert run_sync(_found(env, users["first"], "bike")) == []

    assert main(["reindex", "--user", users["first"]]) == 0
    summary = capsys.readouterr().err
    assert "Reindexed 2 memories of 1 users into vector_index=pgvector, keyword_index=postgres" in summary
    assert "My bike is blue" in run_sync(_found(env, users["first"], "bike"))
    assert run_sync(_found(env, users["second"], "tomatoes")) == []

    assert main(["reindex"]) == 0
    summary = capsys.readouterr().err
    assert "Reindexed 3 memories of 2 users" in summary
    assert "2/2" in summary  # the progress bar's last state
    assert "I grow tomatoes" in run_sync(_found(env, users["second"], "tomatoes"))
