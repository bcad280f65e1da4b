"""The ONNX build run by fastembed is the real all-MiniLM-L6-v2: it reproduces an independent implementation.

tests/adapters/fastembed/fixtures/minilm_reference.json was computed with PyTorch + transformers from the same packaged
weights (tools/make_reference_embeddings.py, a one-off developer step).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from jyntrix_domain.ports import Embedder

REFERENCE = json.loads((Path(__file__).parent / "fixtures" / "minilm_reference.json").read_text(encoding="utf-8"))
ITEMS = REFERENCE["items"]


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def test_the_reference_covers_long_and_unicode_texts() -> None:
    assert len(ITEMS) >= 10
    assert any(item["tokens_untruncated"] > 256 for item in ITEMS)
    assert any(not item["text"].isascii() for item in ITEMS)


async def test_every_sentence_matches_the_reference(fast_embedder: Embedder) -> None:
    vectors = await fast_embedder.embed([item["text"] for item in ITEMS])
    cosines = [cosine(v, item["vector"]) for v, item in zip(vectors, ITEMS, strict=True)]
    assert min(cosines) >= 0.9999, cosines


@pytest.mark.parametrize("item", ITEMS, ids=[f"s{i}" for i in range(len(ITEMS))])
async def test_each_sentence_alone_matches_the_reference(fast_embedder: Embedder, item: dict[str, object]) -> None:
    vector = await fast_embedder.embed_query(str(item["text"]))
    assert cosine(vector, item["vector"]) >= 0.9999  # type: ignore[arg-type]
