"""In-process Embedder: feature hashing of words and word pairs, for tests and model-free runs."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import math
import re
from collections.abc import Sequence

from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import Vector

_WORD = re.compile(r"\w+", re.UNICODE)
# Hashing a few thousand characters is quick; past this, hash on a worker thread.
_INLINE_CHARS = 20_000
_EMPTY = "\x00empty"


def _stem(word: str) -> str:
    # Crude plural/tense folding so that "likes" and "like", "cities" and "city" share features.
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


class HashEmbedder:
    """Deterministic vectors in which texts that share words (or word pairs) are similar.

    Unigrams and bigrams are hashed into `dimension` buckets with a hashed sign (the "hashing
    trick"), and the result is L2-normalised. It knows no synonyms: it stands in for a real model
    where tests need stable, meaningful-enough geometry without loading one.
    """

    def __init__(self, dimension: int = 384, bigram_weight: float = 0.5) -> None:
        if dimension < 8:
            raise Invalid("dimension must be at least 8")
        self._dimension = dimension
        self._bigram_weight = bigram_weight

    @property
    def dimension(self) -> int:
        return self._dimension

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        batch = list(texts)
        if sum(len(t) for t in batch) > _INLINE_CHARS:
            return await asyncio.to_thread(self.embed_sync, batch)
        return self.embed_sync(batch)

    async def embed_query(self, text: str, *, user_id: str | None = None) -> Vector:
        return (await self.embed([text]))[0]

    def embed_sync(self, texts: Sequence[str]) -> list[Vector]:
        return [self._vector(text) for text in texts]

    def _vector(self, text: str) -> Vector:
        words = [_stem(w) for w in _WORD.findall(text.casefold())]
        features: list[tuple[str, float]] = [(w, 1.0) for w in words]
        features += [(f"{a} {b}", self._bigram_weight) for a, b in itertools.pairwise(words)]
        if not features:
            features = [(_EMPTY, 1.0)]  # still a unit vector, as the port promises
        vector = [0.0] * self._dimension
        for feature, weight in features:
            digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
            sign = 1.0 if digest >> 63 else -1.0
            vector[digest % self._dimension] += sign * weight
        norm = math.sqrt(sum(x * x for x in vector))
        if norm == 0.0:  # every feature cancelled out: fall back to the first one's bucket
            vector[0] = 1.0
            return vector
        return [x / norm for x in vector]
