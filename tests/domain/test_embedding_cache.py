"""CachedEmbedder: query vectors are computed once, then served from the process LRU or the shared cache."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence

import pytest

from jyntrix_adapters.inprocess.cache import InProcessCache
from jyntrix_adapters.inprocess.embedder import HashEmbedder
from jyntrix_domain.embedding_cache import CachedEmbedder, decode_vector, encode_vector
from jyntrix_domain.errors import Unavailable
from jyntrix_domain.model import Vector
from tests.domain.kit import Kit


class CountingEmbedder:
    """A test double of the Embedder port that counts how often it is asked."""

    dimension = 4

    def __init__(self) -> None:
        self.query_calls: list[str] = []
        self.batch_calls: list[list[str]] = []
        self.gate: asyncio.Event | None = None
        self.fail_next = False

    def _vector(self, text: str) -> Vector:
        digest = hashlib.sha256(text.encode()).digest()
        return [(b - 127.5) / 127.5 for b in digest[: self.dimension]]

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        self.batch_calls.append(list(texts))
        return [self._vector(t) for t in texts]

    async def embed_query(self, text: str, *, user_id: str | None = None) -> Vector:
        self.query_calls.append(text)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("model crashed")
        return self._vector(text)


class DownCache:
    """A Cache whose backend is unreachable."""

    async def get(self, key: str) -> bytes | None:
        raise Unavailable("redis is down")

    async def set(self, key: str, value: bytes, ttl_s: float | None = None) -> None:
        raise Unavailable("redis is down")

    async def delete(self, key: str) -> None:
        raise Unavailable("redis is down")


def _float32(vector: Vector) -> Vector:
    return decode_vector(encode_vector(vector))


async def test_same_query_reaches_the_inner_embedder_once() -> None:
    inner = CountingEmbedder()
    embedder = CachedEmbedder(inner, model="m")
    first = await embedder.embed_query("where do I live?")
    second = await embedder.embed_query("where do I live?")
    assert inner.query_calls == ["where do I live?"]
    assert first == second == _float32(inner._vector("where do I live?"))
    assert (embedder.misses, embedder.local_hits) == (1, 1)


async def test_different_queries_are_each_embedded() -> None:
    inner = CountingEmbedder()
    embedder = CachedEmbedder(inner, model="m")
    a = await embedder.embed_query("a")
    b = await embedder.embed_query("b")
    assert inner.query_calls == ["a", "b"]
    assert a != b


async def test_shared_cache_serves_another_process() -> None:
    shared = InProcessCache()
    inner_a, inner_b = CountingEmbedder(), CountingEmbedder()
    process_a = CachedEmbedder(inner_a, model="m", cache=shared)
    process_b = CachedEmbedder(inner_b, model="m", cache=shared)
    from_a = await process_a.embed_query("my sister's name")
    from_b = await process_b.embed_query("my sister's name")
    assert inner_a.query_calls == ["my sister's name"]
    assert inner_b.query_calls == []
    assert from_a == from_b
    assert process_b.shared_hits == 1


async def test_a_different_model_never_reuses_another_models_vectors() -> None:
    shared = InProcessCache()
    inner = CountingEmbedder()
    await CachedEmbedder(inner, model="model-a", cache=shared).embed_query("q")
    await CachedEmbedder(inner, model="model-b", cache=shared).embed_query("q")
    assert inner.query_calls == ["q", "q"]


async def test_lru_evicts_the_least_recently_used_query() -> None:
    inner = CountingEmbedder()
    embedder = CachedEmbedder(inner, model="m", max_entries=2)
    for text in ["a", "b", "a", "c"]:  # "a" was used after "b", so "b" is the one to go
        await embedder.embed_query(text)
    await embedder.embed_query("a")
    await embedder.embed_query("b")
    assert inner.query_calls == ["a", "b", "c", "b"]


async def test_concurrent_identical_queries_share_one_inner_call() -> None:
    inner = CountingEmbedder()
    inner.gate = asyncio.Event()
    embedder = CachedEmbedder(inner, model="m")
    waiting = [asyncio.ensure_future(embedder.embed_query("same")) for _ in range(10)]
    await asyncio.sleep(0)
    inner.gate.set()
    vectors = await asyncio.gather(*waiting)
    assert inner.query_calls == ["same"]
    assert all(v == vectors[0] for v in vectors)


async def test_a_cancelled_caller_does_not_cancel_the_others() -> None:
    inner = CountingEmbedder()
    inner.gate = asyncio.Event()
    embedder = CachedEmbedder(inner, model="m")
    impatient = asyncio.ensure_future(embedder.embed_query("q"))
    patient = asyncio.ensure_future(embedder.embed_query("q"))
    await asyncio.sleep(0)
    impatient.cancel()
    inner.gate.set()
    assert len(await patient) == 4
    assert inner.query_calls == ["q"]


async def test_a_failed_embedding_is_not_cached() -> None:
    inner = CountingEmbedder()
    inner.fail_next = True
    embedder = CachedEmbedder(inner, model="m")
    with pytest.raises(RuntimeError):
        await embedder.embed_query("q")
    assert len(await embedder.embed_query("q")) == 4
    assert inner.query_calls == ["q", "q"]


async def test_an_unreachable_shared_cache_degrades_to_embedding() -> None:
    inner = CountingEmbedder()
    embedder = CachedEmbedder(inner, model="m", cache=DownCache())
    vector = await embedder.embed_query("q")
    assert vector == _float32(inner._vector("q"))
    await embedder.embed_query("q")
    assert inner.query_calls == ["q"]  # the process LRU still works


@pytest.mark.parametrize("garbage", [b"", b"abc", encode_vector([1.0, 2.0])])
async def test_a_corrupt_or_mis_sized_shared_entry_is_a_miss(garbage: bytes) -> None:
    shared = InProcessCache()
    inner = CountingEmbedder()
    embedder = CachedEmbedder(inner, model="m", cache=shared)
    await shared.set(embedder.cache_key("q"), garbage)
    vector = await embedder.embed_query("q")
    assert vector == _float32(inner._vector("q"))
    assert inner.query_calls == ["q"]
    assert await shared.get(embedder.cache_key("q")) == encode_vector(vector)


async def test_mutating_a_returned_vector_does_not_change_the_cache() -> None:
    embedder = CachedEmbedder(CountingEmbedder(), model="m")
    vector = await embedder.embed_query("q")
    original = list(vector)
    vector[0] = 42.0
    assert await embedder.embed_query("q") == original


async def test_document_batches_pass_through_uncached() -> None:
    inner = CountingEmbedder()
    embedder = CachedEmbedder(inner, model="m")
    await embedder.embed(["a", "b"])
    await embedder.embed(["a", "b"])
    assert inner.batch_calls == [["a", "b"], ["a", "b"]]
    assert embedder.dimension == 4


def test_vectors_are_stored_as_four_bytes_a_dimension() -> None:
    vector = [i / 384 for i in range(384)]
    encoded = encode_vector(vector)
    assert len(encoded) == 384 * 4
    assert decode_vector(encoded) == pytest.approx(vector, abs=1e-7)


async def test_one_tenant_never_gets_another_tenants_cached_query() -> None:
    """No timing oracle: a query another user just typed is a miss for this user, locally and in the shared cache."""
    inner = CountingEmbedder()
    shared = InProcessCache()
    embedder = CachedEmbedder(inner, model="m", cache=shared)
    other_process = CachedEmbedder(inner, model="m", cache=shared)
    await embedder.embed_query("my diagnosis is diabetes", user_id="victim")
    await embedder.embed_query("my diagnosis is diabetes", user_id="attacker")
    await other_process.embed_query("my diagnosis is diabetes", user_id="attacker2")
    assert inner.query_calls == ["my diagnosis is diabetes"] * 3
    assert (embedder.local_hits, embedder.shared_hits, other_process.shared_hits) == (0, 0, 0)
    # The same user asking again is still served from the cache.
    await embedder.embed_query("my diagnosis is diabetes", user_id="victim")
    await other_process.embed_query("my diagnosis is diabetes", user_id="victim")
    assert len(inner.query_calls) == 3
    assert (embedder.local_hits, other_process.shared_hits) == (1, 1)
    assert embedder.cache_key("q", "a") != embedder.cache_key("q", "b") != embedder.cache_key("q")


async def test_retrieval_scopes_the_query_cache_to_the_user() -> None:
    embedder = CachedEmbedder(HashEmbedder(), model="hash")
    kit = Kit(embedder=embedder)  # type: ignore[arg-type]
    await kit.memories.search("victim", "the name of my therapist")
    await kit.memories.search("attacker", "the name of my therapist")
    await kit.memories.search("victim", "the name of my therapist")
    assert (embedder.misses, embedder.local_hits) == (2, 1)
