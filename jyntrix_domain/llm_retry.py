"""Retrying calls to a language model: one policy for every model adapter.

A failed request is retried with backoff when its failure may heal (429, 408, 5xx, a dropped
connection), but a stream only before its first piece of text reached the caller: after that a
retry would repeat text the user already saw. Adapters say how a driver error reads (a
`Classifier`); HTTP statuses read the same for every model API (`error_for_status`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from typing import NamedTuple, TypeVar

from jyntrix_domain.backoff import Backoff
from jyntrix_domain.errors import DomainError, Invalid, RateLimited, Unavailable
from jyntrix_domain.model import Chunk

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 429})
"""Besides every 5xx: a timeout and a rate limit."""


class Failure(NamedTuple):
    """How a failed call reads: the domain error to raise, and whether another attempt may succeed."""

    error: DomainError
    retryable: bool


Classifier = Callable[[BaseException], Failure | None]
"""A driver error as a Failure; None for errors that are not the backend's (raised as they are)."""


def status_is_retryable(status: int) -> bool:
    return status in RETRYABLE_STATUSES or status >= 500


def error_for_status(status: int, message: str, retry_after_s: float = 1.0) -> DomainError:
    """The domain error of an HTTP status from a model API."""
    if status == 429:
        return RateLimited(message, retry_after_s=retry_after_s)
    if status in (400, 404, 422):
        return Invalid(message)
    # 401/403 (a bad key), 408, 5xx: the service is not usable right now, not the caller's fault
    return Unavailable(message)


def status_failure(status: int, message: str, retry_after_s: float = 1.0) -> Failure:
    return Failure(error_for_status(status, message, retry_after_s), status_is_retryable(status))


class ModelRetry:
    """Runs a model call up to `max_attempts` times, waiting `backoff` between attempts."""

    def __init__(
        self, classify: Classifier, *, max_attempts: int = 4, backoff: Backoff | None = None, label: str = "model"
    ) -> None:
        self._classify = classify
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff or Backoff()
        self._label = label

    async def call(self, call: Callable[[], Awaitable[T]]) -> T:
        """The result of `call()`, retried while its failures are retryable; else the domain error."""
        attempt = 1
        while True:
            try:
                return await call()
            except Exception as exc:
                failure = self._failure(exc, attempt, streamed=False)
            await self._wait(attempt, failure.error)
            attempt += 1

    async def stream(self, open_stream: Callable[[], AsyncGenerator[Chunk, None]]) -> AsyncGenerator[Chunk, None]:
        """The chunks of `open_stream()`, opened again after a retryable failure that came before any text."""
        attempt = 1
        while True:
            streamed = False
            try:
                async with aclosing(open_stream()) as chunks:
                    async for chunk in chunks:
                        streamed = streamed or bool(chunk.text)
                        yield chunk
                return
            except Exception as exc:
                failure = self._failure(exc, attempt, streamed=streamed)
            await self._wait(attempt, failure.error)
            attempt += 1

    def _failure(self, exc: Exception, attempt: int, *, streamed: bool) -> Failure:
        """The failure to retry after; raises when there is nothing to retry."""
        failure = self._classify(exc)
        if failure is None:
            raise exc
        if streamed or not failure.retryable or attempt >= self._max_attempts:
            raise failure.error from exc
        return failure

    async def _wait(self, attempt: int, error: DomainError) -> None:
        delay = self._backoff.delay(attempt, error)
        log.info("%s attempt %d failed (%s); retrying in %.2f s", self._label, attempt, error, delay)
        await asyncio.sleep(delay)
