"""Query-embedding cache: an Embedder that remembers the vectors of queries it has embedded.

Two levels: an LRU in this process, then an optional shared Cache port (Redis in the
services deployment) so that every API process benefits from one process's work. Keys hash
the model name with the text, so switching models can never serve a stale vector, and with
the user id: a cache shared by tenants would let one of them tell, by the time a query
takes, whether another had just typed the same text.
"""

from __future__ import annotations

import array
import asyncio
import hashlib
import logging
import sys
from collections import OrderedDict
from collections.abc import Sequence

from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.model import UserId, Vector
from jyntrix_domain.ports import Cache, Embedder

log = logging.getLogger(__name__)

_KEY_PREFIX = "emb:v2:"
# The one place these defaults are set: Settings' EMBEDDING_CACHE_SIZE and EMBEDDING_CACHE_TTL_S take them.
DEFAULT_MAX_ENTRIES = 10_000
DEFAULT_TTL_S = 86_400.0


def encode_vector(vector: Sequence[float]) -> bytes:
    """Little-endian float32: 4 bytes a dimension (1.5 KB for 384-d instead of ~8 KB of JSON)."""
    packed = array.array("f", vector)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tobytes()


def decode_vector(data: bytes) -> Vector:
    if len(data) % 4:
        raise Invalid("an encoded vector is a whole number of float32 values")
    packed = array.array("f")
    packed.frombytes(data)
    if sys.byteorder == "big":
        packed.byteswap()
    return packed.tolist()


class CachedEmbedder:
    """Embedder wrapper caching `embed_query`; `embed` (documents, in batches) passes through.

    Concurrent requests for the same uncached query share one call to the inner embedder.
    The shared cache is best effort: when it is down, queries are embedded as if it were empty.
    """

    def __init__(
        self,
        inner: Embedder,
        *,
        model: str,
        cache: Cache | None = None,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        ttl_s: float | None = DEFAULT_TTL_S,
    ) -> None:
        if max_entries < 1:
            raise Invalid("max_entries must be at least 1")
        self._inner = inner
        self._model = model
        self._cache = cache
        self._max_entries = max_entries
        self._ttl_s = ttl_s
        self._lru: OrderedDict[str, Vector] = OrderedDict()
        self._inflight: dict[str, asyncio.Task[Vector]] = {}
        self.local_hits = 0
        self.shared_hits = 0
        self.misses = 0

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    def cache_key(self, text: str, user_id: UserId | None = None) -> str:
        digest = hashlib.sha256(f"{self._model}\x1f{user_id or ''}\x1f{text}".encode()).hexdigest()
        return _KEY_PREFIX + digest

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        return await self._inner.embed(texts)

    async def embed_query(self, text: str, *, user_id: UserId | None = None) -> Vector:
        key = self.cache_key(text, user_id)
        vector = self._lru.get(key)
        if vector is not None:
            self._lru.move_to_end(key)
            self.local_hits += 1
            return list(vector)
        loading = self._inflight.get(key)
        if loading is None:
            loading = asyncio.ensure_future(self._load(key, text))
            self._inflight[key] = loading
            loading.add_done_callback(lambda done: self._loaded(key, done))
        # Shielded: one caller giving up must not cancel the load the others are waiting for.
        return list(await asyncio.shield(loading))

    async def _load(self, key: str, text: str) -> Vector:
        vector = await self._shared_get(key)
        if vector is not None:
            self.shared_hits += 1
        else:
            self.misses += 1
            encoded = encode_vector(await self._inner.embed_query(text))
            # Served as float32 from every level, so one query gets the same vector in every process.
            vector = decode_vector(encoded)
            await self._shared_set(key, encoded)
        self._lru[key] = vector
        self._lru.move_to_end(key)
        while len(self._lru) > self._max_entries:
            self._lru.popitem(last=False)
        return vector

    def _loaded(self, key: str, done: asyncio.Task[Vector]) -> None:
        self._inflight.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved here so that a failure nobody awaited is not logged as lost

    async def _shared_get(self, key: str) -> Vector | None:
        if self._cache is None:
            return None
        try:
            data = await self._cache.get(key)
        except Unavailable as exc:
            log.warning("embedding cache unavailable, embedding instead: %s", exc)
            return None
        if data is None:
            return None
        try:
            vector = decode_vector(data)
        except Invalid:
            return None
        return vector if len(vector) == self.dimension else None

    async def _shared_set(self, key: str, encoded: bytes) -> None:
        if self._cache is None:
            return
        try:
            await self._cache.set(key, encoded, self._ttl_s)
        except Unavailable as exc:
            log.warning("embedding cache unavailable, not storing: %s", exc)
