"""The one retry policy of the language-model adapters: what is retried, and never after text streamed."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest

from jyntrix_adapters.support.backoff import Backoff
from jyntrix_adapters.support.llm_retry import (
    Failure,
    ModelRetry,
    error_for_status,
    status_failure,
    status_is_retryable,
)
from jyntrix_domain.errors import Invalid, RateLimited, Unavailable
from jyntrix_domain.prompts import Chunk, Usage


class StatusError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"status {status}")
        self.status = status


def classify(exc: BaseException) -> Failure | None:
    return status_failure(exc.status, str(exc)) if isinstance(exc, StatusError) else None


def retry(max_attempts: int = 3) -> ModelRetry:
    return ModelRetry(classify, max_attempts=max_attempts, backoff=Backoff(initial_s=0.0, max_s=0.0))


class FailingCall:
    """A call that raises StatusError(status) on its first `failures` attempts (all of them by default),
    then returns "ok"; `attempts` counts how often it was made."""

    def __init__(self, status: int, failures: int | None = None) -> None:
        self.status = status
        self.failures = failures
        self.attempts = 0

    async def __call__(self) -> str:
        self.attempts += 1
        if self.failures is None or self.attempts <= self.failures:
            raise StatusError(self.status)
        return "ok"


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(400, False), (401, False), (404, False), (408, True), (422, False), (429, True), (500, True), (503, True)],
)
def test_which_statuses_are_retried(status: int, retryable: bool) -> None:
    assert status_is_retryable(status) is retryable


def test_statuses_read_as_domain_errors() -> None:
    limited = error_for_status(429, "slow down", retry_after_s=7.0)
    assert isinstance(limited, RateLimited) and limited.retry_after_s == 7.0
    assert isinstance(error_for_status(422, "bad"), Invalid)
    assert isinstance(error_for_status(403, "bad key"), Unavailable)
    assert isinstance(error_for_status(502, "down"), Unavailable)


async def test_a_call_is_retried_until_it_succeeds() -> None:
    call = FailingCall(503, failures=2)
    assert await retry().call(call) == "ok"
    assert call.attempts == 3


async def test_a_call_that_cannot_heal_is_raised_at_once_as_a_domain_error() -> None:
    call = FailingCall(400)
    with pytest.raises(Invalid) as raised:
        await retry().call(call)
    assert isinstance(raised.value.__cause__, StatusError)
    assert call.attempts == 1


async def test_attempts_are_bounded_and_other_errors_pass_through() -> None:
    down = FailingCall(500)
    with pytest.raises(Unavailable):
        await retry(max_attempts=2).call(down)
    assert down.attempts == 2

    async def bug() -> str:
        raise KeyError("not the backend's")

    with pytest.raises(KeyError):
        await retry().call(bug)


async def test_a_stream_is_retried_before_its_first_text_but_not_after() -> None:
    opened: list[int] = []

    async def fails_before_text() -> AsyncGenerator[Chunk, None]:
        opened.append(1)
        if len(opened) == 1:
            raise StatusError(429)
        yield Chunk(text="Hello")
        yield Chunk(usage=Usage(input_tokens=1, output_tokens=1))

    assert [c.text async for c in retry().stream(fails_before_text)] == ["Hello", ""]
    assert len(opened) == 2

    opened.clear()
    seen: list[str] = []

    async def fails_after_text() -> AsyncGenerator[Chunk, None]:
        opened.append(1)
        yield Chunk(text="Hel")
        raise StatusError(503)

    with pytest.raises(Unavailable):
        async for chunk in retry().stream(fails_after_text):
            seen.append(chunk.text)
    assert seen == ["Hel"]
    assert len(opened) == 1
