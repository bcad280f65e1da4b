"""Opening and closing the adapters the runtime's plan names: the resources the container holds.

`jyntrix_bootstrap.plan` decides which adapter serves each port (and documents the rules); here each choice
has its opener, looked up in a table: no deployment test is spelled twice. Each `open_*` is an async generator:
the container enters it once and closes it at shutdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jyntrix_bootstrap.plan import (
    EmbedderChoice,
    KeywordChoice,
    LanguageModelChoice,
    SharedChoice,
    StoresChoice,
    TokenCounterChoice,
    VectorChoice,
    plan,
)
from jyntrix_bootstrap.settings import Settings, SettingsError
from jyntrix_domain.analytics import BufferedEmitter
from jyntrix_domain.errors import Unavailable
from jyntrix_domain.ports import (
    AnalyticsSink,
    Cache,
    CallsStandAlone,
    ConversationStore,
    Embedder,
    EntityGraph,
    LanguageModel,
    MemoryStore,
    ProfileStore,
    SpanObserver,
    TaskLedger,
    TokenCounter,
    Transactions,
)

if TYPE_CHECKING:  # the in_process deployment must not import the Postgres driver
    from jyntrix_adapters.postgres.stores import PostgresStores

MODEL_NAME = "all-MiniLM-L6-v2"
# The size of its vectors, the hash embedder's, and what every vector index holds.
VECTOR_DIMENSION = 384


def embedding_model_dir(settings: Settings) -> Path:
    """Where the ONNX embedding model is built and loaded from."""
    if settings.embedding_model_dir:
        return Path(settings.embedding_model_dir)
    return settings.data_dir / "models" / MODEL_NAME


@dataclass
class Storage:
    """The stores that live in one database (Postgres, or dicts in the in_process deployment)."""

    memories: MemoryStore
    conversations: ConversationStore
    profiles: ProfileStore
    graph: EntityGraph
    analytics: AnalyticsSink
    ledger: TaskLedger
    backend: str
    # What groups the stores' calls into one transaction (none to share in process).
    transactions: Transactions = field(default_factory=CallsStandAlone)
    # The Postgres stores behind these (their pool and DSN, for the indexes that live beside them); None in process.
    postgres: PostgresStores | None = None


@dataclass
class Opened:
    """An adapter plus the label the readiness check shows for it."""

    adapter: Any
    backend: str


def in_process_storage() -> Storage:
    """Every store on its in-process adapter (the in_process deployment; tests and embedding apps)."""
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
    choice = plan(settings).stores
    if choice is StoresChoice.IN_PROCESS:
        yield in_process_storage()
        return
    from jyntrix_adapters.postgres.stores import open_postgres

    stores = await open_postgres(
        settings.database_url,
        data_dir=settings.data_dir / "postgres",
        max_size=settings.database_pool_size,
    )
    try:
        yield postgres_storage(stores, choice)
    finally:
        await stores.close()


def postgres_storage(stores: PostgresStores, choice: StoresChoice = StoresChoice.POSTGRES) -> Storage:
    """The Storage of open Postgres stores (their owner closes them)."""
    return Storage(
        memories=stores.memories,
        conversations=stores.conversations,
        profiles=stores.profiles,
        graph=stores.graph,
        analytics=stores.analytics,
        ledger=stores.ledger,
        backend=choice.value,
        transactions=stores.transactions,
        postgres=stores,
    )


def _postgres(storage: Storage, setting: str) -> PostgresStores:
    """The Postgres stores an index of `setting` lives beside."""
    if storage.postgres is None:
        raise SettingsError(f"{setting} needs the Postgres stores (DATABASE_URL or embedded Postgres)")
    return storage.postgres


def _in_process_vectors(settings: Settings, storage: Storage) -> Any:
    from jyntrix_adapters.inprocess.vector_index import InProcessVectorIndex

    # Fixed like every other index's, so a vector of another size is refused from the first write.
    return InProcessVectorIndex(dimension=VECTOR_DIMENSION)


def _pgvector(settings: Settings, storage: Storage) -> Any:
    from jyntrix_adapters.postgres.vector_index import PgVectorIndex

    stores = _postgres(storage, "VECTOR_INDEX=pgvector")
    dsn = settings.database_url or (stores.embedded.dsn if stores.embedded is not None else None)
    if dsn is None:
        raise SettingsError("VECTOR_INDEX=pgvector needs the DSN of the stores' database")
    # On the stores' pool: a chat turn's vector calls join its transactions (jyntrix_adapters.postgres.transactions).
    return PgVectorIndex(dsn, db=stores.db, max_size=settings.database_pool_size)


def _qdrant(settings: Settings, storage: Storage) -> Any:
    from jyntrix_adapters.qdrant.vector_index import QdrantVectorIndex

    if settings.qdrant_url == QDRANT_IN_MEMORY:
        return QdrantVectorIndex(location=QDRANT_IN_MEMORY, collection=settings.qdrant_collection)
    return QdrantVectorIndex(
        url=settings.qdrant_url, api_key=settings.qdrant_api_key, collection=settings.qdrant_collection
    )


# QDRANT_URL naming qdrant-client's local mode in this process, without a server (tests, demos).
QDRANT_IN_MEMORY = ":memory:"


def _qdrant_edge(settings: Settings, storage: Storage) -> Any:
    from jyntrix_adapters.qdrant.edge_vector_index import QdrantEdgeVectorIndex

    return QdrantEdgeVectorIndex(
        settings.data_dir / "qdrant-edge",
        optimize_points=settings.vector_optimize_points,
        optimize_after_writes=settings.vector_optimize_after_writes,
    )


# The opener registry: one entry per choice the plan can make (tests/bootstrap checks none is missing).
VECTOR_OPENERS: dict[VectorChoice, Callable[[Settings, Storage], Any]] = {
    VectorChoice.IN_PROCESS: _in_process_vectors,
    VectorChoice.PGVECTOR: _pgvector,
    VectorChoice.QDRANT: _qdrant,
    VectorChoice.QDRANT_EDGE: _qdrant_edge,
}


async def open_vector_index(settings: Settings, storage: Storage) -> AsyncIterator[Opened]:
    choice = plan(settings).vectors
    index = VECTOR_OPENERS[choice](settings, storage)
    if choice is VectorChoice.IN_PROCESS:
        yield Opened(index, choice.value)
        return
    try:
        try:
            await index.open()
        except Unavailable as error:
            raise Unavailable(f"VECTOR_INDEX={choice.value}: {error}{_REMEDIES.get(choice, '')}") from error
        yield Opened(index, choice.value)
    finally:
        await index.close()


# What to change when the selected vector index cannot open, after the adapter's own reason.
_REMEDIES = {
    VectorChoice.QDRANT_EDGE: (
        ". A Qdrant Edge shard serves one process: run the worker inside the API (TASK_RUNNER=in_process),"
        " give each process its own JYNTRIX_DATA_DIR, or share an index with VECTOR_INDEX=pgvector"
        " or VECTOR_INDEX=qdrant (QDRANT_URL)"
    ),
    VectorChoice.PGVECTOR: " (the server of DATABASE_URL, or the embedded Postgres when it is unset)",
}


def _in_process_keywords(settings: Settings, storage: Storage) -> Any:
    from jyntrix_adapters.inprocess.keyword_index import InProcessKeywordIndex

    return InProcessKeywordIndex()


def _postgres_keywords(settings: Settings, storage: Storage) -> Any:
    from jyntrix_adapters.postgres.keyword_index import PostgresKeywordIndex

    return PostgresKeywordIndex(_postgres(storage, "KEYWORD_INDEX=postgres").db)


def _bm25s(settings: Settings, storage: Storage) -> Any:
    from jyntrix_adapters.bm25.keyword_index import Bm25sKeywordIndex

    return Bm25sKeywordIndex(settings.data_dir / "bm25")


KEYWORD_OPENERS: dict[KeywordChoice, Callable[[Settings, Storage], Any]] = {
    KeywordChoice.IN_PROCESS: _in_process_keywords,
    KeywordChoice.POSTGRES: _postgres_keywords,
    KeywordChoice.BM25S: _bm25s,
}


async def open_keyword_index(settings: Settings, storage: Storage) -> AsyncIterator[Opened]:
    choice = plan(settings).keywords
    index = KEYWORD_OPENERS[choice](settings, storage)
    try:
        yield Opened(index, choice.value)
    finally:
        if choice is KeywordChoice.BM25S:  # the others hold nothing of their own (the stores' pool, dicts)
            await _close(index)


@asynccontextmanager
async def _shared(settings: Settings, choice: SharedChoice, on_redis: Any, in_process: Any) -> AsyncIterator[Opened]:
    """The Redis adapter when the plan puts shared state in Redis (closed afterwards), the in-process one otherwise."""
    if choice is SharedChoice.IN_PROCESS:
        yield Opened(in_process(), choice.value)
        return
    adapter = on_redis.from_url(settings.redis_url, prefix=settings.redis_key_prefix)
    try:
        yield Opened(adapter, choice.value)
    finally:
        await adapter.close()


async def open_cache(settings: Settings) -> AsyncIterator[Opened]:
    from jyntrix_adapters.inprocess.cache import InProcessCache
    from jyntrix_adapters.redis.cache import RedisCache

    async with _shared(settings, plan(settings).cache, RedisCache, InProcessCache) as opened:
        yield opened


async def open_rate_limiter(settings: Settings) -> AsyncIterator[Opened]:
    from jyntrix_adapters.inprocess.rate_limiter import InProcessRateLimiter
    from jyntrix_adapters.redis.rate_limiter import RedisRateLimiter

    async with _shared(settings, plan(settings).rate_limiter, RedisRateLimiter, InProcessRateLimiter) as opened:
        yield opened


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the plan names (fastembed builds its model into embedding_model_dir on first start)."""
    if plan(settings).embedder is EmbedderChoice.HASH:
        from jyntrix_adapters.inprocess.embedder import HashEmbedder

        return HashEmbedder()
    from jyntrix_adapters.fastembed.embedder import FastEmbedder

    return FastEmbedder(embedding_model_dir(settings), build=True)


async def open_embedder(settings: Settings) -> AsyncIterator[Opened]:
    choice = plan(settings).embedder
    embedder = make_embedder(settings)
    try:
        yield Opened(embedder, choice.value if choice is EmbedderChoice.HASH else f"fastembed/{MODEL_NAME}")
    finally:
        await _close(embedder)


def _gemini(settings: Settings) -> Any:
    from jyntrix_adapters.gemini.language_model import GeminiLanguageModel

    return GeminiLanguageModel(
        settings.google_ai_api_key or "",
        model=settings.gemini_model,
        generation=settings.llm,
        base_url=settings.gemini_base_url,
    )


def _openai(settings: Settings) -> Any:
    from jyntrix_adapters.openai.language_model import OpenAICompatibleLanguageModel

    return OpenAICompatibleLanguageModel(
        settings.openai_base_url or "",
        model=settings.openai_model,
        api_key=settings.openai_api_key,
        generation=settings.llm,
    )


def _offline(settings: Settings) -> Any:
    from jyntrix_adapters.english.offline.language_model import OfflineLanguageModel

    # The in_process deployment answers at once; the embedded one paces tokens as OFFLINE_LLM_TOKEN_DELAY_S says.
    if plan(settings).stores is StoresChoice.IN_PROCESS:
        return OfflineLanguageModel()
    return OfflineLanguageModel(per_token_delay_s=settings.offline_llm_token_delay_s)


LANGUAGE_MODELS: dict[LanguageModelChoice, Callable[[Settings], Any]] = {
    LanguageModelChoice.GEMINI: _gemini,
    LanguageModelChoice.OPENAI: _openai,
    LanguageModelChoice.OFFLINE: _offline,
}


def make_language_model(settings: Settings) -> LanguageModel:
    """The language model the plan names."""
    model: LanguageModel = LANGUAGE_MODELS[plan(settings).language_model](settings)
    return model


async def open_language_model(settings: Settings) -> AsyncIterator[Opened]:
    model = make_language_model(settings)
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
    if plan(settings).token_counter is TokenCounterChoice.REGEX:
        from jyntrix_adapters.inprocess.token_counter import RegexTokenCounter

        return RegexTokenCounter()
    from jyntrix_adapters.tokenizers.token_counter import TokenizersTokenCounter

    return TokenizersTokenCounter()


def shared_cache(cache: Opened) -> Cache | None:
    """The cache query embeddings share between processes: Redis only; CachedEmbedder's own LRU is the local one."""
    shared: Cache | None = cache.adapter if cache.backend == SharedChoice.REDIS.value else None
    return shared
