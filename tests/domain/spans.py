"""Spans the analytics tests record."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jyntrix_domain.model import Span, SpanKind, SpanStatus, new_id

T0 = datetime(2025, 6, 18, 12, 0, tzinfo=UTC)


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
