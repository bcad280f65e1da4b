"""TaskQueue over dramatiq and Redis: the API sends, separate worker processes run the handlers.

A task becomes a dramatiq message addressed to the actor named after the task's type, with the
task's msgspec builtins as its one argument and its idempotency key as a message option. While a
task with the same key is waiting, backing off or running, enqueueing it again is a no-op (the
handlers are idempotent, so the duplicate would add nothing). Failed tasks are retried with
exponential backoff and, past the limit, land in dramatiq's dead-letter queue, which
`dead_letters()` lists and `requeue_dead_letter()` sends back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from jyntrix_adapters.dramatiq.broker import (
    DEFAULT_PENDING_TTL_MS,
    TASK_KEY_OPTION,
    DramatiqConfig,
    errors_key,
    make_broker,
    pending_key,
)
from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.tasks import (
    TASK_TYPES,
    DeadLetter,
    Handlers,
    QueueStats,
    TaskHandler,
    TaskMessage,
    decode_task,
    is_retryable,
    task_builtins,
)

log = logging.getLogger(__name__)

_MAX_DELAY_S = 7 * 86_400 - 1  # dramatiq's Redis broker refuses delays of 7 days or more


def declare_actors(
    broker: dramatiq.Broker, handlers: Handlers, config: DramatiqConfig | None = None
) -> dict[type[TaskMessage], dramatiq.Actor[Any, Any]]:
    """One async actor per handler, named after the task type it runs.

    A failure that `is_retryable` refuses (the task itself is wrong) goes to the dead-letter queue
    at once; others are retried up to `config.max_retries` times.
    """
    config = config or DramatiqConfig()
    types = tuple(handlers)

    def retry_when(retries: int, error: BaseException) -> bool:
        return retries < config.max_retries and is_retryable(error)

    return {
        task_type: dramatiq.actor(
            broker=broker,
            actor_name=task_type.type_name(),
            queue_name=config.queue,
            min_backoff=config.min_backoff_ms,
            max_backoff=config.max_backoff_ms,
            time_limit=config.time_limit_ms,
            retry_when=retry_when,
        )(_actor_function(task_type, handler, types))
        for task_type, handler in handlers.items()
    }


def _actor_function(
    task_type: type[TaskMessage], handler: TaskHandler, types: tuple[type[TaskMessage], ...]
) -> Callable[..., Any]:
    name = task_type.type_name()

    async def run(payload: dict[str, Any], key: str = "") -> None:
        # Messages sent before tasks were typed carry no `type` (and the key as a keyword): the actor says it.
        task = decode_task({"type": name, **payload}, types)
        if type(task) is not task_type:
            raise Invalid(f"actor {name} got a {task.type_name()} task")
        await handler(task)

    run.__name__ = run.__qualname__ = name
    return run


class DramatiqTaskQueue:
    """TaskQueue port adapter sending to dramatiq actors through a Redis broker."""

    def __init__(
        self,
        broker: RedisBroker,
        *,
        queue_name: str = DramatiqConfig().queue,
        task_types: Collection[type[TaskMessage]] = TASK_TYPES,
        pending_ttl_ms: int = DEFAULT_PENDING_TTL_MS,
        owns_broker: bool = False,
    ) -> None:
        self._broker = broker
        self._queue = queue_name
        self._types = tuple(task_types)
        self._pending_ttl_ms = pending_ttl_ms
        self._owns_broker = owns_broker
        self._closed = False

    @classmethod
    def from_url(
        cls, url: str, config: DramatiqConfig | None = None, *, task_types: Collection[type[TaskMessage]] = TASK_TYPES
    ) -> DramatiqTaskQueue:
        """A sender with a broker of its own (closed with the queue)."""
        config = config or DramatiqConfig()
        broker = make_broker(url, config, asyncio_thread=False)
        return cls(broker, queue_name=config.queue, task_types=task_types, owns_broker=True)

    @property
    def broker(self) -> RedisBroker:
        return self._broker

    @property
    def queue_name(self) -> str:
        return self._queue

    @property
    def task_types(self) -> tuple[type[TaskMessage], ...]:
        return self._types

    async def enqueue(self, task: TaskMessage, delay_s: float = 0.0) -> None:
        if self._closed:
            raise Unavailable("the task queue is closed")
        if type(task) not in self._types:
            raise Invalid(f"no handler for task {type(task).__name__}")
        if not 0 <= delay_s <= _MAX_DELAY_S:
            raise Invalid(f"delay_s must be between 0 and {_MAX_DELAY_S}")
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=self._queue,
            actor_name=task.type_name(),
            args=(task_builtins(task),),
            kwargs={},
            options={TASK_KEY_OPTION: task.key},
        )
        delay_ms = int(delay_s * 1000) or None
        await asyncio.to_thread(self._send, message, delay_ms)

    def _send(self, message: dramatiq.Message[Any], delay_ms: int | None) -> None:
        key = pending_key(self._broker.namespace, message.options[TASK_KEY_OPTION])
        client = self._broker.client
        try:
            if not client.set(key, message.message_id, nx=True, px=self._pending_ttl_ms):
                log.debug("dropping duplicate task %s key=%s", message.actor_name, message.options[TASK_KEY_OPTION])
                return
            try:
                self._broker.enqueue(message, delay=delay_ms)
            except BaseException:
                client.delete(key)
                raise
        except redis.RedisError as exc:
            raise Unavailable(f"task broker unavailable: {exc}") from exc

    async def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """Dead-lettered tasks of this queue, oldest first."""
        return await asyncio.to_thread(read_dead_letters, self._broker, self._queue, limit, self._types)

    async def stats(self) -> QueueStats:
        """Messages not yet acknowledged (waiting, delayed for a retry, or running) and the dead-letter queue's size."""
        return await asyncio.to_thread(read_queue_stats, self._broker, self._queue)

    async def requeue_dead_letter(self, message_id: str) -> bool:
        """Send a dead-lettered task back to its queue with a fresh retry budget; False if unknown."""
        return await asyncio.to_thread(requeue_dead_letter, self._broker, self._queue, message_id)

    async def ping(self) -> None:
        try:
            await asyncio.to_thread(self._broker.client.ping)
        except redis.RedisError as exc:
            raise Unavailable(f"task broker unavailable: {exc}") from exc

    async def close(self) -> None:
        self._closed = True
        if self._owns_broker:
            await asyncio.to_thread(self._broker.close)
            await asyncio.to_thread(self._broker.client.close)


def _dead_ids(broker: RedisBroker, queue_name: str) -> tuple[str, str]:
    base = f"{broker.namespace}:{queue_name}.XQ"
    return base, base + ".msgs"


def read_queue_stats(broker: RedisBroker, queue_name: str = DramatiqConfig().queue) -> QueueStats:
    """Depth and dead letters of `queue_name` (blocking). A message stays in its queue's `.msgs` hash, or the delay
    queue's, until a worker acknowledges it, so their sizes count waiting, delayed and running tasks."""
    base = f"{broker.namespace}:{queue_name}"
    xq, _ = _dead_ids(broker, queue_name)
    try:
        pipe = broker.client.pipeline(transaction=False)
        pipe.hlen(base + ".msgs")
        pipe.hlen(base + ".DQ.msgs")
        pipe.zcard(xq)
        waiting, delayed, dead = pipe.execute()
    except redis.RedisError as exc:
        raise Unavailable(f"task broker unavailable: {exc}") from exc
    return QueueStats(depth=int(waiting) + int(delayed), dead_letters=int(dead))


def read_dead_letters(
    broker: RedisBroker,
    queue_name: str = DramatiqConfig().queue,
    limit: int = 100,
    types: Collection[type[TaskMessage]] = TASK_TYPES,
) -> list[DeadLetter]:
    """The dead-letter queue of `queue_name`, oldest first (blocking; for CLIs and threads)."""
    xq, xq_messages = _dead_ids(broker, queue_name)
    client = broker.client
    try:
        entries: list[Any] = list(client.zrange(xq, 0, max(0, limit - 1), withscores=True))
        if not entries:
            return []
        ids = [_text(member) for member, _ in entries]
        bodies = client.hmget(xq_messages, ids)
        notes = client.hmget(errors_key(broker.namespace, queue_name), ids)
    except redis.RedisError as exc:
        raise Unavailable(f"task broker unavailable: {exc}") from exc
    found = []
    for (redis_id, score), body, note in zip(entries, bodies, notes, strict=True):
        if body is None:
            continue
        message = dramatiq.Message.decode(body)
        details = json.loads(note) if note else {}
        traceback = str(message.options.get("traceback") or "").strip().splitlines()
        payload = {"type": message.actor_name, **(dict(message.args[0]) if message.args else {})}
        try:
            task = decode_task(payload, types)
        except Invalid:
            task = None  # kept for the operator as `payload`
        found.append(
            DeadLetter(
                message_id=_text(redis_id),
                key=str(message.options.get(TASK_KEY_OPTION) or message.kwargs.get("key", "")),
                task=task,
                payload=payload,
                attempts=int(details.get("attempts") or int(message.options.get("retries", 0)) + 1),
                error=str(details.get("error") or (traceback[-1] if traceback else "")),
                failed_at=datetime.fromtimestamp(score / 1000, UTC),
                queue=queue_name,
            )
        )
    return found


def requeue_dead_letter(broker: RedisBroker, queue_name: str, message_id: str) -> bool:
    """Move one dead-lettered message back to its queue with its retry count reset (blocking)."""
    xq, xq_messages = _dead_ids(broker, queue_name)
    client = broker.client
    try:
        body = client.hget(xq_messages, message_id)
        if not isinstance(body, bytes):
            return False
        message = dramatiq.Message.decode(body)
        options = {k: v for k, v in message.options.items() if k not in ("retries", "traceback", "redis_message_id")}
        key = options.get(TASK_KEY_OPTION)
        if key:
            client.set(pending_key(broker.namespace, key), message.message_id, px=DEFAULT_PENDING_TTL_MS)
        broker.enqueue(
            dramatiq.Message(
                queue_name=queue_name,
                actor_name=message.actor_name,
                args=message.args,
                kwargs=message.kwargs,
                options=options,
                message_id=message.message_id,
            )
        )
        pipe = client.pipeline()
        pipe.zrem(xq, message_id)
        pipe.hdel(xq_messages, message_id)
        pipe.hdel(errors_key(broker.namespace, queue_name), message_id)
        pipe.execute()
    except redis.RedisError as exc:
        raise Unavailable(f"task broker unavailable: {exc}") from exc
    return True


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
