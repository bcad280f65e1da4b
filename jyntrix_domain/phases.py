"""A chat turn's phases, each timed as a span, their durations kept for the turn's `done` event."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from jyntrix_domain.analytics import BufferedEmitter, track_span
from jyntrix_domain.model import SpanKind, UserId
from jyntrix_domain.ports import Clock


class Phases:
    """Times each phase as a span and keeps the durations for the `done` event."""

    def __init__(self, emitter: BufferedEmitter | None, clock: Clock, trace_id: str, user_id: UserId) -> None:
        self._emitter = emitter
        self._clock = clock
        self._trace_id = trace_id
        self._user_id = user_id
        self.timings: dict[str, float] = {}

    @asynccontextmanager
    async def span(self, name: str, **attributes: Any) -> AsyncIterator[dict[str, Any]]:
        span = None
        try:
            async with track_span(
                self._emitter,
                name,
                SpanKind.PHASE,
                self._trace_id,
                self._clock,
                user_id=self._user_id,
                **attributes,
            ) as span:
                yield span.attributes
        finally:
            if span is not None:
                self.timings[name] = round(span.duration_ms, 3)
