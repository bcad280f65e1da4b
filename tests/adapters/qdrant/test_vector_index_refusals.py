"""Qdrant's two adapters refuse what they cannot serve: a collection or shard of another dimension, a shard open
elsewhere, work after close, an unreachable server; and an Edge shard answers after it is optimised."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from jyntrix_adapters.qdrant.edge_vector_index import QdrantEdgeVectorIndex
from jyntrix_adapters.qdrant.vector_index import QdrantVectorIndex
from jyntrix_domain.errors import Invalid, Unavailable
from testsupport.vector_items import DIM, item, ranked, unit

ALICE, BOB = "alice", "bob"


async def test_edge_shard_with_another_dimension_is_refused(tmp_path: Path) -> None:
    async with QdrantEdgeVectorIndex(tmp_path / "edge", dimension=DIM) as index:
        await index.upsert(ALICE, [item(unit(310))])
    with pytest.raises(Invalid):
        await QdrantEdgeVectorIndex(tmp_path / "edge", dimension=128).open()


async def test_edge_shard_open_elsewhere_is_unavailable(tmp_path: Path) -> None:
    async with QdrantEdgeVectorIndex(tmp_path / "edge", dimension=DIM) as index:
        await index.upsert(ALICE, [item(unit(314))])
        with pytest.raises(Unavailable):
            await QdrantEdgeVectorIndex(tmp_path / "edge", dimension=DIM).open()
        assert len(await index.search(ALICE, unit(314), 5)) == 1


async def test_edge_index_refuses_work_after_close(tmp_path: Path) -> None:
    index = QdrantEdgeVectorIndex(tmp_path / "edge", dimension=DIM)
    await index.upsert(ALICE, [item(unit(311))])
    await index.close()
    with pytest.raises(Unavailable):
        await index.search(ALICE, unit(311), 5)


async def test_edge_index_can_be_optimised_and_still_answers(tmp_path: Path) -> None:
    query = unit(312)
    items = ranked(query, 5)
    async with QdrantEdgeVectorIndex(tmp_path / "edge", dimension=DIM) as index:
        await index.upsert(ALICE, items)
        await index.upsert(BOB, [item(unit(313))])
        await index.optimize()
        assert [h.id for h in await index.search(ALICE, query, 10)] == [i.id for i in items]
        assert await index.count() == 6


async def test_qdrant_collection_with_another_dimension_is_refused(tmp_path: Path) -> None:
    async with QdrantVectorIndex(path=str(tmp_path / "q"), dimension=DIM) as index:
        await index.upsert(ALICE, [item(unit(320))])
    with pytest.raises(Invalid):
        async with QdrantVectorIndex(path=str(tmp_path / "q"), dimension=128):
            pass


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]  # bound but not listening: connections are refused


async def test_unreachable_qdrant_server_is_unavailable(closed_port: int) -> None:
    index = QdrantVectorIndex(url=f"http://127.0.0.1:{closed_port}", dimension=DIM, timeout_s=2)
    with pytest.raises(Unavailable):
        await index.ping()
    with pytest.raises(Unavailable):
        await index.search(ALICE, unit(330), 5)
    await index.close()
