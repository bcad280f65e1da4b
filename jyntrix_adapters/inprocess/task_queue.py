"""In-process TaskQueue: background asyncio tasks with a concurrency limit, retries and a dead-letter list."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

import msgspec

from jyntrix_adapters.inprocess.clock import SystemClock
from jyntrix_domain.backoff import Backoff
from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.model import Task
from jyntrix_domain.ports import Clock, TaskHandler

log = logging.getLogger(__name__)


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """A task that failed on every attempt, kept in view (health checks, operators, tests)."""

    task: Task
    attempts: int
    error: str
    failed_at: datetime


class _Job:
    __slots__ = ("running", "task")

    def __init__(self, task: Task) -> None:
        self.task = task
        self.running = False


class InProcessTaskQueue:
    """Runs each enqueued task's handler in this process, off the caller's path.

    A task is attempted up to 1 + `max_retries` times, waiting `backoff_s * 2**n` (capped at
    `max_backoff_s`, with jitter) between attempts; then it lands in `dead_letters`.
    At most `concurrency` handlers run at once. A task whose key is already pending or running
    is dropped: handlers are idempotent, so the duplicate would add nothing.
    """

    def __init__(
        self,
        handlers: Mapping[str, TaskHandler],
        *,
        concurrency: int = 4,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        if concurrency < 1:
            raise Invalid("concurrency must be at least 1")
        if max_retries < 0:
            raise Invalid("max_retries must not be negative")
        self._handlers = dict(handlers)
        self._max_retries = max_retries
        # Wider jitter than for model calls: a backend blip fails many tasks at once.
        self._backoff_policy = Backoff(initial_s=backoff_s, max_s=max_backoff_s, jitter=0.5)
        self._clock = clock or SystemClock()
        self._slots = asyncio.Semaphore(concurrency)
        self._jobs: dict[asyncio.Task[None], _Job] = {}
        self._keys: set[str] = set()
        self._dead: list[DeadLetter] = []
        self._closed = False

    @property
    def dead_letters(self) -> list[DeadLetter]:
        """Tasks that failed beyond the retry limit, oldest first."""
        return list(self._dead)

    @property
    def pending(self) -> int:
        """Tasks waiting, backing off or running."""
        return len(self._jobs)

    async def enqueue(self, task: Task, delay_s: float = 0.0) -> None:
        if self._closed:
            raise Unavailable("the task queue is closed")
        if task.name not in self._handlers:
            raise Invalid(f"no handler for task {task.name!r}")
        if delay_s < 0:
            raise Invalid("delay_s must not be negative")
        if task.key in self._keys:
            log.debug("dropping duplicate task %s key=%s", task.name, task.key)
            return
        self._keys.add(task.key)
        job = _Job(task)
        runner = asyncio.create_task(self._run(job, delay_s), name=f"task:{task.name}:{task.key}")
        self._jobs[runner] = job
        runner.add_done_callback(self._forget)

    async def drain(self) -> None:
        """Wait until every task enqueued so far (and any they enqueue) has succeeded or dead-lettered."""
        # asyncio.wait, unlike gather, leaves the tasks running if the caller is cancelled.
        while self._jobs:
            await asyncio.wait(list(self._jobs))

    async def close(self) -> None:
        """Refuse new tasks, wait for running handlers, and drop tasks still waiting for their turn.

        Dropped tasks are logged; call drain() first to run everything before shutting down.
        """
        self._closed = True
        for runner, job in list(self._jobs.items()):
            if not job.running:
                log.warning("task queue closing: dropping %s key=%s", job.task.name, job.task.key)
                runner.cancel()
        if self._jobs:
            await asyncio.wait(list(self._jobs))

    async def _run(self, job: _Job, delay_s: float) -> None:
        task = job.task
        handler = self._handlers[task.name]
        if delay_s > 0:
            await asyncio.sleep(delay_s)
        attempt = 0
        while True:
            attempt += 1
            error = await self._attempt(job, handler)
            if error is None:
                return
            log.warning("task %s key=%s failed (attempt %d): %s", task.name, task.key, attempt, error)
            if attempt > self._max_retries:
                self._dead.append(DeadLetter(task=task, attempts=attempt, error=error, failed_at=self._clock.now()))
                log.error("task %s key=%s dead-lettered after %d attempts", task.name, task.key, attempt)
                return
            if self._closed:
                log.warning("task queue closing: not retrying %s key=%s", task.name, task.key)
                return
            await asyncio.sleep(self._backoff_policy.delay(attempt))

    async def _attempt(self, job: _Job, handler: TaskHandler) -> str | None:
        """Run the handler once within a concurrency slot; the error text when it failed."""
        async with self._slots:
            job.running = True
            try:
                await handler(job.task)
            except Exception as exc:
                return f"{type(exc).__name__}: {exc}"
            finally:
                job.running = False
        return None

    def _forget(self, runner: asyncio.Task[None]) -> None:
        job = self._jobs.pop(runner, None)
        if job is not None:
            self._keys.discard(job.task.key)
        if not runner.cancelled() and runner.exception() is not None:
            log.error("task runner crashed", exc_info=runner.exception())
