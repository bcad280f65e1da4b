"""Points written under the old global ids (before per-tenant ids) are re-keyed when an index opens."""

from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import qdrant_edge as qe
from qdrant_client import QdrantClient, models

from jyntrix_adapters.qdrant.edge_vector_index import QdrantEdgeVectorIndex
from jyntrix_adapters.qdrant.vector_index import QdrantVectorIndex
from jyntrix_domain.model import MemoryType, VectorItem

DIM = 8
OLD_NAMESPACE = uuid.UUID("6f1c9a52-3b8e-4c1d-9d0e-5a7b2c4e8f10")


def old_point_id(memory_id: str) -> str:
    """How the adapters named points before: the memory id when a UUID, else a uuid5 of it alone."""
    try:
        return str(uuid.UUID(memory_id))
    except ValueError:
        return str(uuid.uuid5(OLD_NAMESPACE, memory_id))


def unit(seed: int) -> list[float]:
    vector = np.random.default_rng(seed).standard_normal(DIM)
    return [float(x) for x in vector / np.linalg.norm(vector)]


OLD_POINTS = [
    ("alice", str(uuid.uuid4()), unit(1)),
    ("alice", "doc-7", unit(2)),
    ("bob", str(uuid.uuid4()), unit(3)),
]


async def check_migrated(index: QdrantEdgeVectorIndex | QdrantVectorIndex) -> None:
    for user, memory_id, vector in OLD_POINTS:
        hits = await index.search(user, vector, 10)
        assert hits[0].id == memory_id, (user, hits)
    assert {h.id for h in await index.search("alice", unit(9), 10)} == {OLD_POINTS[0][1], "doc-7"}
    # After re-keying, bob can use alice's id without touching hers.
    await index.upsert("bob", [models_item("doc-7", unit(4))])
    assert (await index.search("alice", unit(2), 1))[0].id == "doc-7"
    assert (await index.search("alice", unit(2), 1))[0].score > 0.999


def models_item(memory_id: str, vector: list[float]) -> VectorItem:
    return VectorItem(id=memory_id, vector=vector, type=MemoryType.SEMANTIC)


async def test_an_old_edge_shard_is_rekeyed_on_open(tmp_path: Path) -> None:
    path = tmp_path / "edge"
    async with QdrantEdgeVectorIndex(path, dimension=DIM):
        pass  # creates the shard with today's configuration and indexes
    config = qe.EdgeConfig(vectors=qe.EdgeVectorParams(size=DIM, distance=qe.Distance.Cosine))
    shard = qe.EdgeShard.load(str(path), config)
    shard.update(
        qe.UpdateOperation.upsert_points(
            [qe.Point(old_point_id(m), v, {"user_id": u, "type": "semantic", "memory_id": m}) for u, m, v in OLD_POINTS]
        )
    )
    shard.flush()
    shard.close()
    async with QdrantEdgeVectorIndex(path, dimension=DIM) as index:
        assert await index.count() == len(OLD_POINTS)
        await check_migrated(index)
    async with QdrantEdgeVectorIndex(path, dimension=DIM) as index:  # a second open has nothing left to move
        assert await index.count() == len(OLD_POINTS) + 1


async def test_an_old_qdrant_collection_is_rekeyed_on_open(tmp_path: Path) -> None:
    path = str(tmp_path / "qdrant")
    client = QdrantClient(path=path)
    client.create_collection("memories", vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE))
    client.upsert(
        "memories",
        points=[
            models.PointStruct(id=old_point_id(m), vector=v, payload={"user_id": u, "type": "semantic", "memory_id": m})
            for u, m, v in OLD_POINTS
        ],
    )
    client.close()
    async with QdrantVectorIndex(path=path, dimension=DIM) as index:
        await check_migrated(index)
    check = QdrantClient(path=path)
    assert check.count("memories").count == len(OLD_POINTS) + 1
    check.close()
