"""Prometheus metrics of one process, in a registry of its own (several apps in one test process never mix).

`ServerMetrics` is a SpanObserver: the spans the domain already times (chat phases, retrieval strategies) become
histograms and outcome counters without the domain knowing of Prometheus. `MeteredEmbedder` wraps the Embedder
port to see the batch sizes the model gets. `QueueCollector` reads the task queue and the task ledger at scrape
time. Labels hold route templates, phase and strategy names and outcomes: never a user, a path or an id, so their
number is bounded by the code.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from jyntrix_domain.model import Span, SpanKind, SpanStatus, UserId, Vector
from jyntrix_domain.ports import Clock, Embedder, TaskLedger, TaskQueueStats

log = logging.getLogger(__name__)

# Seconds: a strategy answers in a millisecond or two and times out at RETRIEVAL_TIMEOUT_S (1 s by default);
# a chat phase runs up to the model's whole answer.
_FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_SLOW_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
PENDING_BATCHES_CAP = 1000
"""The most pending extraction batches a scrape counts (the gauge reads at least this many beyond it)."""


class ServerMetrics:
    """The process's series; `registry` is what the metrics endpoint serves."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = self._counter(
            "jyntrix_http_requests",
            "HTTP requests answered, by method, route template and status",
            "method",
            "route",
            "status",
        )
        self.request_seconds = self._histogram(
            "jyntrix_http_request_duration_seconds",
            "Time to answer an HTTP request (a stream: until its last event), by method and route template",
            _SLOW_BUCKETS,
            "method",
            "route",
        )
        self.phase_seconds = self._histogram(
            "jyntrix_chat_phase_duration_seconds", "Duration of each phase of a chat turn", _SLOW_BUCKETS, "phase"
        )
        self.strategy_seconds = self._histogram(
            "jyntrix_retrieval_strategy_duration_seconds",
            "Duration of each retrieval strategy of a chat turn or a search",
            _FAST_BUCKETS,
            "strategy",
        )
        self.strategy_runs = self._counter(
            "jyntrix_retrieval_strategy_runs",
            "Retrieval strategy runs by outcome: ok, timeout (skipped after RETRIEVAL_TIMEOUT_S) or error",
            "strategy",
            "outcome",
        )
        self.embed_batch = self._histogram(
            "jyntrix_embedder_batch_size",
            "Texts per call to the embedding model (query: one query embedded on a cache miss)",
            _BATCH_BUCKETS,
            "call",
        )

    def _counter(self, name: str, documentation: str, *labels: str) -> Counter:
        return Counter(name, documentation, labels, registry=self.registry)

    def _histogram(self, name: str, documentation: str, buckets: Sequence[float], *labels: str) -> Histogram:
        return Histogram(name, documentation, labels, buckets=buckets, registry=self.registry)

    def observe(self, span: Span) -> None:
        """SpanObserver: chat phases and retrieval strategies; other spans are not metrics."""
        seconds = span.duration_ms / 1000.0
        if span.kind is SpanKind.PHASE:
            self.phase_seconds.labels(span.name).observe(seconds)
        elif span.kind is SpanKind.STRATEGY:
            self.strategy_seconds.labels(span.name).observe(seconds)
            outcome = span.status.value if isinstance(span.status, SpanStatus) else "error"
            self.strategy_runs.labels(span.name, outcome).inc()

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.request_seconds.labels(method, route).observe(seconds)

    def observe_batch(self, call: str, size: int) -> None:
        self.embed_batch.labels(call).observe(size)

    def watch(self, collector: Collector) -> None:
        """Add a scrape-time collector (QueueCollector) to this registry."""
        self.registry.register(collector)


class MeteredEmbedder:
    """An Embedder that records the size of each batch it passes to the one it wraps."""

    def __init__(self, inner: Embedder, metrics: ServerMetrics) -> None:
        self._inner = inner
        self._metrics = metrics

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        self._metrics.observe_batch("embed", len(texts))
        return await self._inner.embed(texts)

    async def embed_query(self, text: str, *, user_id: UserId | None = None) -> Vector:
        self._metrics.observe_batch("query", 1)
        return await self._inner.embed_query(text, user_id=user_id)


class QueueCollector(Collector):
    """Gauges read at scrape time from the task queue (depth, dead letters) and the ledger (pending batches).

    The ports are async and live on the app's event loop; the metrics endpoint scrapes from its own thread, so
    each read runs on `loop` and is waited for at most `timeout_s`. A read that fails or is late leaves its
    gauge out of that scrape (and is logged), rather than failing the scrape or reporting a stale value.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        queue: TaskQueueStats | None,
        ledger: TaskLedger | None,
        clock: Clock,
        timeout_s: float = 2.0,
    ) -> None:
        self._loop = loop
        self._queue = queue
        self._ledger = ledger
        self._clock = clock
        self._timeout_s = timeout_s

    def collect(self) -> Iterator[Metric]:
        if self._queue is not None:
            stats = self._read("task queue", self._queue.stats)
            if stats is not None:
                yield _gauge("jyntrix_task_queue_depth", "Tasks waiting, delayed for a retry or running", stats.depth)
                yield _gauge(
                    "jyntrix_task_dead_letters",
                    "Tasks that failed for good and wait for an operator",
                    stats.dead_letters,
                )
        if self._ledger is not None:
            ledger = self._ledger
            pending = self._read("task ledger", lambda: ledger.unfinished(self._clock.now(), limit=PENDING_BATCHES_CAP))
            if pending is not None:
                yield _gauge(
                    "jyntrix_extraction_batches_pending",
                    f"Extraction batches not yet extracted, every user (counted up to {PENDING_BATCHES_CAP})",
                    len(pending),
                )

    def _read(self, what: str, read: Callable[[], Awaitable[Any]]) -> Any:
        if self._loop.is_closed():
            return None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:  # waiting here for the loop would wait for ourselves
            log.warning("metrics: %s not read: the scrape ran on the event loop it reads from", what)
            return None

        async def call() -> Any:
            return await read()

        future = asyncio.run_coroutine_threadsafe(call(), self._loop)
        try:
            return future.result(self._timeout_s)
        except Exception as exc:  # a scrape must answer even when a backend is down
            future.cancel()
            log.warning("metrics: could not read the %s: %s", what, exc)
            return None


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)
