"""The composition root: the one place that builds adapters and services, from Settings.

`build_services(settings)` opens every adapter the settings select (jyntrix_bootstrap.resources),
wires the domain services on them with dependency-injector, and returns a Runtime whose
`aclose()` shuts everything down in dependency order. The API's lifespan, the worker, the CLI
and the benchmarks all get their services here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from dependency_injector import containers, providers

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_adapters.inprocess.clock import SystemClock
from jyntrix_adapters.prometheus.metrics import MeteredEmbedder, ServerMetrics
from jyntrix_bootstrap.background import open_task_queue
from jyntrix_bootstrap.resources import (
    MODEL_NAME,
    Opened,
    Storage,
    make_token_counter,
    open_cache,
    open_embedder,
    open_emitter,
    open_keyword_index,
    open_language_model,
    open_rate_limiter,
    open_storage,
    open_vector_index,
    shared_cache,
)
from jyntrix_bootstrap.services import Runtime, Services, SystemStatus, package_version, settle
from jyntrix_bootstrap.settings import Settings
from jyntrix_domain.analytics import AnalyticsService
from jyntrix_domain.bulk import BulkLimiter
from jyntrix_domain.chat import ChatService
from jyntrix_domain.context import ContextBuilder
from jyntrix_domain.conversations import ConversationService
from jyntrix_domain.embedding_batch import BatchingEmbedder
from jyntrix_domain.embedding_cache import CachedEmbedder
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.forgetting import ForgetService
from jyntrix_domain.llm_extraction import LLMExtractor
from jyntrix_domain.locks import UserGate
from jyntrix_domain.memories import MemoryService
from jyntrix_domain.portability import PortabilityService
from jyntrix_domain.ports import ConversationPorts, MemoryPorts, TaskQueue
from jyntrix_domain.profiles import ProfileService
from jyntrix_domain.query import QueryAnalyzer
from jyntrix_domain.ranking import HybridRanker, ranker_for
from jyntrix_domain.retrieval import RetrievalConfig, RetrievalService, retrieval_config_for
from jyntrix_domain.task_handlers import build_handlers
from jyntrix_domain.tasks import TaskHandler, TaskMessage
from jyntrix_domain.transcripts import TranscriptService

log = logging.getLogger("jyntrix.wiring")


def make_ranker(settings: Settings) -> HybridRanker:
    return ranker_for(settings.rank_formula, settings.ranking, adaptive=settings.rank_adaptive)


def make_retrieval_config(settings: Settings) -> RetrievalConfig:
    return retrieval_config_for(settings.rank_formula, settings.retrieval)


def handlers_on_queue(
    ports: ConversationPorts,
    *,
    memories: MemoryService,
    extraction: ExtractionService,
    analytics: AnalyticsService,
    summary_idle_s: float,
) -> Callable[[TaskQueue], dict[type[TaskMessage], TaskHandler]]:
    """The task handlers as a function of the queue they run on (their follow-up work goes there too)."""

    def bound(tasks: TaskQueue) -> dict[type[TaskMessage], TaskHandler]:
        return build_handlers(
            ports,
            memories=memories,
            extraction=extraction,
            analytics=analytics,
            tasks=tasks,
            summary_idle_s=summary_idle_s,
        )

    return bound


class Container(containers.DeclarativeContainer):
    """Providers for every adapter and service; resources open in `init_resources` and close in reverse."""

    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Singleton(SystemClock)

    storage = providers.Resource(open_storage, settings)
    vectors = providers.Resource(open_vector_index, settings, storage)
    keywords = providers.Resource(open_keyword_index, settings, storage)
    cache = providers.Resource(open_cache, settings)
    rate_limiter = providers.Resource(open_rate_limiter, settings)
    base_embedder = providers.Resource(open_embedder, settings)
    llm = providers.Resource(open_language_model, settings)
    # Prometheus series of this process: the emitter shows it every span, the embedder every batch.
    metrics = providers.Singleton(ServerMetrics)
    emitter = providers.Resource(open_emitter, settings, storage, providers.List(metrics))

    token_counter = providers.Singleton(make_token_counter, settings)
    # Concurrent queries share one model run; the cache in front answers repeated ones without it.
    # Under the batcher, the metered embedder sees the model's real runs (a batch of queries is one run).
    batching_embedder = providers.Singleton(
        BatchingEmbedder, providers.Singleton(MeteredEmbedder, base_embedder.provided.adapter, metrics)
    )
    embedder = providers.Singleton(
        CachedEmbedder,
        batching_embedder,
        model=MODEL_NAME,
        cache=providers.Callable(shared_cache, cache),
        max_entries=settings.provided.embedding_cache_size,
        ttl_s=settings.provided.embedding_cache_ttl_s,
    )
    ranker = providers.Singleton(make_ranker, settings)
    # What messages say and ask is read in English: the one language the rules and the offline responder speak.
    language = providers.Singleton(EnglishLanguage)
    analyzer = providers.Singleton(QueryAnalyzer, language)
    context = providers.Singleton(
        ContextBuilder,
        token_counter,
        settings.provided.budgets,
        language=language,
        relevance=settings.provided.relevance,
    )

    memory_ports = providers.Singleton(
        MemoryPorts,
        store=storage.provided.memories,
        vectors=vectors.provided.adapter,
        keywords=keywords.provided.adapter,
        graph=storage.provided.graph,
        embedder=embedder,
        clock=clock,
        transactions=storage.provided.transactions,
    )
    conversation_ports = providers.Singleton(
        ConversationPorts,
        conversations=storage.provided.conversations,
        ledger=storage.provided.ledger,
        clock=clock,
        transactions=storage.provided.transactions,
        language=language,
    )
    retrieval = providers.Singleton(
        RetrievalService,
        memory_ports,
        ranker=ranker,
        analyzer=analyzer,
        config=providers.Callable(make_retrieval_config, settings),
        emitter=emitter,
    )
    memories = providers.Singleton(
        MemoryService,
        memory_ports,
        retrieval=retrieval,
        bulk=providers.Singleton(
            BulkLimiter,
            per_user=settings.provided.bulk_concurrency_per_user,
            total=settings.provided.bulk_concurrency,
        ),
    )
    # One per process: a delete-all and the setups it must not interleave with (jyntrix_domain.in_flight).
    user_gate = providers.Singleton(UserGate)
    forgetting = providers.Singleton(
        ForgetService,
        memory_ports,
        conversation_ports,
        profiles=storage.provided.profiles,
        analytics=storage.provided.analytics,
        emitter=emitter,
        gate=user_gate,
    )
    profiles = providers.Singleton(ProfileService, profiles=storage.provided.profiles, memories=memories, clock=clock)
    portability = providers.Singleton(
        PortabilityService,
        memory_ports,
        conversation_ports,
        memories=memories,
        profiles=storage.provided.profiles,
    )
    analytics = providers.Singleton(
        AnalyticsService, storage.provided.analytics, clock, retention_days=settings.provided.analytics_retention_days
    )
    # The language model reads each batch; the English rules read it when the model has no structured output
    # (the offline default) or fails, and tell a session the model cannot summarise.
    rules = providers.Singleton(DeterministicExtractor)
    extraction = providers.Singleton(
        ExtractionService,
        conversation_ports,
        memories=memories,
        extractor=providers.Singleton(LLMExtractor, llm.provided.adapter, fallback=rules),
        rules=rules,
        llm=llm.provided.adapter,
        profiles=profiles,
    )
    # What the in-process queue runs, bound to the queue itself so that an extraction can schedule its idle
    # conversation's summary there; a dramatiq worker binds the same to its broker (jyntrix_bootstrap.worker).
    handlers = providers.Singleton(
        handlers_on_queue,
        conversation_ports,
        memories=memories,
        extraction=extraction,
        analytics=analytics,
        summary_idle_s=settings.provided.worker.summary_idle_s,
    )
    tasks = providers.Resource(open_task_queue, settings, handlers)
    chat = providers.Singleton(
        ChatService,
        conversation_ports,
        retrieval=retrieval,
        memories=memories,
        context=context,
        llm=llm.provided.adapter,
        tasks=tasks.provided.adapter,
        emitter=emitter,
        config=settings.provided.chat,
        gate=user_gate,
    )
    conversations = providers.Singleton(ConversationService, storage.provided.conversations, memories)
    transcripts = providers.Singleton(
        TranscriptService,
        conversation_ports,
        memories=memories,
        tasks=tasks.provided.adapter,
        gate=user_gate,
    )


async def _resolve(provider: Any) -> Any:
    """A provider's value: awaited when the provider is async (resources), as is when overridden by an object."""
    return await settle(provider())


OVERRIDABLE = ("storage", "vectors", "keywords", "cache", "rate_limiter", "base_embedder", "llm", "tasks", "clock")
_GIVEN_AS_IS = ("storage", "clock")


def _override(container: Container, overrides: Mapping[str, Any]) -> None:
    for name, value in overrides.items():
        if name not in OVERRIDABLE:
            raise ValueError(f"cannot override {name!r}; one of {', '.join(OVERRIDABLE)}")
        if name not in _GIVEN_AS_IS and not isinstance(value, Opened):
            value = Opened(value, f"given ({type(value).__name__})")
        # The caller owns what it passes in: an Object provider is neither initialised nor shut down here.
        getattr(container, name).override(providers.Object(value))


async def build_services(settings: Settings, *, overrides: Mapping[str, Any] | None = None) -> Runtime:
    """Open every adapter the settings select and wire the services on them.

    `overrides` replaces resources by name (OVERRIDABLE) with objects the caller opened and will close:
    a Storage for "storage", a Clock for "clock", an adapter (or Opened) for the others.
    """
    container = Container(settings=settings)
    _override(container, overrides or {})
    try:
        await settle(container.init_resources())
        opened: dict[str, Opened] = {
            "vector_index": await _resolve(container.vectors),
            "keyword_index": await _resolve(container.keywords),
            "embedder": await _resolve(container.base_embedder),
            "language_model": await _resolve(container.llm),
            "cache": await _resolve(container.cache),
            "rate_limiter": await _resolve(container.rate_limiter),
            "task_queue": await _resolve(container.tasks),
        }
        storage: Storage = await _resolve(container.storage)
        probes: dict[str, tuple[str, object]] = {"database": (storage.backend, storage.postgres or storage.memories)}
        probes.update({name: (o.backend, o.adapter) for name, o in opened.items()})
        services = Services(
            chat=await _resolve(container.chat),
            conversations=await _resolve(container.conversations),
            memories=await _resolve(container.memories),
            forgetting=await _resolve(container.forgetting),
            analytics=await _resolve(container.analytics),
            profiles=await _resolve(container.profiles),
            portability=await _resolve(container.portability),
            transcripts=await _resolve(container.transcripts),
            clock=container.clock(),
            status=SystemStatus(
                version=package_version(),
                deployment=settings.jyntrix_deployment.value,
                database=storage.backend,
                probes=probes,
            ),
        )
        runtime = Runtime(
            settings=settings,
            services=services,
            storage=storage,
            retrieval=await _resolve(container.retrieval),
            extraction=await _resolve(container.extraction),
            emitter=await _resolve(container.emitter),
            tasks=opened["task_queue"].adapter,
            rate_limiter=opened["rate_limiter"].adapter,
            metrics=container.metrics(),
            token_counter=container.token_counter(),
            handlers=await _resolve(container.handlers),
            shutdown_resources=container.shutdown_resources,
            backends=opened,
        )
    except BaseException:
        await settle(container.shutdown_resources())
        raise
    log.info(
        "services ready: deployment=%s %s",
        settings.jyntrix_deployment.value,
        ", ".join(f"{k}={v.backend}" for k, v in opened.items()),
    )
    return runtime
