"""SpanObserver contract: an observer sees spans on the request path, so it takes any span and never raises.

One param per adapter; the Prometheus one is also read back, since its figures are what an observer is for.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import generate_latest

from jyntrix_adapters.prometheus.metrics import ServerMetrics
from jyntrix_domain.analytics import BufferedEmitter
from jyntrix_domain.model import Span, SpanKind, SpanStatus, new_id
from jyntrix_domain.ports import SpanObserver


@pytest.fixture(params=["prometheus"])
def observer(request: pytest.FixtureRequest) -> Iterator[SpanObserver]:
    if request.param == "prometheus":
        yield ServerMetrics()
    else:  # pragma: no cover - a new param without a branch here is a bug in this fixture
        raise AssertionError(f"unknown span observer {request.param}")


def span(
    kind: SpanKind, name: str, status: SpanStatus = SpanStatus.OK, duration_ms: float = 1.5, **attributes: Any
) -> Span:
    return Span(
        id=new_id(),
        trace_id=new_id(),
        name=name,
        kind=kind,
        started_at=datetime.now(UTC),
        duration_ms=duration_ms,
        status=status,
        user_id="u1",
        attributes=attributes,
    )


EVERY_SPAN = [
    span(kind, name, status, duration)
    for kind, name in [(SpanKind.PHASE, "retrieval"), (SpanKind.STRATEGY, "vector"), (SpanKind.TASK, "extract")]
    for status in SpanStatus
    for duration in (0.0, 3.0, 120_000.0)
]


@pytest.mark.parametrize("seen", EVERY_SPAN, ids=lambda s: f"{s.kind.value}-{s.status.value}-{s.duration_ms}")
def test_takes_any_span_without_raising(observer: SpanObserver, seen: Span) -> None:
    observer.observe(seen)


def test_takes_odd_attributes_and_names(observer: SpanObserver) -> None:
    observer.observe(span(SpanKind.PHASE, "a phase added later", hits="many", error=None))
    observer.observe(span(SpanKind.STRATEGY, "new-strategy", SpanStatus.ERROR, error="ValueError"))


async def test_sees_every_span_the_emitter_is_given(observer: SpanObserver) -> None:
    class Sink:
        async def write(self, spans: Any) -> None:
            return None

    emitter = BufferedEmitter(Sink(), observers=[observer])  # type: ignore[arg-type]
    emitter.emit(span(SpanKind.STRATEGY, "keyword", SpanStatus.TIMEOUT))
    emitter.emit(span(SpanKind.STRATEGY, "keyword"))
    await emitter.close()
    if isinstance(observer, ServerMetrics):
        text = generate_latest(observer.registry).decode()
        assert 'jyntrix_retrieval_strategy_runs_total{outcome="timeout",strategy="keyword"} 1.0' in text
        assert 'jyntrix_retrieval_strategy_runs_total{outcome="ok",strategy="keyword"} 1.0' in text


async def test_a_failing_observer_never_breaks_the_emitter(observer: SpanObserver) -> None:
    class Broken:
        def observe(self, span: Span) -> None:
            raise RuntimeError("observer down")

    written: list[Span] = []

    class Sink:
        async def write(self, spans: Any) -> None:
            written.extend(spans)

    emitter = BufferedEmitter(Sink(), observers=[Broken(), observer])  # type: ignore[arg-type]
    emitter.emit(span(SpanKind.PHASE, "setup"))
    await emitter.close()
    assert len(written) == 1
