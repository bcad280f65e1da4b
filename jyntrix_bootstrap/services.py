"""What the wiring hands out: the use-case services routes call, and the opened runtime behind them."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from jyntrix_adapters.prometheus.metrics import ServerMetrics
from jyntrix_bootstrap.background import Background, start_background
from jyntrix_bootstrap.resources import Opened, Storage
from jyntrix_bootstrap.settings import Settings
from jyntrix_domain.analytics import AnalyticsService, BufferedEmitter
from jyntrix_domain.chat import ChatService
from jyntrix_domain.conversations import ConversationService
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.forgetting import ForgetService
from jyntrix_domain.memories import MemoryService
from jyntrix_domain.portability import PortabilityService
from jyntrix_domain.ports import Clock, RateLimiter, TaskQueue, TokenCounter
from jyntrix_domain.profiles import ProfileService
from jyntrix_domain.retrieval import RetrievalService
from jyntrix_domain.tasks import TaskHandler, TaskMessage
from jyntrix_domain.transcripts import TranscriptService


def package_version() -> str:
    try:
        return version("jyntrix")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class SystemStatus:
    """What the index and readiness routes show: version, deployment, and each backend to ping."""

    version: str
    deployment: str
    database: str
    probes: dict[str, tuple[str, object]]
    """name -> (backend label, adapter with an optional async ping())."""


@dataclass(frozen=True)
class Services:
    """The use cases the HTTP routes call: domain services only, no store or adapter."""

    chat: ChatService
    conversations: ConversationService
    memories: MemoryService
    forgetting: ForgetService
    analytics: AnalyticsService
    profiles: ProfileService
    transcripts: TranscriptService
    portability: PortabilityService
    clock: Clock
    status: SystemStatus

    @property
    def version(self) -> str:
        return self.status.version

    @property
    def deployment(self) -> str:
        return self.status.deployment


@dataclass
class Runtime:
    """Everything `build_services` opened: the services, the adapters under them, and how to close them."""

    settings: Settings
    services: Services
    storage: Storage
    retrieval: RetrievalService
    extraction: ExtractionService
    emitter: BufferedEmitter
    tasks: TaskQueue
    rate_limiter: RateLimiter
    metrics: ServerMetrics
    token_counter: TokenCounter
    handlers: Callable[[TaskQueue], dict[type[TaskMessage], TaskHandler]]
    """The task handlers bound to a queue: the in-process queue's, and a dramatiq worker's (jyntrix_bootstrap.worker)
    from the same wiring."""
    shutdown_resources: Callable[[], Any]
    """The container's: closes what it opened, in reverse dependency order (awaitable when any resource is async)."""
    backends: dict[str, Opened] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return self.services.version

    async def warm(self) -> None:
        """Load the embedding model (building it on first start) so that no request pays for it."""
        warm = getattr(self.backends["embedder"].adapter, "warm", None)
        if warm is not None:
            await warm()

    async def start_background(self) -> Background:
        """Start extraction recovery and the daily purge on this runtime's queue (see background.start_background):
        the API process calls it when it runs the handlers itself, the dramatiq worker always."""
        return await start_background(self.settings, self.storage.ledger, self.tasks, self.services.clock)

    async def aclose(self) -> None:
        """Close everything, in reverse dependency order; analytics are flushed on the way."""
        await settle(self.shutdown_resources())


async def settle(value: Any) -> Any:
    """Await `value` when it is awaitable: dependency-injector answers synchronously when nothing is async."""
    if inspect.isawaitable(value):
        value = await value
    return value
