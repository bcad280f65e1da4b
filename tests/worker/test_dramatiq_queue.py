"""The dramatiq TaskQueue adapter beyond the shared contract: dead letters, requeueing, the wire format."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import dramatiq
import pytest

from jyntrix_adapters.dramatiq.broker import TASK_KEY_OPTION, DramatiqConfig, make_broker, pending_key
from jyntrix_adapters.dramatiq.inline_worker import InlineWorker
from jyntrix_adapters.dramatiq.task_queue import DramatiqTaskQueue
from jyntrix_domain.errors import Invalid, NotFound, Unavailable
from jyntrix_domain.tasks import ExtractMemories, ReindexUser, SummariseSession, TaskHandler, TaskMessage
from testsupport.redis import delete_prefixed, unique_prefix

RunnerFactory = Callable[[dict[type[TaskMessage], TaskHandler]], InlineWorker]


@pytest.fixture
async def make_runner(redis_url: str) -> AsyncIterator[RunnerFactory]:
    namespace = unique_prefix().rstrip(":")
    opened: list[InlineWorker] = []

    def make(handlers: dict[type[TaskMessage], TaskHandler]) -> InlineWorker:
        config = DramatiqConfig(namespace=namespace, max_retries=2, min_backoff_ms=10, max_backoff_ms=20)
        runner = InlineWorker(make_broker(redis_url, config, asyncio_thread=False), handlers, config)
        opened.append(runner)
        return runner

    yield make
    for runner in opened:
        await runner.close()
    await delete_prefixed(redis_url, namespace + ":")


SENT = ExtractMemories(user_id="u1", conversation_id="c9", message_ids=("m1",))


async def test_a_dead_letter_keeps_the_last_error_and_the_attempts(make_runner: RunnerFactory) -> None:
    async def missing(task: ExtractMemories) -> None:
        raise NotFound(f"no conversation {task.conversation_id}")

    runner = make_runner({ExtractMemories: missing})
    await runner.enqueue(SENT)
    await runner.drain()
    [dead] = runner.dead_letters
    assert dead.attempts == 3
    assert dead.error == "NotFound: no conversation c9"
    assert dead.task == SENT
    assert dead.key == SENT.key
    assert dead.payload == {"type": "extract_memories", "user_id": "u1", "conversation_id": "c9", "message_ids": ["m1"]}


async def test_invalid_tasks_are_dead_lettered_without_retries(make_runner: RunnerFactory) -> None:
    attempts: list[TaskMessage] = []

    async def strict(task: ReindexUser) -> None:
        attempts.append(task)
        raise Invalid("payload needs user_id")

    runner = make_runner({ReindexUser: strict})
    await runner.enqueue(ReindexUser(user_id="u1"))
    await runner.drain()
    assert len(attempts) == 1
    [dead] = runner.dead_letters
    assert (dead.attempts, dead.error) == (1, "Invalid: payload needs user_id")


async def test_a_message_that_is_not_a_task_is_dead_lettered_at_once(make_runner: RunnerFactory) -> None:
    attempts: list[TaskMessage] = []

    async def handle(task: ExtractMemories) -> None:
        attempts.append(task)

    runner = make_runner({ExtractMemories: handle})
    broker = runner.queue.broker
    message: dramatiq.Message[object] = dramatiq.Message(
        queue_name=runner.queue.queue_name,
        actor_name="extract_memories",
        args=({"user_id": "u1"},),
        kwargs={},
        options={TASK_KEY_OPTION: "malformed"},
    )
    await asyncio.to_thread(broker.enqueue, message)
    await runner.drain()
    assert attempts == []
    [dead] = runner.dead_letters
    assert (dead.key, dead.task, dead.attempts) == ("malformed", None, 1)
    assert dead.payload == {"type": "extract_memories", "user_id": "u1"}
    assert dead.error.startswith("Invalid")


async def test_a_message_sent_before_tasks_were_typed_still_runs(make_runner: RunnerFactory) -> None:
    seen: list[TaskMessage] = []

    async def handle(task: SummariseSession) -> None:
        seen.append(task)

    runner = make_runner({SummariseSession: handle})
    old: dramatiq.Message[object] = dramatiq.Message(
        queue_name=runner.queue.queue_name,
        actor_name="summarise_session",
        args=({"user_id": "u1", "conversation_id": "c1"},),
        kwargs={"key": "summarise:c1:"},
        options={TASK_KEY_OPTION: "summarise:c1:"},
    )
    await asyncio.to_thread(runner.queue.broker.enqueue, old)
    await runner.drain()
    assert seen == [SummariseSession(user_id="u1", conversation_id="c1")]


async def test_a_dead_lettered_key_can_be_enqueued_again(make_runner: RunnerFactory) -> None:
    calls: list[int] = []

    async def fails_first(task: ReindexUser) -> None:
        calls.append(1)
        if len(calls) <= 3:
            raise RuntimeError("down")

    runner = make_runner({ReindexUser: fails_first})
    await runner.enqueue(ReindexUser(user_id="k"))
    await runner.drain()
    assert len(runner.dead_letters) == 1
    await runner.enqueue(ReindexUser(user_id="k"))
    await runner.drain()
    assert len(calls) == 4


async def test_a_requeued_dead_letter_runs_again_with_a_fresh_retry_budget(make_runner: RunnerFactory) -> None:
    ready = asyncio.Event()
    done: list[str] = []

    async def needs_ready(task: ReindexUser) -> None:
        if not ready.is_set():
            raise RuntimeError("not yet")
        done.append(task.user_id)

    runner = make_runner({ReindexUser: needs_ready})
    await runner.enqueue(ReindexUser(user_id="k"))
    await runner.drain()
    [dead] = runner.dead_letters
    ready.set()
    assert await runner.queue.requeue_dead_letter(dead.message_id)
    assert not await runner.queue.requeue_dead_letter(dead.message_id)
    await runner.drain()
    assert done == ["k"]
    assert runner.dead_letters == []


async def test_a_finished_task_releases_its_key(make_runner: RunnerFactory, redis_url: str) -> None:
    async def ok(task: ReindexUser) -> None:
        return None

    runner = make_runner({ReindexUser: ok})
    await runner.enqueue(ReindexUser(user_id="k"))
    await runner.drain()
    client = runner.queue.broker.client
    key = ReindexUser(user_id="k").key
    assert not await asyncio.to_thread(client.exists, pending_key(runner.queue.broker.namespace, key))


async def test_an_unreachable_broker_is_unavailable() -> None:
    queue = DramatiqTaskQueue.from_url("redis://127.0.0.1:1/0")
    with pytest.raises(Unavailable):
        await queue.enqueue(ReindexUser(user_id="k"))
    with pytest.raises(Unavailable):
        await queue.ping()
    await queue.close()


async def test_a_sender_refuses_unknown_tasks_and_long_delays(redis_url: str) -> None:
    config = DramatiqConfig(namespace=unique_prefix().rstrip(":"))
    queue = DramatiqTaskQueue.from_url(redis_url, config, task_types=[ReindexUser])
    await queue.ping()
    with pytest.raises(Invalid):
        await queue.enqueue(SENT)
    with pytest.raises(Invalid):
        await queue.enqueue(ReindexUser(user_id="k"), delay_s=8 * 86_400)
    await queue.close()
    with pytest.raises(Unavailable):
        await queue.enqueue(ReindexUser(user_id="k"))
