"""Retrying calls to a language model: one policy for every model adapter.

A failed request is retried with backoff when its failure may heal (429, 408, 5xx, a dropped
connection), but a stream only before its first piece of text reached the caller: after that a
retry would repeat text the user already saw. Adapters say how a driver error reads (a
`Classifier`); HTTP statuses read the same for every model API (`error_for_status`).
`GenerationSettings` are what every model adapter asks of each request, whichever API it speaks.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from typing import NamedTuple, TypeVar

import msgspec

from jyntrix_adapters.support.backoff import Backoff
from jyntrix_domain.errors import DomainError, Invalid, RateLimited, Unavailable
from jyntrix_domain.prompts import Chunk

log = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({408, 429})
"""Besides every 5xx: a timeout and a rate limit."""


class GenerationSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The answer's length and sampling, how long one request may take and how often a failed one is tried again
    (the LLM_* settings).

    Each API has its own wire name for `max_output_tokens` (OpenAI's `max_tokens`, Gemini's
    `maxOutputTokens`); the adapters translate.
    """

    max_output_tokens: int = 4096
    temperature: float = 0.7
    timeout_s: float = 60.0
    # A request failing retryably (a timeout, 429, 5xx, no connection) is tried this many times in all, the waits
    # between tries growing from `retry_initial_s` (the `backoff` below).
    max_attempts: int = 4
    retry_initial_s: float = 0.5

    @property
    def backoff(self) -> Backoff:
        return Backoff(initial_s=self.retry_initial_s, max_s=max(Backoff().max_s, self.retry_initial_s))

    def __post_init__(self) -> None:
        if self.max_output_tokens < 1:
            raise Invalid("max_output_tokens must be at least 1")
        if not 0.0 <= self.temperature <= 2.0:
            raise Invalid("temperature must be between 0 and 2")
        if not self.timeout_s > 0:
            raise Invalid("timeout_s must be positive")
        if self.max_attempts < 1:
            raise Invalid("max_attempts must be at least 1")
        if self.retry_initial_s < 0:
            raise Invalid("retry_initial_s must not be negative")


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

    @classmethod
    def asked(
        cls,
        generation: GenerationSettings,
        classify: Classifier,
        label: str,
        attempts: int | None,
        backoff: Backoff | None,
    ) -> ModelRetry:
        """The retry `generation` asks for (its `max_attempts` and `backoff`), unless `attempts` or `backoff` are
        given instead."""
        attempts = generation.max_attempts if attempts is None else attempts
        return cls(classify, max_attempts=attempts, backoff=backoff or generation.backoff, label=label)

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


class RemoteLanguageModel:
    """What every model behind an API shares: its name (`<api>/<model>`), the generation settings it asks each
    request for, the retry of its calls, and answers that may say something new."""

    api = "model"

    def __init__(self, model: str, generation: GenerationSettings, retry: ModelRetry) -> None:
        self._model = model
        self._generation = generation
        self._retry = retry

    @property
    def name(self) -> str:
        return f"{self.api}/{self._model}"

    @property
    def restates_only(self) -> bool:
        """A generative model: its answers may say something new."""
        return False
