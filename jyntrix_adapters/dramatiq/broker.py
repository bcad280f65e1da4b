"""The dramatiq Redis broker as Jyntrix uses it: retries with backoff, task keys, dead-letter notes.

dramatiq's Redis broker already gives at-least-once delivery (a message fetched by a worker that
stops sending heartbeats goes back to its queue) and a dead-letter queue per queue
(``<namespace>:<queue>.XQ``). Two small middlewares add what the TaskQueue port promises:

- `TaskKeys` releases a task's idempotency key when the task is finished (succeeded or
  dead-lettered), so a duplicate enqueued meanwhile is dropped and a later one is accepted;
- it also notes the last error of a dead-lettered message, which dramatiq does not keep
  when the final attempt fails.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import dramatiq
import msgspec
import redis
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO, Middleware, Retries

from jyntrix_domain.errors import Invalid

log = logging.getLogger(__name__)

TASK_KEY_OPTION = "jyntrix_task_key"
"""Message option carrying the Task's idempotency key."""

_ATTEMPT_OPTION = "jyntrix_attempt"

DEFAULT_PENDING_TTL_MS = 24 * 3_600_000
DEAD_MESSAGE_TTL_MS = 7 * 86_400_000


class DramatiqConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Where tasks go and how they are retried: shared by the API's sender and the worker.

    Failed tasks are retried after `min_backoff_ms`, doubling each time (jittered) up to
    `max_backoff_ms`, at most `max_retries` times; a task running longer than `time_limit_ms`
    is interrupted and retried. A worker silent for `heartbeat_timeout_ms` counts as dead and its
    unfinished tasks are redelivered; `maintenance_chance` (per million broker calls) is how often
    that check runs.
    """

    queue: str = "jyntrix"
    namespace: str = "dramatiq"
    max_retries: int = 5
    min_backoff_ms: int = 1_000
    max_backoff_ms: int = 300_000
    time_limit_ms: int = 600_000
    heartbeat_timeout_ms: int = 60_000
    maintenance_chance: int = 1_000

    def __post_init__(self) -> None:
        if not self.queue or not self.namespace:
            raise Invalid("queue and namespace must not be empty")
        for name in ("min_backoff_ms", "max_backoff_ms", "time_limit_ms", "heartbeat_timeout_ms"):
            if getattr(self, name) < 1:
                raise Invalid(f"{name} must be at least 1")
        if self.max_retries < 0:
            raise Invalid("max_retries must not be negative")
        if not 0 <= self.maintenance_chance <= 1_000_000:
            raise Invalid("maintenance_chance must be between 0 and 1000000")


def pending_key(namespace: str, task_key: str) -> str:
    """Redis key marking a task key as enqueued and not yet finished."""
    return f"{namespace}:jyntrix-pending:{task_key}"


def errors_key(namespace: str, queue_name: str) -> str:
    """Redis hash of the last error of each dead-lettered message of a queue, by Redis message id."""
    return f"{namespace}:{queue_name}.XQ.errors"


def canonical_queue(queue_name: str) -> str:
    return queue_name[:-3] if queue_name.endswith(".DQ") else queue_name


class TaskKeys(Middleware):
    """Releases a task's key when it is finished and notes why a dead-lettered message failed."""

    def __init__(self, client: redis.Redis, namespace: str, dead_message_ttl_ms: int) -> None:
        self._client = client
        self._namespace = namespace
        self._ttl_ms = dead_message_ttl_ms

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        # Retries counts failures only after the attempt; remember which attempt this is.
        message.options[_ATTEMPT_OPTION] = int(message.options.get("retries", 0)) + 1

    def after_process_message(
        self, broker: dramatiq.Broker, message: Any, *, result: Any = None, exception: BaseException | None = None
    ) -> None:
        if exception is not None and not message.failed:
            return  # Retries has scheduled another attempt; the key stays pending.
        try:
            if exception is not None:
                self._note_failure(message, exception)
            self._release(message)
        except redis.RedisError as exc:  # the task itself is done; a stale key only expires later
            log.warning("could not release task key of message %s: %s", message.message_id, exc)

    def after_skip_message(self, broker: dramatiq.Broker, message: Any) -> None:
        try:
            self._release(message)
        except redis.RedisError as exc:
            log.warning("could not release task key of message %s: %s", message.message_id, exc)

    def _release(self, message: Any) -> None:
        key = message.options.get(TASK_KEY_OPTION)
        if key:
            self._client.delete(pending_key(self._namespace, key))

    def _note_failure(self, message: Any, exception: BaseException) -> None:
        redis_id = message.options.get("redis_message_id")
        if not redis_id:
            return
        note = {
            "error": f"{type(exception).__name__}: {exception}",
            "attempts": int(message.options.get(_ATTEMPT_OPTION, 1)),
            "failed_at_ms": int(time.time() * 1000),
        }
        name = errors_key(self._namespace, canonical_queue(message.queue_name))
        pipe = self._client.pipeline()
        pipe.hset(name, redis_id, json.dumps(note))
        pipe.pexpire(name, self._ttl_ms)
        pipe.execute()


def make_broker(url: str, config: DramatiqConfig | None = None, *, asyncio_thread: bool = True) -> RedisBroker:
    """A Redis broker with `config`'s retries and the Jyntrix middleware.

    `asyncio_thread` adds dramatiq's AsyncIO middleware (async actors run on one event-loop
    thread per worker process); in-process workers that bring their own loop leave it out.
    """
    config = config or DramatiqConfig()
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        url=url,
        namespace=config.namespace,
        heartbeat_timeout=config.heartbeat_timeout_ms,
        maintenance_chance=config.maintenance_chance,
        dead_message_ttl=DEAD_MESSAGE_TTL_MS,
    )
    for middleware in list(broker.middleware):
        if isinstance(middleware, Retries):
            middleware.max_retries = config.max_retries
            middleware.min_backoff = config.min_backoff_ms
            middleware.max_backoff = config.max_backoff_ms
    if asyncio_thread:
        broker.add_middleware(AsyncIO())
    # dramatiq runs after_* hooks in reverse order: placed before Retries, TaskKeys sees its verdict.
    broker.add_middleware(TaskKeys(broker.client, config.namespace, DEAD_MESSAGE_TTL_MS), before=Retries)
    return broker


class ProcessHooks(Middleware):
    """Runs `on_boot` when a worker process boots and `on_shutdown` after its last task, on the actors' loop.

    Add it after AsyncIO: after_* hooks run in reverse order, so `on_shutdown` runs before AsyncIO
    stops the loop the services live on.
    """

    def __init__(self, on_boot: Callable[[], Awaitable[None]], on_shutdown: Callable[[], Awaitable[None]]) -> None:
        self._on_boot = on_boot
        self._on_shutdown = on_shutdown

    def after_worker_boot(self, broker: dramatiq.Broker, worker: Any) -> None:
        # A failed boot is only logged: the first task tries again, and retries while a dependency is down.
        _run_on_actor_loop(self._on_boot, "boot")

    def after_worker_shutdown(self, broker: dramatiq.Broker, worker: Any) -> None:
        _run_on_actor_loop(self._on_shutdown, "shutdown")


def _run_on_actor_loop(hook: Callable[[], Awaitable[None]], what: str) -> None:
    """Run `hook` on the AsyncIO middleware's event-loop thread (none: nothing to run on), logging its failure."""
    loop = get_event_loop_thread()
    if loop is None:
        return
    try:
        loop.run_coroutine(hook())
    except Exception:
        log.exception("worker %s hook failed", what)
