"""Analytics: the buffered emitter, track_span, percentiles, summaries and retention."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from jyntrix_adapters.inprocess.analytics_sink import InMemoryAnalyticsSink
from jyntrix_domain.analytics import (
    AnalyticsService,
    BufferedEmitter,
    percentile,
    summarise_latency,
    summarise_strategies,
    summarise_usage,
    track_span,
)
from jyntrix_domain.chat_events import DoneEvent
from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.model import Span, SpanKind, SpanStatus, UserId, new_id
from tests.domain.kit import Kit
from testsupport.clock import ManualClock

T0 = datetime(2025, 6, 18, 12, 0, tzinfo=UTC)


class FlakySink:
    """A real in-memory sink whose next `failures` writes raise Unavailable, as a sink whose database is down."""

    def __init__(self, failures: int = 0) -> None:
        self.inner = InMemoryAnalyticsSink()
        self.failures = failures
        self.writes = 0

    async def write(self, spans: Sequence[Span]) -> None:
        self.writes += 1
        if self.failures > 0:
            self.failures -= 1
            raise Unavailable("analytics database is down")
        await self.inner.write(spans)

    async def query(
        self, since: datetime, until: datetime, user_id: UserId | None = None, kind: str | None = None
    ) -> list[Span]:
        return await self.inner.query(since, until, user_id, kind)

    async def purge(self, before: datetime) -> int:
        return await self.inner.purge(before)

    async def stored(self) -> list[Span]:
        return await self.inner.query(T0 - timedelta(days=365), T0 + timedelta(days=365))


def span(
    name: str = "retrieval",
    kind: SpanKind = SpanKind.PHASE,
    duration_ms: float = 1.0,
    status: SpanStatus = SpanStatus.OK,
    trace_id: str = "t1",
    user_id: str | None = "u1",
    started_at: datetime = T0,
    **attributes: Any,
) -> Span:
    return Span(
        id=new_id(),
        trace_id=trace_id,
        name=name,
        kind=kind,
        started_at=started_at,
        duration_ms=duration_ms,
        status=status,
        user_id=user_id,
        attributes=attributes,
    )


async def eventually(condition: Callable[[], bool], within_s: float = 5.0) -> None:
    """Poll until `condition` holds; the bound only stops a broken test from hanging."""
    deadline = time.monotonic() + within_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


async def settle() -> None:
    """Let every task that is ready run."""
    for _ in range(10):
        await asyncio.sleep(0)


# ---------------------------------------------------------------- emitter


async def test_emitter_flushes_when_ten_records_are_waiting() -> None:
    sink = FlakySink()
    emitter = BufferedEmitter(sink, batch_size=10, interval_s=3600)
    for _ in range(9):
        emitter.emit(span())
    await settle()
    assert sink.writes == 0
    assert emitter.buffered == 9
    emitter.emit(span())
    await eventually(lambda: sink.writes == 1)
    assert len(await sink.stored()) == 10
    assert emitter.buffered == 0
    assert emitter.written == 10


async def test_emitter_flushes_on_its_timer() -> None:
    sink = FlakySink()
    emitter = BufferedEmitter(sink, batch_size=10, interval_s=0.05)
    await emitter.start()
    try:
        for _ in range(3):
            emitter.emit(span())
        await eventually(lambda: emitter.written == 3)
        assert len(await sink.stored()) == 3
        emitter.emit(span())  # and again on a later tick
        await eventually(lambda: emitter.written == 4)
    finally:
        await emitter.close()


async def test_emitter_flushes_everything_on_shutdown() -> None:
    sink = FlakySink()
    emitter = BufferedEmitter(sink, batch_size=10, interval_s=3600)
    await emitter.start()
    for _ in range(25):  # two batches trigger flushes, five wait for the timer
        emitter.emit(span())
    await emitter.close()
    assert len(await sink.stored()) == 25
    assert emitter.buffered == 0


async def test_start_twice_runs_one_timer_and_close_is_idempotent() -> None:
    sink = FlakySink()
    emitter = BufferedEmitter(sink, interval_s=0.05)
    await emitter.start()
    await emitter.start()
    emitter.emit(span())
    await emitter.close()
    await emitter.close()
    assert len(await sink.stored()) == 1


async def test_a_failing_sink_keeps_the_spans_for_the_next_flush() -> None:
    sink = FlakySink(failures=2)
    emitter = BufferedEmitter(sink, batch_size=10, interval_s=3600)
    spans = [span() for _ in range(10)]
    for s in spans:
        emitter.emit(s)  # never raises, although the flush it triggers fails
    await eventually(lambda: sink.writes == 1)
    await settle()
    assert emitter.buffered == 10
    assert emitter.failed_flushes == 1
    assert emitter.last_error is not None and "down" in emitter.last_error

    await emitter.flush()  # fails again, still kept
    assert emitter.buffered == 10
    emitter.emit(span(name="later"))
    await emitter.flush()  # the sink is back
    stored = await sink.stored()
    assert len(stored) == 11
    assert {s.id for s in spans} <= {s.id for s in stored}
    assert emitter.buffered == 0
    assert emitter.dropped == 0


async def test_a_sink_that_stays_down_costs_bounded_memory_and_counts_drops() -> None:
    sink = FlakySink(failures=10**6)
    emitter = BufferedEmitter(sink, batch_size=10, interval_s=3600, max_buffer=20)
    for i in range(50):
        emitter.emit(span(name=f"s{i}"))
        await settle()
    await emitter.flush()
    assert emitter.buffered == 20
    assert emitter.dropped == 30
    # The newest spans are the ones kept.
    sink.failures = 0
    await emitter.close()
    assert sorted(s.name for s in await sink.stored()) == sorted(f"s{i}" for i in range(30, 50))


async def test_a_failing_sink_is_not_retried_on_every_emit() -> None:
    sink = FlakySink(failures=10**6)
    emitter = BufferedEmitter(sink, batch_size=10, interval_s=3600)
    for _ in range(100):
        emitter.emit(span())
        await settle()
    assert sink.writes == 1  # then it waits for the timer (an hour here) or an explicit flush


def test_emit_outside_an_event_loop_only_buffers() -> None:
    sink = FlakySink()
    emitter = BufferedEmitter(sink, batch_size=2)
    for _ in range(5):
        emitter.emit(span())
    assert emitter.buffered == 5
    asyncio.run(emitter.flush())
    assert emitter.written == 5


def test_emitter_settings_are_validated() -> None:
    with pytest.raises(Invalid):
        BufferedEmitter(FlakySink(), batch_size=0)
    with pytest.raises(Invalid):
        BufferedEmitter(FlakySink(), interval_s=0)


# ---------------------------------------------------------------- track_span


async def test_track_span_records_an_ok_span_with_attributes() -> None:
    sink = FlakySink()
    emitter = BufferedEmitter(sink)
    clock = ManualClock(T0)
    async with track_span(emitter, "vector", SpanKind.STRATEGY, "trace-1", clock, user_id="u1", limit=20) as span:
        span.attributes["hits"] = 7
        await asyncio.sleep(0)
    await emitter.close()
    [s] = await sink.stored()
    assert s.duration_ms == span.duration_ms
    assert (s.name, s.kind, s.trace_id, s.user_id, s.status) == ("vector", SpanKind.STRATEGY, "trace-1", "u1", "ok")
    assert s.started_at == T0
    assert s.duration_ms >= 0
    assert s.attributes == {"limit": 20, "hits": 7}


async def test_track_span_records_an_error_and_reraises() -> None:
    sink = FlakySink()
    emitter = BufferedEmitter(sink)
    with pytest.raises(ValueError, match="boom"):
        async with track_span(emitter, "graph", SpanKind.STRATEGY, "t", ManualClock(T0)):
            raise ValueError("boom")
    await emitter.close()
    [s] = await sink.stored()
    assert s.status is SpanStatus.ERROR
    assert s.attributes["error"] == "ValueError"


async def test_track_span_records_a_timeout_and_reraises() -> None:
    sink = FlakySink()
    emitter = BufferedEmitter(sink)
    with pytest.raises(TimeoutError):
        async with track_span(emitter, "keyword", SpanKind.STRATEGY, "t", ManualClock(T0)):
            await asyncio.wait_for(asyncio.Event().wait(), timeout=0.01)
    await emitter.close()
    [s] = await sink.stored()
    assert s.status is SpanStatus.TIMEOUT


async def test_track_span_records_a_cancelled_block_as_an_error() -> None:
    sink = FlakySink()
    emitter = BufferedEmitter(sink)
    started = asyncio.Event()

    async def work() -> None:
        async with track_span(emitter, "llm_streaming", SpanKind.PHASE, "t", ManualClock(T0)):
            started.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(work())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await emitter.close()
    [s] = await sink.stored()
    assert s.status is SpanStatus.ERROR
    assert s.attributes["error"] == "CancelledError"


async def test_track_span_without_emitter_still_yields_attributes_and_times_the_block() -> None:
    async with track_span(None, "setup", SpanKind.PHASE, "t", ManualClock(T0), a=1) as span:
        span.attributes["b"] = 2
        await asyncio.sleep(0.002)
    assert span.attributes == {"a": 1, "b": 2}
    assert span.duration_ms > 0


async def test_track_span_times_a_failed_block_too() -> None:
    with pytest.raises(ValueError, match="boom"):
        async with track_span(None, "graph", SpanKind.STRATEGY, "t", ManualClock(T0)) as span:
            await asyncio.sleep(0.002)
            raise ValueError("boom")
    assert span.duration_ms > 0


# ---------------------------------------------------------------- percentiles and summaries


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1, 2, 3, 4], 50, 2.5),
        ([1, 2, 3, 4], 0, 1.0),
        ([1, 2, 3, 4], 100, 4.0),
        ([4, 1, 3, 2], 25, 1.75),
        (list(range(1, 101)), 95, 95.05),
        (list(range(1, 101)), 99, 99.01),
        ([7.5], 99, 7.5),
    ],
)
def test_percentile_interpolates_linearly(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_rejects_no_values_and_bad_q() -> None:
    with pytest.raises(Invalid):
        percentile([], 50)
    with pytest.raises(Invalid):
        percentile([1.0], 101)


def test_latency_summary_per_kind_and_name() -> None:
    spans = [span("retrieval", duration_ms=float(d)) for d in range(1, 101)]
    spans += [span("retrieval", duration_ms=1000.0, status=SpanStatus.ERROR)]
    spans += [span("vector", SpanKind.STRATEGY, duration_ms=5.0, status=SpanStatus.TIMEOUT)]
    spans += [span("setup", duration_ms=2.0)]
    stats = summarise_latency(spans)
    assert [(s.kind, s.name) for s in stats] == [("phase", "retrieval"), ("phase", "setup"), ("strategy", "vector")]
    retrieval = stats[0]
    assert retrieval.count == 101
    assert retrieval.p50_ms == pytest.approx(51.0)
    assert retrieval.p95_ms == pytest.approx(96.0)
    assert retrieval.p99_ms == pytest.approx(100.0)
    assert retrieval.mean_ms == pytest.approx((5050 + 1000) / 101)
    assert (retrieval.errors, retrieval.timeouts) == (1, 0)
    assert (stats[2].errors, stats[2].timeouts) == (0, 1)


def test_strategy_summary_counts_hits_and_failures() -> None:
    spans = [
        span("vector", SpanKind.STRATEGY, hits=5),
        span("vector", SpanKind.STRATEGY, hits=0),
        span("vector", SpanKind.STRATEGY, status=SpanStatus.TIMEOUT),
        span("vector", SpanKind.STRATEGY, hits=2),
        span("graph", SpanKind.STRATEGY, status=SpanStatus.ERROR),
        span("retrieval", SpanKind.PHASE, hits=9),  # not a strategy
    ]
    stats = {s.name: s for s in summarise_strategies(spans)}
    assert set(stats) == {"vector", "graph"}
    v = stats["vector"]
    assert (v.runs, v.hits, v.failures, v.hit_rate, v.failure_rate) == (4, 2, 1, 0.5, 0.25)
    g = stats["graph"]
    assert (g.runs, g.hits, g.failures, g.hit_rate, g.failure_rate) == (1, 0, 1, 0.0, 1.0)


def test_usage_summary_counts_turns_users_and_tokens_once_per_trace() -> None:
    spans = [
        span("llm_streaming", trace_id="a", user_id="u1", input_tokens=100, output_tokens=20),
        span("llm_streaming", trace_id="a", user_id="u1", input_tokens=100, output_tokens=20),  # same turn
        span("llm_streaming", trace_id="b", user_id="u1", input_tokens=50, output_tokens=5),
        span("llm_streaming", trace_id="c", user_id="u2", input_tokens=10, output_tokens=1),
        span("chat_turn", trace_id="f", user_id="u5", input_tokens=7, output_tokens=7),  # no such span is written
        span("retrieval", trace_id="d", user_id="u3"),  # not a turn
        span("llm_streaming", SpanKind.STRATEGY, trace_id="e", user_id="u4", input_tokens=999),  # wrong kind
    ]
    usage = summarise_usage(spans)
    assert (usage.turns, usage.users, usage.input_tokens, usage.output_tokens) == (3, 2, 160, 26)


async def test_usage_counts_the_span_a_chat_turn_writes() -> None:
    kit = Kit()
    events = [e async for e in kit.chat.send_message_stream("u1", "Hi, I live in Lisbon.")]
    done = events[-1]
    assert isinstance(done, DoneEvent) and done.usage.input_tokens > 0
    await kit.emitter.flush()
    day = timedelta(days=1)
    usage = summarise_usage(await kit.sink.query(kit.clock.now() - day, kit.clock.now() + day))
    assert (usage.turns, usage.users) == (1, 1)
    assert (usage.input_tokens, usage.output_tokens) == (done.usage.input_tokens, done.usage.output_tokens)


def test_usage_of_nothing_is_zero() -> None:
    usage = summarise_usage([])
    assert (usage.turns, usage.users, usage.input_tokens, usage.output_tokens) == (0, 0, 0, 0)


# ---------------------------------------------------------------- service


async def test_service_summarises_a_window_for_one_user() -> None:
    sink = InMemoryAnalyticsSink()
    await sink.write(
        [
            span("retrieval", duration_ms=10, user_id="u1", started_at=T0),
            span("retrieval", duration_ms=30, user_id="u2", started_at=T0),
            span("retrieval", duration_ms=99, user_id="u1", started_at=T0 - timedelta(days=2)),  # outside
            span("vector", SpanKind.STRATEGY, user_id="u1", hits=3),
            span("llm_streaming", trace_id="x", user_id="u1", input_tokens=7, output_tokens=3),
        ]
    )
    service = AnalyticsService(sink, ManualClock(T0))
    since, until = T0 - timedelta(hours=1), T0 + timedelta(hours=1)

    latency = {s.name: s for s in await service.latency(since, until, user_id="u1")}
    assert latency["retrieval"].count == 1
    assert latency["retrieval"].p50_ms == 10
    everyone = {s.name: s for s in await service.latency(since, until)}
    assert everyone["retrieval"].count == 2

    [vector] = await service.strategies(since, until, user_id="u1")
    assert (vector.name, vector.runs, vector.hits) == ("vector", 1, 1)

    usage = await service.usage(since, until, user_id="u1")
    assert (usage.turns, usage.input_tokens, usage.output_tokens) == (1, 7, 3)

    with pytest.raises(Invalid):
        await service.latency(until, since)


async def test_purge_expired_keeps_ninety_days() -> None:
    sink = InMemoryAnalyticsSink()
    clock = ManualClock(T0)
    await sink.write(
        [
            span(name="old", started_at=T0 - timedelta(days=91)),
            span(name="edge", started_at=T0 - timedelta(days=89)),
            span(name="new", started_at=T0 - timedelta(days=1)),
        ]
    )
    service = AnalyticsService(sink, clock)
    assert await service.purge_expired() == 1
    remaining = await sink.query(T0 - timedelta(days=365), T0 + timedelta(days=1))
    assert sorted(s.name for s in remaining) == ["edge", "new"]
    clock.advance(timedelta(days=2))
    assert await service.purge_expired() == 1
