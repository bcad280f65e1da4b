"""Analytics: the buffered emitter and track_span (summaries and retention: test_analytics_summaries.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import pytest

from jyntrix_adapters.inprocess.analytics_sink import InMemoryAnalyticsSink
from jyntrix_domain.analytics import (
    BufferedEmitter,
    track_span,
)
from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.model import Span, SpanKind, SpanStatus, UserId
from tests.domain.spans import T0, span
from testsupport.clock import ManualClock


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
