"""In-process TaskQueue: background asyncio tasks with a concurrency limit, retries and a dead-letter list."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import msgspec

from jyntrix_adapters.inprocess.clock import SystemClock
from jyntrix_adapters.support.backoff import Backoff
from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.ports import Clock
from jyntrix_domain.tasks import (
    DeadLetter,
    Handlers,
    QueueStats,
    TaskHandler,
    TaskMessage,
    decode_task,
    encode_task,
    is_retryable,
    task_builtins,
)

log = logging.getLogger(__name__)


class InProcessQueueConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How the in-process queue runs tasks: at most `concurrency` at once, `max_retries` retries each.

    The defaults suit the embedded deployment, where the handlers share the API's process.
    """

    concurrency: int = 2
    max_retries: int = 3
    backoff_s: float = 0.5
    max_backoff_s: float = 30.0

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise Invalid("concurrency must be at least 1")
        if self.max_retries < 0:
            raise Invalid("max_retries must not be negative")


class _Job:
    __slots__ = ("body", "key", "name", "running", "scheduled")

    def __init__(self, task: TaskMessage, delay_s: float) -> None:
        # Kept encoded, as a broker would: what runs is what decodes, never the caller's object.
        self.body = encode_task(task)
        self.key = task.key
        self.name = task.type_name()
        self.running = False
        # Waiting for its time (an idle session's summary): not work the queue has in hand yet.
        self.scheduled = delay_s > 0


class InProcessTaskQueue:
    """Runs each enqueued task's handler in this process, off the caller's path.

    A task is attempted up to 1 + `max_retries` times, waiting `backoff_s * 2**n` (capped at
    `max_backoff_s`, with jitter) between attempts; then it lands in `dead_letters`. An error that
    `is_retryable` refuses (Invalid, Forbidden...) dead-letters it at once.
    At most `concurrency` handlers run at once. A task whose key is already pending or running
    is dropped: handlers are idempotent, so the duplicate would add nothing.

    `handlers` may be a function of the queue itself, for handlers that enqueue follow-up work on it
    (an extraction schedules its conversation's summary).
    """

    def __init__(
        self,
        handlers: Handlers | Callable[[InProcessTaskQueue], Handlers],
        config: InProcessQueueConfig | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        config = config or InProcessQueueConfig()
        self._handlers = dict(handlers(self) if callable(handlers) else handlers)
        self._types = tuple(self._handlers)
        self._max_retries = config.max_retries
        # Wider jitter than for model calls: a backend blip fails many tasks at once.
        self._backoff_policy = Backoff(initial_s=config.backoff_s, max_s=config.max_backoff_s, jitter=0.5)
        self._clock = clock or SystemClock()
        self._slots = asyncio.Semaphore(config.concurrency)
        self._jobs: dict[asyncio.Task[None], _Job] = {}
        self._keys: set[str] = set()
        self._dead: list[DeadLetter] = []
        self._closed = False

    @property
    def dead_letters(self) -> list[DeadLetter]:
        """Tasks that failed for good, oldest first."""
        return list(self._dead)

    @property
    def pending(self) -> int:
        """Tasks waiting, backing off or running."""
        return len(self._jobs)

    @property
    def scheduled(self) -> int:
        """Tasks waiting for their later time (counted in `pending` too)."""
        return sum(job.scheduled for job in self._jobs.values())

    async def stats(self) -> QueueStats:
        return QueueStats(depth=len(self._jobs), dead_letters=len(self._dead))

    async def enqueue(self, task: TaskMessage, delay_s: float = 0.0) -> None:
        if self._closed:
            raise Unavailable("the task queue is closed")
        if type(task) not in self._handlers:
            raise Invalid(f"no handler for task {type(task).__name__}")
        if delay_s < 0:
            raise Invalid("delay_s must not be negative")
        if task.key in self._keys:
            log.debug("dropping duplicate task %s key=%s", task.type_name(), task.key)
            return
        job = _Job(task, delay_s)
        self._keys.add(job.key)
        runner = asyncio.create_task(self._run(job, delay_s), name=f"task:{job.name}:{job.key}")
        self._jobs[runner] = job
        runner.add_done_callback(self._forget)

    async def drain(self, *, scheduled: bool = True) -> None:
        """Wait until every task enqueued so far (and any they enqueue) has succeeded or dead-lettered; with
        `scheduled` False, not for those still waiting for their later time (`delay_s`, an idle session's
        summary half an hour away)."""
        # asyncio.wait, unlike gather, leaves the tasks running if the caller is cancelled.
        while in_hand := [runner for runner, job in self._jobs.items() if scheduled or not job.scheduled]:
            await asyncio.wait(in_hand)

    async def close(self) -> None:
        """Refuse new tasks, wait for running handlers, and drop tasks still waiting for their turn.

        Dropped tasks are logged; call drain() first to run everything before shutting down.
        """
        self._closed = True
        for runner, job in list(self._jobs.items()):
            if not job.running:
                log.warning("task queue closing: dropping %s key=%s", job.name, job.key)
                runner.cancel()
        if self._jobs:
            await asyncio.wait(list(self._jobs))

    async def _run(self, job: _Job, delay_s: float) -> None:
        if delay_s > 0:
            await asyncio.sleep(delay_s)
            job.scheduled = False
        attempt = 0
        while True:
            attempt += 1
            error = await self._attempt(job)
            if error is None:
                return
            log.warning("task %s key=%s failed (attempt %d): %s", job.name, job.key, attempt, _describe(error))
            if not is_retryable(error) or attempt > self._max_retries:
                self._bury(job, attempt, error)
                return
            if self._closed:
                log.warning("task queue closing: not retrying %s key=%s", job.name, job.key)
                return
            await asyncio.sleep(self._backoff_policy.delay(attempt))

    async def _attempt(self, job: _Job) -> Exception | None:
        """Decode the task and run its handler once within a concurrency slot; the error when it failed."""
        async with self._slots:
            job.running = True
            try:
                task = decode_task(job.body, self._types)
                handler: TaskHandler = self._handlers[type(task)]
                await handler(task)
            except Exception as exc:
                return exc
            finally:
                job.running = False
        return None

    def _bury(self, job: _Job, attempts: int, error: Exception) -> None:
        try:
            task = decode_task(job.body, self._types)
        except Invalid:
            task = None
        self._dead.append(
            DeadLetter(
                key=job.key,
                task=task,
                attempts=attempts,
                error=_describe(error),
                failed_at=self._clock.now(),
                payload=task_builtins(task) if task is not None else {},
            )
        )
        log.error("task %s key=%s dead-lettered after %d attempts", job.name, job.key, attempts)

    def _forget(self, runner: asyncio.Task[None]) -> None:
        job = self._jobs.pop(runner, None)
        if job is not None:
            self._keys.discard(job.key)
        if not runner.cancelled() and runner.exception() is not None:
            log.error("task runner crashed", exc_info=runner.exception())


def _describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
