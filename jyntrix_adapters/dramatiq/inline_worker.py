"""A dramatiq worker inside this process whose async actors run on the caller's event loop.

The deployed worker is a separate process (`python -m jyntrix_worker`); this one exists for
one-process use of the same path (tests of the TaskQueue contract, tools): the messages go
through Redis exactly as in production, and the handlers share the caller's loop, so they can
use the caller's asyncio objects. Only one per process: dramatiq keeps one event loop
for async actors.
"""

from __future__ import annotations

import asyncio
import logging

import dramatiq
from dramatiq.asyncio import EventLoopThread, get_event_loop_thread, set_event_loop_thread
from dramatiq.brokers.redis import RedisBroker

from jyntrix_adapters.dramatiq.broker import DramatiqConfig
from jyntrix_adapters.dramatiq.task_queue import DramatiqTaskQueue, declare_actors, read_dead_letters
from jyntrix_domain.errors import Invalid
from jyntrix_domain.tasks import DeadLetter, Handlers, QueueStats, TaskMessage

log = logging.getLogger(__name__)


class _CallerLoop(EventLoopThread):
    """dramatiq's event-loop handle, pointed at a loop that is already running (no thread of its own)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(log)
        self.loop.close()
        self.loop = loop


class InlineWorker:
    """Sends tasks through a Redis broker and runs them with `concurrency` worker threads here.

    The broker must come from `make_broker(url, config, asyncio_thread=False)` with the same
    `config`. Call from a running loop.
    """

    def __init__(
        self,
        broker: RedisBroker,
        handlers: Handlers,
        config: DramatiqConfig | None = None,
        *,
        concurrency: int = 4,
        poll_ms: int = 50,
    ) -> None:
        config = config or DramatiqConfig()
        if concurrency < 1:
            raise Invalid("concurrency must be at least 1")
        if get_event_loop_thread() is not None:
            raise Invalid("another dramatiq event loop is active in this process")
        self._broker = broker
        self._queue_name = config.queue
        declare_actors(broker, handlers, config)
        self.queue = DramatiqTaskQueue(broker, queue_name=config.queue, task_types=list(handlers))
        set_event_loop_thread(_CallerLoop(asyncio.get_running_loop()))
        self._worker = dramatiq.Worker(broker, worker_threads=concurrency, worker_timeout=poll_ms)
        self._worker.start()
        self._stopped = False

    async def enqueue(self, task: TaskMessage, delay_s: float = 0.0) -> None:
        await self.queue.enqueue(task, delay_s)

    async def drain(self, poll_s: float = 0.02) -> None:
        """Wait until no task is waiting, delayed, backing off or running in this process's worker."""
        while True:
            if not await asyncio.to_thread(self._broker.do_qsize, self._queue_name):
                return
            await asyncio.sleep(poll_s)

    async def stats(self) -> QueueStats:
        return await self.queue.stats()

    @property
    def dead_letters(self) -> list[DeadLetter]:
        return read_dead_letters(self._broker, self._queue_name, 1000, self.queue.task_types)

    async def close(self) -> None:
        """Refuse new tasks, let running handlers finish, and give prefetched messages back to Redis."""
        await self.queue.close()
        if self._stopped:
            return
        self._stopped = True
        # stop() joins threads that wait on coroutines of this loop: it must not block the loop.
        await asyncio.to_thread(self._worker.stop)
        set_event_loop_thread(None)
        await asyncio.to_thread(self._broker.close)
