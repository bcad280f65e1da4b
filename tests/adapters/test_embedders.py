"""Embedder specifics beyond the contract: the hash embedder's geometry and the fastembed adapter's loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from jyntrix_adapters.fastembed.embedder import FastEmbedder
from jyntrix_adapters.inprocess.embedder import HashEmbedder
from jyntrix_domain.errors import Invalid, Unavailable


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


async def test_hash_embedder_is_stable_across_instances_and_dimensions() -> None:
    a = await HashEmbedder(dimension=64).embed_query("I like green tea")
    b = await HashEmbedder(dimension=64).embed_query("I like green tea")
    assert a == b and len(a) == 64


async def test_hash_embedder_folds_plurals_and_case() -> None:
    embedder = HashEmbedder()
    (a, b) = await embedder.embed(["Cats LIKE boxes", "cat likes box"])
    assert dot(a, b) > 0.6


async def test_hash_embedder_word_order_matters_through_bigrams() -> None:
    embedder = HashEmbedder()
    a, b, c = await embedder.embed(["new york city", "new york city", "city york new"])
    assert dot(a, b) == pytest.approx(1.0)
    assert dot(a, c) < 0.95


def test_hash_embedder_refuses_a_tiny_dimension() -> None:
    with pytest.raises(Invalid):
        HashEmbedder(dimension=2)


async def test_fast_embedder_without_a_model_and_without_building_is_unavailable(tmp_path: Path) -> None:
    embedder = FastEmbedder(tmp_path / "missing", build=False)
    with pytest.raises(Unavailable, match="make model"):
        await embedder.embed(["hello"])


async def test_fast_embedder_answers_ping_once_loaded(fast_embedder: FastEmbedder) -> None:
    await fast_embedder.ping()
    assert fast_embedder.dimension == 384


async def test_fast_embedder_returns_vectors_in_the_callers_order_when_lengths_vary(
    fast_embedder: FastEmbedder,
) -> None:
    # More texts than one run holds, long and short interleaved: the adapter regroups them by length.
    texts = [f"note {i}: " + "the quick brown fox jumps " * ((i * 37) % 60) for i in range(48)]
    batch = await fast_embedder.embed(texts)
    for text, vector in zip(texts, batch, strict=True):
        alone = await fast_embedder.embed_query(text)
        assert dot(alone, vector) == pytest.approx(1.0, abs=1e-5)
