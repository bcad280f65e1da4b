"""TaskQueue over dramatiq and Redis: the API sends, separate worker processes run the handlers.

A Task becomes a dramatiq message addressed to the actor named after the task, with the payload
as its one argument and the idempotency key as a keyword argument and a message option. While a
task with the same key is waiting, backing off or running, enqueueing it again is a no-op (the
handlers are idempotent, so the duplicate would add nothing). Failed tasks are retried with
exponential backoff and, past the limit, land in dramatiq's dead-letter queue, which
`dead_letters()` lists and `requeue_dead_letter()` sends back.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any

import dramatiq
import msgspec
import redis
from dramatiq.brokers.redis import RedisBroker

from jyntrix_adapters.dramatiq.broker import (
    DEFAULT_MAX_BACKOFF_MS,
    DEFAULT_MAX_RETRIES,
    DEFAULT_MIN_BACKOFF_MS,
    DEFAULT_NAMESPACE,
    DEFAULT_PENDING_TTL_MS,
    DEFAULT_QUEUE,
    TASK_KEY_OPTION,
    errors_key,
    make_broker,
    pending_key,
)
from jyntrix_domain.errors import Forbidden, Invalid, Unavailable
from jyntrix_domain.model import Task
from jyntrix_domain.ports import TaskHandler

log = logging.getLogger(__name__)

_MAX_DELAY_S = 7 * 86_400 - 1  # dramatiq's Redis broker refuses delays of 7 days or more
_NOT_RETRIED: tuple[type[Exception], ...] = (Invalid, Forbidden)


class DeadLetter(msgspec.Struct, frozen=True, kw_only=True):
    """A task that failed on every attempt, as kept in the broker's dead-letter queue."""

    message_id: str
    task: Task
    attempts: int
    error: str
    failed_at: datetime
    queue: str


def declare_actors(
    broker: dramatiq.Broker,
    handlers: Mapping[str, TaskHandler],
    *,
    queue_name: str = DEFAULT_QUEUE,
    max_retries: int = DEFAULT_MAX_RETRIES,
    min_backoff_ms: int = DEFAULT_MIN_BACKOFF_MS,
    max_backoff_ms: int = DEFAULT_MAX_BACKOFF_MS,
    time_limit_ms: int = 600_000,
) -> dict[str, dramatiq.Actor[Any, Any]]:
    """One async actor per handler, named after the task it runs.

    Invalid and Forbidden mean the task itself is wrong: they go to the dead-letter queue
    at once instead of being retried.
    """
    return {
        name: dramatiq.actor(
            broker=broker,
            actor_name=name,
            queue_name=queue_name,
            max_retries=max_retries,
            min_backoff=min_backoff_ms,
            max_backoff=max_backoff_ms,
            time_limit=time_limit_ms,
            throws=_NOT_RETRIED,
        )(_actor_function(name, handler))
        for name, handler in handlers.items()
    }


def _actor_function(name: str, handler: TaskHandler) -> Callable[..., Any]:
    async def run(payload: dict[str, Any], key: str = "") -> None:
        await handler(Task(name=name, payload=payload, key=key))

    run.__name__ = run.__qualname__ = name
    return run


class DramatiqTaskQueue:
    """TaskQueue port adapter sending to dramatiq actors through a Redis broker."""

    def __init__(
        self,
        broker: RedisBroker,
        *,
        queue_name: str = DEFAULT_QUEUE,
        task_names: Collection[str] | None = None,
        pending_ttl_ms: int = DEFAULT_PENDING_TTL_MS,
        owns_broker: bool = False,
    ) -> None:
        self._broker = broker
        self._queue = queue_name
        self._names = frozenset(task_names) if task_names is not None else None
        self._pending_ttl_ms = pending_ttl_ms
        self._owns_broker = owns_broker
        self._closed = False

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        namespace: str = DEFAULT_NAMESPACE,
        queue_name: str = DEFAULT_QUEUE,
        task_names: Collection[str] | None = None,
    ) -> DramatiqTaskQueue:
        """A sender with a broker of its own (closed with the queue)."""
        broker = make_broker(url, namespace=namespace, asyncio_thread=False)
        return cls(broker, queue_name=queue_name, task_names=task_names, owns_broker=True)

    @property
    def broker(self) -> RedisBroker:
        return self._broker

    @property
    def queue_name(self) -> str:
        return self._queue

    async def enqueue(self, task: Task, delay_s: float = 0.0) -> None:
        if self._closed:
            raise Unavailable("the task queue is closed")
        if self._names is not None and task.name not in self._names:
            raise Invalid(f"no handler for task {task.name!r}")
        if not 0 <= delay_s <= _MAX_DELAY_S:
            raise Invalid(f"delay_s must be between 0 and {_MAX_DELAY_S}")
        message: dramatiq.Message[Any] = dramatiq.Message(
            queue_name=self._queue,
            actor_name=task.name,
            args=(task.payload,),
            kwargs={"key": task.key},
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
        return await asyncio.to_thread(read_dead_letters, self._broker, self._queue, limit)

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


def read_dead_letters(broker: RedisBroker, queue_name: str = DEFAULT_QUEUE, limit: int = 100) -> list[DeadLetter]:
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
        found.append(
            DeadLetter(
                message_id=_text(redis_id),
                task=Task(
                    name=message.actor_name,
                    payload=dict(message.args[0]) if message.args else {},
                    key=str(message.options.get(TASK_KEY_OPTION) or message.kwargs.get("key", "")),
                ),
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
