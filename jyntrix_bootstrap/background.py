"""Background work: the task queue the API sends to, and the handlers that run the tasks.

With TASK_RUNNER=dramatiq the API only sends (a separate `python -m jyntrix_worker` runs the
handlers); otherwise the handlers run on an InProcessTaskQueue in the API's own event loop,
which the embedded deployment needs (Qdrant Edge is single-process).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

from jyntrix_bootstrap.plan import plan
from jyntrix_bootstrap.resources import Opened
from jyntrix_bootstrap.settings import Settings
from jyntrix_domain.asyncio_tasks import stop_task
from jyntrix_domain.ports import Clock, TaskLedger, TaskQueue
from jyntrix_domain.recovery import requeue_unfinished
from jyntrix_domain.tasks import Handlers, PurgeAnalytics

log = logging.getLogger("jyntrix.wiring")

TASK_DRAIN_TIMEOUT_S = 30.0


def sends_to_worker(settings: Settings) -> bool:
    """Whether tasks go to a dramatiq worker rather than run in this process (the plan's choice)."""
    return plan(settings).sends_to_worker


async def open_task_queue(settings: Settings, handlers: Callable[[TaskQueue], Handlers]) -> AsyncIterator[Opened]:
    """The API's TaskQueue: a dramatiq sender, or the handlers (bound to the queue, so an extraction schedules
    its idle conversation's summary there, as the worker does) on an in-process queue. At shutdown the queue
    finishes what it has in hand; a summary still waiting for its conversation to stay idle is dropped (the
    conversation's next message schedules another)."""
    if sends_to_worker(settings):
        from jyntrix_adapters.dramatiq.task_queue import DramatiqTaskQueue

        sender = DramatiqTaskQueue.from_url(settings.broker_url, settings.dramatiq)
        try:
            yield Opened(sender, "dramatiq")
        finally:
            await sender.close()
        return
    from jyntrix_adapters.inprocess.task_queue import InProcessTaskQueue

    queue = InProcessTaskQueue(handlers, settings.tasks)
    try:
        yield Opened(queue, "in-process")
    finally:
        # Finish what the API already accepted (extraction of the last turns) before the stores close.
        try:
            await asyncio.wait_for(queue.drain(scheduled=False), TASK_DRAIN_TIMEOUT_S)
        except TimeoutError:
            log.warning("background tasks still running after %ss; stopping them", TASK_DRAIN_TIMEOUT_S)
        await queue.close()


async def recover_extraction(ledger: TaskLedger, tasks: TaskQueue, clock: Clock, interval_s: float) -> None:
    """Enqueue the extraction batches a crash left pending: everything pending at start-up, then, every
    `interval_s` (EXTRACTION_RECOVERY_INTERVAL_S; 0 = start-up only), what has been pending that long."""
    older_than = clock.now()
    while True:
        try:
            await requeue_unfinished(ledger, tasks, older_than)
        except Exception as exc:  # recovery must never take the process down; the next pass tries again
            log.warning("could not re-enqueue unfinished extraction batches: %s", exc)
        if interval_s <= 0:
            return
        await asyncio.sleep(interval_s)
        older_than = clock.now() - timedelta(seconds=interval_s)


class Background:
    """What a process that runs the handlers keeps going beside them: crash recovery of extraction batches, and
    the daily analytics purge (its first run enqueued here; each run enqueues the next, task_handlers)."""

    def __init__(self, recovery: asyncio.Task[None] | None) -> None:
        self._recovery = recovery

    async def stop(self) -> None:
        await stop_task(self._recovery)
        self._recovery = None


async def start_background(settings: Settings, ledger: TaskLedger | None, tasks: TaskQueue, clock: Clock) -> Background:
    """The one start of background work, for the API process that runs its own handlers and the worker alike;
    `ledger` None (a custom worker wiring) skips recovery."""
    recovery = (
        asyncio.create_task(
            recover_extraction(ledger, tasks, clock, settings.extraction_recovery_interval_s),
            name="extraction-recovery",
        )
        if ledger is not None
        else None
    )
    if settings.worker.daily_purge:
        try:
            await tasks.enqueue(PurgeAnalytics.of(clock.now()))
        except Exception as exc:  # retention must never keep a process from starting
            log.warning("could not schedule the daily analytics purge: %s", exc)
    return Background(recovery)
