"""dramatiq actors: extract_memories, summarise_session, reindex_user, purge_analytics.

Importing this module sets up the broker from the environment (REDIS_URL and JYNTRIX_WORKER_*,
see jyntrix_worker.settings) and declares the actors, which is what `dramatiq jyntrix_worker.actors`
and `python -m jyntrix_worker` need. The actors are async (dramatiq's AsyncIO middleware runs
them on one event loop per process) and delegate to jyntrix_domain.task_handlers; the services are
opened once per process, on the first task or at boot, and closed at shutdown.

Delivery is at least once: a message is acknowledged only after its handler returns, and the
unacknowledged messages of a worker that stops sending heartbeats go back to the queue.
Failures are retried with exponential backoff; past JYNTRIX_WORKER_MAX_RETRIES the message
lands in the queue's dead-letter queue (`python -m jyntrix_worker dead-letters`).
"""

from __future__ import annotations

import asyncio
import logging
import os
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import AsyncIO, Middleware

from jyntrix_adapters.dramatiq.broker import make_broker
from jyntrix_adapters.dramatiq.task_queue import DramatiqTaskQueue, declare_actors
from jyntrix_domain.model import Task
from jyntrix_domain.ports import TaskHandler
from jyntrix_domain.task_handlers import (
    EXTRACT_MEMORIES,
    PURGE_ANALYTICS,
    REINDEX_USER,
    SUMMARISE_SESSION,
    TASK_NAMES,
    purge_task,
)
from jyntrix_worker.services import WorkerRuntime, build_worker_services
from jyntrix_worker.settings import load_worker_settings

log = logging.getLogger("jyntrix.worker")

settings = load_worker_settings()
broker = make_broker(
    settings.broker_url,
    namespace=settings.jyntrix_worker_namespace,
    max_retries=settings.jyntrix_worker_max_retries,
    min_backoff_ms=settings.jyntrix_worker_min_backoff_ms,
    max_backoff_ms=settings.jyntrix_worker_max_backoff_ms,
    heartbeat_timeout_ms=settings.jyntrix_worker_heartbeat_timeout_ms,
    maintenance_chance=settings.jyntrix_worker_maintenance_chance,
)
dramatiq.set_broker(broker)

# Follow-up tasks (idle summaries, tomorrow's purge) go through the same broker.
sender = DramatiqTaskQueue(broker, queue_name=settings.jyntrix_worker_queue, task_names=TASK_NAMES)

_runtime: WorkerRuntime | None = None
_opening = asyncio.Lock()


async def runtime() -> WorkerRuntime:
    """This process's services, opened on first use."""
    global _runtime
    async with _opening:
        if _runtime is None:
            _runtime = await build_worker_services(os.environ, sender)
    return _runtime


def _dispatch(name: str) -> TaskHandler:
    async def handle(task: Task) -> None:
        await (await runtime()).handlers[name](task)

    return handle


actors = declare_actors(
    broker,
    {name: _dispatch(name) for name in TASK_NAMES},
    queue_name=settings.jyntrix_worker_queue,
    max_retries=settings.jyntrix_worker_max_retries,
    min_backoff_ms=settings.jyntrix_worker_min_backoff_ms,
    max_backoff_ms=settings.jyntrix_worker_max_backoff_ms,
    time_limit_ms=settings.jyntrix_worker_time_limit_ms,
)
extract_memories = actors[EXTRACT_MEMORIES]
summarise_session = actors[SUMMARISE_SESSION]
reindex_user = actors[REINDEX_USER]
purge_analytics = actors[PURGE_ANALYTICS]


class ServicesLifecycle(Middleware):
    """Opens the services when a worker boots and closes them after its last task."""

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        loop = get_event_loop_thread()
        if loop is None:
            return
        try:
            loop.run_coroutine(runtime())
        except Exception:  # the first task opens them again, and retries while a dependency is down
            log.exception("could not open the worker's services at boot")
        if settings.jyntrix_worker_daily_purge:
            try:
                loop.run_coroutine(sender.enqueue(purge_task(datetime.now(UTC))))
            except Exception:
                log.exception("could not schedule the daily analytics purge")

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        global _runtime
        loop = get_event_loop_thread()
        if loop is None or _runtime is None:
            return
        try:
            loop.run_coroutine(_runtime.aclose())
        except Exception:
            log.exception("closing the worker's services failed")
        _runtime = None


# after_* hooks run in reverse order: placed after AsyncIO, this closes the services before
# AsyncIO's after_worker_shutdown stops the loop they live on.
broker.add_middleware(ServicesLifecycle(), after=AsyncIO)
