"""Vectors and items the VectorIndex suites store: unit vectors from a seed, and ranked sets of them."""

from __future__ import annotations

import numpy as np

from jyntrix_domain.model import MemoryType, VectorItem, new_id
from jyntrix_domain.ports import VectorIndex

DIM = 384
SEMANTIC = MemoryType.SEMANTIC


def unit(seed: int) -> list[float]:
    vector = np.random.default_rng(seed).standard_normal(DIM)
    return [float(x) for x in vector / np.linalg.norm(vector)]


def blend(base: list[float], other: list[float], weight: float) -> list[float]:
    """A unit vector between `base` and `other`: the larger `weight`, the further from `base`."""
    mixed = (1.0 - weight) * np.asarray(base) + weight * np.asarray(other)
    return [float(x) for x in mixed / np.linalg.norm(mixed)]


def cosine(a: list[float], b: list[float]) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def item(vector: list[float], type: MemoryType = SEMANTIC, id: str | None = None) -> VectorItem:
    return VectorItem(id=id or new_id(), vector=vector, type=type)


def ranked(query: list[float], n: int, type: MemoryType = SEMANTIC, seed: int = 1000) -> list[VectorItem]:
    """`n` items, best match first, with clearly separated similarities to `query`."""
    return [item(blend(query, unit(seed + i), 0.08 * (i + 1)), type) for i in range(n)]


async def everything(index: VectorIndex, user: str, query: list[float] | None = None) -> set[str]:
    return {hit.id for hit in await index.search(user, query or unit(0), 10_000)}
