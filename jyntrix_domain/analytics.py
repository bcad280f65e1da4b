"""Analytics: timed spans, a buffered emitter that writes them in batches, and their summaries.

Attributes the summaries read (written by ChatService and RetrievalService):

- strategy spans (kind ``strategy``: vector, keyword, graph, profile, recent): ``hits``, the number
  of memories the strategy found; a run with ``hits > 0`` is a hit, a run whose status is not
  ``ok`` is a failure.
- usage: the phase span ``llm_streaming`` that ChatService writes once per turn carries
  ``input_tokens`` and ``output_tokens``. A turn is one trace id, counted once.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import msgspec

from jyntrix_domain.asyncio_tasks import stop_task
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import Span, SpanKind, SpanStatus, UserId, new_id
from jyntrix_domain.ports import AnalyticsSink, Clock, SpanObserver

log = logging.getLogger(__name__)

_MAX_FORGOTTEN = 10_000  # the most recent forgets remembered; a turn in flight is far younger than that many
USAGE_SPAN = "llm_streaming"
"""The phase span of a chat turn that carries its token usage."""


class BufferedEmitter:
    """Collects spans and writes them to the sink in batches.

    A batch is written when `batch_size` spans are waiting, every `interval_s` seconds once
    `start()` ran, and on `close()`. When the sink fails, the spans stay buffered for the next
    flush; past `max_buffer` spans the oldest are dropped and counted in `dropped`, so a sink
    that stays down costs bounded memory and never an error in the caller.

    Each `observers` entry sees every span as it is emitted, before the forgotten-user filter (an
    observer keeps aggregate figures, such as Prometheus metrics, with no user in them).
    """

    def __init__(
        self,
        sink: AnalyticsSink,
        batch_size: int = 10,
        interval_s: float = 10.0,
        max_buffer: int = 10_000,
        *,
        observers: Sequence[SpanObserver] = (),
    ) -> None:
        if batch_size < 1 or interval_s <= 0 or max_buffer < batch_size:
            raise Invalid("batch_size >= 1, interval_s > 0 and max_buffer >= batch_size are required")
        self._sink = sink
        self._observers = tuple(observers)
        self._batch_size = batch_size
        self._interval_s = interval_s
        self._max_buffer = max_buffer
        self._buffer: deque[Span] = deque()
        self._lock = asyncio.Lock()
        self._timer: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._retry_after = 0.0  # perf_counter time before which a full buffer does not trigger a flush
        # When each user was forgotten: their spans that started before it (a turn in flight) are dropped.
        self._forgotten: dict[UserId, datetime] = {}
        self._dead_traces: dict[str, None] = {}  # traces of forgotten users: their later spans go too
        self.dropped = 0
        self.written = 0
        self.failed_flushes = 0
        self.last_error: str | None = None

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    async def start(self) -> None:
        """Start the periodic flush; calling it again does nothing."""
        if self._timer is None or self._timer.done():
            self._timer = asyncio.create_task(self._tick(), name="analytics-flush")

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            await self.flush()

    async def forget(self, user_id: UserId, at: datetime) -> None:
        """Drop the user's buffered spans, after any write in progress, and those that started before `at`."""
        async with self._lock:
            self._forgotten.pop(user_id, None)
            self._forgotten[user_id] = at
            while len(self._forgotten) > _MAX_FORGOTTEN:
                del self._forgotten[next(iter(self._forgotten))]
            for span in self._buffer:
                if span.user_id == user_id:
                    self._bury(span.trace_id)
            self._buffer = deque(s for s in self._buffer if s.user_id != user_id)

    def _bury(self, trace_id: str) -> None:
        self._dead_traces[trace_id] = None
        while len(self._dead_traces) > _MAX_FORGOTTEN:
            del self._dead_traces[next(iter(self._dead_traces))]

    def emit(self, span: Span) -> None:
        """Buffer a span; never blocks and never raises because of the sink or an observer."""
        for observer in self._observers:
            try:
                observer.observe(span)
            except Exception:  # monitoring must never break the request that is being measured
                log.exception("span observer %s failed", type(observer).__name__)
        forgotten = self._forgotten.get(span.user_id) if span.user_id is not None else None
        if span.trace_id in self._dead_traces or (forgotten is not None and span.started_at <= forgotten):
            self._bury(span.trace_id)
            return
        self._buffer.append(span)
        self._trim()
        if len(self._buffer) >= self._batch_size and not self._pending and time.perf_counter() >= self._retry_after:
            try:
                task = asyncio.get_running_loop().create_task(self._write(whole=False))
            except RuntimeError:  # no running loop: the next flush takes it
                return
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    def _trim(self) -> None:
        while len(self._buffer) > self._max_buffer:
            self._buffer.popleft()
            self.dropped += 1

    async def flush(self) -> None:
        """Write everything buffered; on failure keep it for the next flush."""
        await self._write(whole=True)

    async def _write(self, *, whole: bool) -> None:
        """Write what is buffered, in one batch while the spans keep coming; without `whole`, only while a
        batch is full (the flush an emit starts does not chase spans that trickle in: a write costs a
        transaction however few it holds)."""
        async with self._lock:
            while self._buffer and (whole or len(self._buffer) >= self._batch_size):
                batch = list(self._buffer)
                self._buffer.clear()
                try:
                    await self._sink.write(batch)
                except Exception as exc:  # the sink being down must not break the request path
                    self.failed_flushes += 1
                    self.last_error = f"{type(exc).__name__}: {exc}"
                    log.warning("analytics flush of %d spans failed, kept for retry: %s", len(batch), exc)
                    self._buffer.extendleft(reversed(batch))
                    self._trim()
                    # Leave a failing sink alone until the next tick instead of retrying on every emit.
                    self._retry_after = time.perf_counter() + self._interval_s
                    return
                self.written += len(batch)

    async def close(self) -> None:
        """Stop the timer and write what is left: nothing is lost on a clean stop with a working sink."""
        await stop_task(self._timer)
        self._timer = None
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self.flush()
        if self._buffer:
            log.error("analytics: %d spans could not be written at shutdown: %s", len(self._buffer), self.last_error)


class OpenSpan:
    """A span being timed: attributes to record, and its duration once the block has ended."""

    __slots__ = ("attributes", "duration_ms")

    def __init__(self, attributes: dict[str, Any]) -> None:
        self.attributes = attributes
        self.duration_ms = 0.0


@asynccontextmanager
async def track_span(
    emitter: BufferedEmitter | None,
    name: str,
    kind: SpanKind,
    trace_id: str,
    clock: Clock,
    user_id: UserId | None = None,
    **attributes: Any,
) -> AsyncIterator[OpenSpan]:
    """Time the block as a span; the yielded span's `attributes` are recorded with it.

    When the block ends, however it ends, `duration_ms` holds its elapsed time: callers read it
    instead of timing the block again. Status is ``timeout`` for TimeoutError, ``error`` for any
    other exception (including cancellation); the exception always propagates. With no emitter
    nothing is recorded, but the block is still timed.
    """
    span = OpenSpan(dict(attributes))
    started_at = clock.now()
    started = time.perf_counter()
    status = SpanStatus.OK
    try:
        yield span
    except TimeoutError:
        status = SpanStatus.TIMEOUT
        raise
    except BaseException as exc:
        status = SpanStatus.ERROR
        span.attributes.setdefault("error", type(exc).__name__)
        raise
    finally:
        span.duration_ms = (time.perf_counter() - started) * 1000.0
        if emitter is not None:
            emitter.emit(
                Span(
                    id=new_id(),
                    trace_id=trace_id,
                    name=name,
                    kind=kind,
                    started_at=started_at,
                    duration_ms=span.duration_ms,
                    status=status,
                    user_id=user_id,
                    attributes=span.attributes,
                )
            )


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks (numpy's default)."""
    if not values:
        raise Invalid("percentile of no values")
    if not 0 <= q <= 100:
        raise Invalid(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    lo = math.floor(rank)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


class LatencyStats(msgspec.Struct, kw_only=True):
    name: str
    kind: str
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    errors: int
    timeouts: int


class StrategyStats(msgspec.Struct, kw_only=True):
    name: str
    runs: int
    hits: int
    failures: int
    hit_rate: float
    failure_rate: float


class UsageStats(msgspec.Struct, kw_only=True):
    turns: int
    users: int
    input_tokens: int
    output_tokens: int


def _int_attr(span: Span, key: str) -> int:
    value = span.attributes.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value)


def summarise_latency(spans: Iterable[Span]) -> list[LatencyStats]:
    """Percentiles per (kind, name), ordered by kind then name."""
    groups: dict[tuple[str, str], list[Span]] = {}
    for s in spans:
        groups.setdefault((s.kind.value, s.name), []).append(s)
    out = []
    for (kind, name), group in sorted(groups.items()):
        durations = [s.duration_ms for s in group]
        out.append(
            LatencyStats(
                name=name,
                kind=kind,
                count=len(group),
                p50_ms=percentile(durations, 50),
                p95_ms=percentile(durations, 95),
                p99_ms=percentile(durations, 99),
                mean_ms=math.fsum(durations) / len(durations),
                errors=sum(1 for s in group if s.status is SpanStatus.ERROR),
                timeouts=sum(1 for s in group if s.status is SpanStatus.TIMEOUT),
            )
        )
    return out


def summarise_strategies(spans: Iterable[Span]) -> list[StrategyStats]:
    """Hit and failure rates per retrieval strategy, by name; other kinds of span are ignored."""
    groups: dict[str, list[Span]] = {}
    for s in spans:
        if s.kind is SpanKind.STRATEGY:
            groups.setdefault(s.name, []).append(s)
    out = []
    for name, group in sorted(groups.items()):
        runs = len(group)
        hits = sum(1 for s in group if _int_attr(s, "hits") > 0)
        failures = sum(1 for s in group if s.status is not SpanStatus.OK)
        out.append(
            StrategyStats(
                name=name, runs=runs, hits=hits, failures=failures, hit_rate=hits / runs, failure_rate=failures / runs
            )
        )
    return out


def summarise_usage(spans: Iterable[Span]) -> UsageStats:
    """Turns, distinct users and token totals from the USAGE_SPAN phase spans, one per trace."""
    per_trace: dict[str, Span] = {}
    for s in spans:
        if s.name == USAGE_SPAN and s.kind is SpanKind.PHASE:
            per_trace.setdefault(s.trace_id, s)
    users = {s.user_id for s in per_trace.values() if s.user_id is not None}
    return UsageStats(
        turns=len(per_trace),
        users=len(users),
        input_tokens=sum(_int_attr(s, "input_tokens") for s in per_trace.values()),
        output_tokens=sum(_int_attr(s, "output_tokens") for s in per_trace.values()),
    )


class AnalyticsService:
    """Latency, strategy and usage summaries over a time window, and retention."""

    def __init__(self, sink: AnalyticsSink, clock: Clock, retention_days: int = 90) -> None:
        if retention_days < 1:
            raise Invalid("retention_days must be at least 1")
        self._sink = sink
        self._clock = clock
        self._retention = timedelta(days=retention_days)

    async def _spans(
        self, since: datetime, until: datetime, user_id: UserId | None, kind: SpanKind | None = None
    ) -> list[Span]:
        if since >= until:
            raise Invalid("`since` must be before `until`")
        return await self._sink.query(since, until, user_id=user_id, kind=kind.value if kind else None)

    async def latency(self, since: datetime, until: datetime, user_id: UserId | None = None) -> list[LatencyStats]:
        return summarise_latency(await self._spans(since, until, user_id))

    async def strategies(self, since: datetime, until: datetime, user_id: UserId | None = None) -> list[StrategyStats]:
        return summarise_strategies(await self._spans(since, until, user_id, SpanKind.STRATEGY))

    async def usage(self, since: datetime, until: datetime, user_id: UserId | None = None) -> UsageStats:
        return summarise_usage(await self._spans(since, until, user_id))

    async def purge_expired(self) -> int:
        """Delete spans older than the retention period; return how many."""
        return await self._sink.purge(self._clock.now() - self._retention)
