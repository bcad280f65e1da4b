"""AnalyticsSink contract: every adapter behaves the same.

The sink is shared by all users (and, on Postgres, by every test run on the server), so each
test writes its spans in a random hour of the distant past that no one else uses.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import pytest

from jyntrix_bootstrap.resources import Storage
from jyntrix_domain.model import Span, SpanKind, SpanStatus, new_id
from jyntrix_domain.ports import AnalyticsSink

HOUR = timedelta(hours=1)


@pytest.fixture
def sink(storage: Storage) -> AnalyticsSink:
    return storage.analytics


@pytest.fixture
def t0() -> datetime:
    """The start of an hour in 1900..1999 that this test has to itself."""
    return datetime(1900, 1, 1, tzinfo=UTC) + timedelta(hours=random.randrange(100 * 365 * 24))


def span(t0: datetime, seconds: float, **kw: object) -> Span:
    fields: dict[str, object] = {"trace_id": "t", "name": "retrieval", "kind": SpanKind.PHASE, "duration_ms": 12.5}
    fields.update(kw)
    return Span(id=new_id(), started_at=t0 + timedelta(seconds=seconds), **fields)  # type: ignore[arg-type]


async def test_round_trip(sink: AnalyticsSink, t0: datetime) -> None:
    s = Span(
        id=new_id(),
        trace_id=new_id(),
        name="strategy.vector",
        kind=SpanKind.STRATEGY,
        started_at=t0 + timedelta(microseconds=123456),
        duration_ms=3.25,
        status=SpanStatus.TIMEOUT,
        user_id=new_id(),
        attributes={"hits": 7, "types": ["semantic"], "nested": {"ok": False}},
    )
    await sink.write([s])
    assert await sink.query(t0, t0 + HOUR) == [s]


async def test_query_window_is_half_open_and_oldest_first(sink: AnalyticsSink, t0: datetime) -> None:
    spans = [span(t0, s) for s in (30, 0, 60, 10)]
    await sink.write(spans)
    got = await sink.query(t0, t0 + timedelta(seconds=60))
    assert [s.started_at for s in got] == [t0 + timedelta(seconds=x) for x in (0, 10, 30)]
    assert await sink.query(t0 + timedelta(seconds=61), t0 + HOUR) == []


async def test_filters_by_user_and_kind(sink: AnalyticsSink, t0: datetime) -> None:
    a, b = new_id(), new_id()
    await sink.write(
        [
            span(t0, 1, user_id=a, kind=SpanKind.PHASE),
            span(t0, 2, user_id=a, kind=SpanKind.STRATEGY),
            span(t0, 3, user_id=b, kind=SpanKind.STRATEGY),
            span(t0, 4, kind=SpanKind.TASK),
        ]
    )
    assert len(await sink.query(t0, t0 + HOUR)) == 4
    assert [s.started_at.second for s in await sink.query(t0, t0 + HOUR, user_id=a)] == [1, 2]
    assert [s.started_at.second for s in await sink.query(t0, t0 + HOUR, kind="strategy")] == [2, 3]
    assert [s.started_at.second for s in await sink.query(t0, t0 + HOUR, user_id=b, kind="strategy")] == [3]
    assert await sink.query(t0, t0 + HOUR, user_id=new_id()) == []


async def test_empty_write_and_empty_window(sink: AnalyticsSink, t0: datetime) -> None:
    await sink.write([])
    assert await sink.query(t0, t0 + HOUR) == []


async def test_writing_a_span_twice_stores_it_once(sink: AnalyticsSink, t0: datetime) -> None:
    s = span(t0, 5)
    await sink.write([s])
    await sink.write([s, s])
    assert await sink.query(t0, t0 + HOUR) == [s]


async def test_purge_deletes_only_older_spans(sink: AnalyticsSink) -> None:
    # Further back than every other test's spans, so a purge here touches only its own.
    t0 = datetime(1000, 1, 1, tzinfo=UTC) + timedelta(hours=random.randrange(100 * 365 * 24))
    old = [span(t0, s) for s in (0, 10, 20)]
    new = [span(t0, s) for s in (30, 40)]
    await sink.write(old + new)
    assert await sink.purge(t0 + timedelta(seconds=30)) >= 3
    assert await sink.query(t0, t0 + HOUR) == new
    assert await sink.purge(t0 + timedelta(seconds=30)) == 0


async def test_forget_user_forgets_that_users_spans_only(sink: AnalyticsSink, t0: datetime) -> None:
    gone, kept = new_id(), new_id()
    await sink.write([span(t0, 1, user_id=gone), span(t0, 2, user_id=kept), span(t0, 3, user_id=gone)])
    assert await sink.forget_user(gone) == 2
    assert [s.user_id for s in await sink.query(t0, t0 + HOUR)] == [kept]


async def test_unicode_attributes_round_trip(sink: AnalyticsSink, t0: datetime) -> None:
    s = span(t0, 1, name="phase.ответ", attributes={"intent": "recall", "ключ": "🔑", "big": "x" * 100_000})
    await sink.write([s])
    assert await sink.query(t0, t0 + HOUR) == [s]


async def test_concurrent_writers_lose_nothing(sink: AnalyticsSink, t0: datetime) -> None:
    batches = [[span(t0, batch * 10 + i, trace_id=str(batch)) for i in range(10)] for batch in range(20)]
    await asyncio.gather(*(sink.write(b) for b in batches))
    got = await sink.query(t0, t0 + HOUR)
    assert len(got) == 200
    assert {s.id for s in got} == {s.id for b in batches for s in b}
