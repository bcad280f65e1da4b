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
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO, Middleware, Retries

log = logging.getLogger(__name__)

TASK_KEY_OPTION = "jyntrix_task_key"
"""Message option carrying the Task's idempotency key."""

_ATTEMPT_OPTION = "jyntrix_attempt"

DEFAULT_NAMESPACE = "dramatiq"
DEFAULT_QUEUE = "jyntrix"
DEFAULT_MAX_RETRIES = 5
DEFAULT_MIN_BACKOFF_MS = 1_000
DEFAULT_MAX_BACKOFF_MS = 300_000
DEFAULT_PENDING_TTL_MS = 24 * 3_600_000


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


def make_broker(
    url: str,
    *,
    namespace: str = DEFAULT_NAMESPACE,
    max_retries: int = DEFAULT_MAX_RETRIES,
    min_backoff_ms: int = DEFAULT_MIN_BACKOFF_MS,
    max_backoff_ms: int = DEFAULT_MAX_BACKOFF_MS,
    heartbeat_timeout_ms: int = 60_000,
    maintenance_chance: int = 1_000,
    dead_message_ttl_ms: int = 7 * 86_400_000,
    asyncio_thread: bool = True,
) -> RedisBroker:
    """A Redis broker with retries and the Jyntrix middleware.

    `asyncio_thread` adds dramatiq's AsyncIO middleware (async actors run on one event-loop
    thread per worker process); in-process runners that bring their own loop leave it out.
    `heartbeat_timeout_ms` is how long a silent worker is considered alive before its unacked
    messages are redelivered; `maintenance_chance` (per million broker calls) how often that
    check runs.
    """
    broker = RedisBroker(  # type: ignore[no-untyped-call]
        url=url,
        namespace=namespace,
        heartbeat_timeout=heartbeat_timeout_ms,
        maintenance_chance=maintenance_chance,
        dead_message_ttl=dead_message_ttl_ms,
    )
    for middleware in list(broker.middleware):
        if isinstance(middleware, Retries):
            middleware.max_retries = max_retries
            middleware.min_backoff = min_backoff_ms
            middleware.max_backoff = max_backoff_ms
    if asyncio_thread:
        broker.add_middleware(AsyncIO())
    # dramatiq runs after_* hooks in reverse order: placed before Retries, TaskKeys sees its verdict.
    broker.add_middleware(TaskKeys(broker.client, namespace, dead_message_ttl_ms), before=Retries)
    return broker
