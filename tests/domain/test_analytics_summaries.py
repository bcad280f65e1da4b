"""Analytics: percentiles, the latency, strategy and usage summaries, and the service's window and retention."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jyntrix_adapters.inprocess.analytics_sink import InMemoryAnalyticsSink
from jyntrix_domain.analytics import (
    AnalyticsService,
    percentile,
    summarise_latency,
    summarise_strategies,
    summarise_usage,
)
from jyntrix_domain.chat_events import DoneEvent
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import SpanKind, SpanStatus
from tests.domain.kit import Kit
from tests.domain.spans import T0, span
from testsupport.clock import ManualClock

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
