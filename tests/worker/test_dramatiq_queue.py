"""The dramatiq TaskQueue adapter beyond the shared contract: dead letters, requeueing, broker errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from jyntrix_adapters.dramatiq.runner import DramatiqRunner

from jyntrix_adapters.dramatiq.broker import make_broker, pending_key
from jyntrix_adapters.dramatiq.task_queue import DramatiqTaskQueue
from jyntrix_domain.errors import Invalid, NotFound, Unavailable
from jyntrix_domain.model import Task
from jyntrix_domain.ports import TaskHandler
from testsupport.redis import delete_prefixed, unique_prefix

RunnerFactory = Callable[[dict[str, TaskHandler]], DramatiqRunner]


@pytest.fixture
async def make_runner(redis_url: str) -> AsyncIterator[RunnerFactory]:
    namespace = unique_prefix().rstrip(":")
    opened: list[DramatiqRunner] = []

    def make(handlers: dict[str, TaskHandler]) -> DramatiqRunner:
        broker = make_broker(redis_url, namespace=namespace, asyncio_thread=False)
        runner = DramatiqRunner(broker, handlers, max_retries=2, min_backoff_ms=10, max_backoff_ms=20)
        opened.append(runner)
        return runner

    yield make
    for runner in opened:
        await runner.close()
    await delete_prefixed(redis_url, namespace + ":")


async def test_a_dead_letter_keeps_the_last_error_and_the_attempts(make_runner: RunnerFactory) -> None:
    async def missing(task: Task) -> None:
        raise NotFound(f"no conversation {task.payload['conversation_id']}")

    runner = make_runner({"extract": missing})
    await runner.enqueue(Task(name="extract", payload={"conversation_id": "c9"}, key="k"))
    await runner.drain()
    [dead] = runner.dead_letters
    assert dead.attempts == 3
    assert dead.error == "NotFound: no conversation c9"
    assert dead.task == Task(name="extract", payload={"conversation_id": "c9"}, key="k")


async def test_invalid_tasks_are_dead_lettered_without_retries(make_runner: RunnerFactory) -> None:
    attempts: list[Task] = []

    async def strict(task: Task) -> None:
        attempts.append(task)
        raise Invalid("payload needs user_id")

    runner = make_runner({"strict": strict})
    await runner.enqueue(Task(name="strict", payload={}, key="k"))
    await runner.drain()
    assert len(attempts) == 1
    [dead] = runner.dead_letters
    assert (dead.attempts, dead.error) == (1, "Invalid: payload needs user_id")


async def test_a_dead_lettered_key_can_be_enqueued_again(make_runner: RunnerFactory) -> None:
    calls: list[int] = []

    async def fails_first(task: Task) -> None:
        calls.append(1)
        if len(calls) <= 3:
            raise RuntimeError("down")

    runner = make_runner({"work": fails_first})
    await runner.enqueue(Task(name="work", payload={}, key="k"))
    await runner.drain()
    assert len(runner.dead_letters) == 1
    await runner.enqueue(Task(name="work", payload={}, key="k"))
    await runner.drain()
    assert len(calls) == 4


async def test_a_requeued_dead_letter_runs_again_with_a_fresh_retry_budget(make_runner: RunnerFactory) -> None:
    ready = asyncio.Event()
    done: list[str] = []

    async def needs_ready(task: Task) -> None:
        if not ready.is_set():
            raise RuntimeError("not yet")
        done.append(task.key)

    runner = make_runner({"work": needs_ready})
    await runner.enqueue(Task(name="work", payload={"n": 1}, key="k"))
    await runner.drain()
    [dead] = runner.dead_letters
    ready.set()
    assert await runner.queue.requeue_dead_letter(dead.message_id)
    assert not await runner.queue.requeue_dead_letter(dead.message_id)
    await runner.drain()
    assert done == ["k"]
    assert runner.dead_letters == []


async def test_a_finished_task_releases_its_key(make_runner: RunnerFactory, redis_url: str) -> None:
    async def ok(task: Task) -> None:
        return None

    runner = make_runner({"work": ok})
    await runner.enqueue(Task(name="work", payload={}, key="k"))
    await runner.drain()
    client = runner.queue.broker.client
    assert not await asyncio.to_thread(client.exists, pending_key(runner.queue.broker.namespace, "k"))


async def test_an_unreachable_broker_is_unavailable() -> None:
    queue = DramatiqTaskQueue.from_url("redis://127.0.0.1:1/0")
    with pytest.raises(Unavailable):
        await queue.enqueue(Task(name="work", payload={}, key="k"))
    with pytest.raises(Unavailable):
        await queue.ping()
    await queue.close()


async def test_a_sender_refuses_unknown_tasks_and_long_delays(redis_url: str) -> None:
    queue = DramatiqTaskQueue.from_url(redis_url, namespace=unique_prefix().rstrip(":"), task_names=["work"])
    await queue.ping()
    with pytest.raises(Invalid):
        await queue.enqueue(Task(name="other", payload={}, key="k"))
    with pytest.raises(Invalid):
        await queue.enqueue(Task(name="work", payload={}, key="k"), delay_s=8 * 86_400)
    await queue.close()
    with pytest.raises(Unavailable):
        await queue.enqueue(Task(name="work", payload={}, key="k"))
