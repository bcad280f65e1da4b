"""Embedder contract: the in-process hash embedder and fastembed's MiniLM behave alike where it matters."""

from __future__ import annotations

import asyncio
import math

import pytest

from jyntrix_adapters.prometheus.metrics import MeteredEmbedder, ServerMetrics
from jyntrix_bootstrap.resources import make_embedder
from jyntrix_bootstrap.settings import load_settings
from jyntrix_domain.embedding_batch import BatchingEmbedder
from jyntrix_domain.model import Vector
from jyntrix_domain.ports import Embedder
from testsupport.plan_cases import IN_PROCESS


@pytest.fixture(params=["hash", "fastembed", "metered", "batching-fastembed"])
def embedder(request: pytest.FixtureRequest) -> Embedder:
    """The embedders the plan can choose, as it opens them, and the decorators the container puts around them."""
    hashing = make_embedder(load_settings(IN_PROCESS, create_local_secret=False))
    if request.param == "hash":
        return hashing
    if request.param == "metered":  # the decorator that counts batch sizes for Prometheus
        return MeteredEmbedder(hashing, ServerMetrics())
    # Opened once a session by the same make_embedder (testsupport/models.py): loading the model takes a second.
    fast: Embedder = request.getfixturevalue("fast_embedder")
    # The query batcher the server puts in front of the model must keep every promise of the port.
    return BatchingEmbedder(fast) if request.param == "batching-fastembed" else fast


def norm(v: Vector) -> float:
    return math.sqrt(sum(x * x for x in v))


def cosine(a: Vector, b: Vector) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / (norm(a) * norm(b))


TEXTS = [
    "I live in Berlin with my partner and our cat.",
    "My favourite food is ramen.",
    "Zoë from Zürich wrote 東京 in her notebook 🙂",
    "",
    "word " * 600,  # longer than the model's window
]


async def test_vectors_have_the_declared_dimension(embedder: Embedder) -> None:
    vectors = await embedder.embed(TEXTS)
    assert len(vectors) == len(TEXTS)
    assert all(len(v) == embedder.dimension for v in vectors)


async def test_vectors_have_unit_length(embedder: Embedder) -> None:
    for vector in await embedder.embed(TEXTS):
        assert norm(vector) == pytest.approx(1.0, abs=1e-5)


async def test_the_same_text_gives_the_same_vector(embedder: Embedder) -> None:
    first = await embedder.embed(["Where do I work?"])
    second = await embedder.embed(["Where do I work?"])
    assert first == second


async def test_a_batch_equals_texts_embedded_one_by_one(embedder: Embedder) -> None:
    batch = await embedder.embed(TEXTS)
    for text, vector in zip(TEXTS, batch, strict=True):
        single = await embedder.embed([text])
        assert cosine(single[0], vector) == pytest.approx(1.0, abs=1e-5)


async def test_embed_query_is_the_embedding_of_one_text(embedder: Embedder) -> None:
    query = await embedder.embed_query("What is my sister's name?")
    (vector,) = await embedder.embed(["What is my sister's name?"])
    assert cosine(query, vector) == pytest.approx(1.0, abs=1e-6)


async def test_similar_texts_are_closer_than_unrelated_ones(embedder: Embedder) -> None:
    anchor, similar, unrelated = await embedder.embed(
        ["I live in Berlin.", "I live in Berlin, Germany, near the river.", "Quarterly revenue rose by twelve percent."]
    )
    assert cosine(anchor, similar) > cosine(anchor, unrelated) + 0.2


async def test_an_empty_batch_gives_no_vectors(embedder: Embedder) -> None:
    assert await embedder.embed([]) == []


async def test_vectors_are_plain_floats(embedder: Embedder) -> None:
    (vector,) = await embedder.embed(["plain floats serialise anywhere"])
    assert all(type(x) is float for x in vector)


async def test_concurrent_queries_each_get_their_own_vector(embedder: Embedder) -> None:
    texts = [f"Which {thing} did I mention?" for thing in ("book", "city", "song", "dish", "film", "game")]
    vectors = await asyncio.gather(*(embedder.embed_query(t, user_id=f"user-{i}") for i, t in enumerate(texts)))
    for text, vector in zip(texts, vectors, strict=True):
        assert cosine(vector, (await embedder.embed([text]))[0]) == pytest.approx(1.0, abs=1e-5)
