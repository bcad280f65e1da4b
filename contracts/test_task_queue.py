"""TaskQueue contract: every TaskQueue adapter passes these same tests.

Besides the port's `enqueue`, an adapter under test offers `drain()` (wait for everything
enqueued so far), `dead_letters` (jyntrix_domain.tasks.DeadLetter: tasks that failed for good)
and `close()`. Tasks are the domain's typed messages; handlers are keyed by task type.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import pytest

from jyntrix_adapters.dramatiq.inline_worker import InlineWorker
from jyntrix_adapters.inprocess.task_queue import InProcessTaskQueue
from jyntrix_bootstrap.choices import TaskRunner
from jyntrix_bootstrap.settings import load_settings
from jyntrix_bootstrap.worker import open_broker, worker_settings
from jyntrix_domain.errors import Forbidden, Invalid, NotFound, Unavailable, Unsupported
from jyntrix_domain.tasks import ExtractMemories, Handlers, ReindexUser, SummariseSession, TaskHandler
from testsupport.redis import delete_prefixed, unique_prefix

Task = ReindexUser | SummariseSession | ExtractMemories


class QueueFactory(Protocol):
    def __call__(self, handlers: Handlers, *, max_retries: int = 3, concurrency: int = 4) -> Any: ...


# Retries back off for real in every adapter; the factory keeps the waits short.
_BACKOFF_S = 0.01


@pytest.fixture(params=list(TaskRunner))
async def make_queue(request: pytest.FixtureRequest) -> AsyncIterator[QueueFactory]:
    """Builds queues around the test's handlers, one param per TASK_RUNNER, each configured from the variables an
    operator sets (TASK_* for the in-process queue, JYNTRIX_WORKER_* for dramatiq's)."""
    opened: list[Any] = []
    runner: TaskRunner = request.param
    # dramatiq: a worker in this process on a broker in the test's own Redis namespace.
    namespace = unique_prefix().rstrip(":") if runner is TaskRunner.DRAMATIQ else ""

    def make(handlers: Handlers, *, max_retries: int = 3, concurrency: int = 4) -> Any:
        if runner is TaskRunner.IN_PROCESS:
            env = {"TASK_CONCURRENCY": str(concurrency), "TASK_MAX_RETRIES": str(max_retries)}
            settings = load_settings({**env, "TASK_BACKOFF_S": str(_BACKOFF_S)}, create_local_secret=False)
            queue: Any = InProcessTaskQueue(handlers, settings.tasks)
        else:
            env = {"TASK_RUNNER": "dramatiq", "REDIS_URL": request.getfixturevalue("redis_url")}
            env |= {"JYNTRIX_WORKER_NAMESPACE": namespace, "JYNTRIX_WORKER_MAX_RETRIES": str(max_retries)}
            env |= {"JYNTRIX_WORKER_MIN_BACKOFF_MS": "10", "JYNTRIX_WORKER_MAX_BACKOFF_MS": "40"}
            settings = worker_settings(env)
            queue = InlineWorker(open_broker(settings), handlers, settings.dramatiq, concurrency=concurrency)
        opened.append(queue)
        return queue

    yield make
    for queue in opened:
        await queue.close()
    if namespace:
        await delete_prefixed(request.getfixturevalue("redis_url"), namespace + ":")


def task(user_id: str) -> ReindexUser:
    """A task whose key is its user id."""
    return ReindexUser(user_id=user_id)


def summary(conversation_id: str, user_id: str) -> SummariseSession:
    """A task whose key is its conversation id (not its user)."""
    return SummariseSession(user_id=user_id, conversation_id=conversation_id)


def user(t: Task) -> str:
    return t.user_id


def recorder() -> tuple[list[Task], TaskHandler]:
    seen: list[Task] = []

    async def handle(t: Task) -> None:
        seen.append(t)

    return seen, handle


async def until(predicate: Callable[[], bool], bound_s: float = 5.0) -> bool:
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.01)
    return predicate()


async def test_runs_the_handler_with_the_task(make_queue: QueueFactory) -> None:
    seen, handle = recorder()
    queue = make_queue({ExtractMemories: handle})
    sent = ExtractMemories(user_id="u1", conversation_id="c1", message_ids=("m1", "m2"))
    await queue.enqueue(sent)
    await queue.drain()
    assert seen == [sent]


async def test_routes_each_task_to_its_own_handler(make_queue: QueueFactory) -> None:
    reindexed, reindex = recorder()
    summarised, summarise = recorder()
    queue = make_queue({ReindexUser: reindex, SummariseSession: summarise})
    await queue.enqueue(task("a"))
    await queue.enqueue(summary("b", "u1"))
    await queue.drain()
    assert reindexed == [task("a")]
    assert summarised == [summary("b", "u1")]


async def test_runs_every_task_once(make_queue: QueueFactory) -> None:
    seen, handle = recorder()
    queue = make_queue({ReindexUser: handle})
    for i in range(50):
        await queue.enqueue(task(f"{i}"))
    await queue.drain()
    assert sorted(int(user(t)) for t in seen) == list(range(50))


async def test_enqueue_returns_before_the_handler_finishes(make_queue: QueueFactory) -> None:
    release = asyncio.Event()
    finished: list[str] = []

    async def slow(t: Task) -> None:
        await release.wait()
        finished.append(t.key)

    queue = make_queue({ReindexUser: slow})
    await queue.enqueue(task("k"))
    assert finished == []
    release.set()
    await queue.drain()
    assert finished == [task("k").key]


@pytest.mark.parametrize(
    ("error", "attempts_needed"),
    [
        (ConnectionError("backend blip"), 3),
        # A missing record is retried, since it may appear (a message not committed yet).
        (NotFound("message m1 not committed yet"), 2),
    ],
    ids=["a_failing_task_until_it_succeeds", "a_missing_record_since_it_may_appear"],
)
async def test_retries(make_queue: QueueFactory, error: Exception, attempts_needed: int) -> None:
    attempts: list[int] = []

    async def flaky(t: Task) -> None:
        attempts.append(1)
        if len(attempts) < attempts_needed:
            raise error

    queue = make_queue({ReindexUser: flaky}, max_retries=attempts_needed)
    await queue.enqueue(task("k"))
    await queue.drain()
    assert len(attempts) == attempts_needed
    assert queue.dead_letters == []


async def test_dead_letters_a_task_that_fails_beyond_max_retries(make_queue: QueueFactory) -> None:
    attempts: list[int] = []

    async def broken(t: Task) -> None:
        attempts.append(1)
        raise ValueError("cannot parse payload")

    queue = make_queue({ReindexUser: broken}, max_retries=2)
    sent = task("k")
    await queue.enqueue(sent)
    await queue.drain()
    assert len(attempts) == 3  # the first attempt and two retries
    [dead] = queue.dead_letters
    assert dead.task == sent
    assert dead.key == sent.key
    assert dead.attempts == 3
    assert "cannot parse payload" in dead.error


async def test_a_failing_task_does_not_hold_up_the_others(make_queue: QueueFactory) -> None:
    seen, handle = recorder()

    async def broken(t: Task) -> None:
        raise RuntimeError("always")

    queue = make_queue({SummariseSession: broken, ReindexUser: handle}, max_retries=1)
    await queue.enqueue(summary("bad", "u1"))
    for i in range(5):
        await queue.enqueue(task(f"good{i}"))
    await queue.drain()
    assert len(seen) == 5
    assert [d.key for d in queue.dead_letters] == [summary("bad", "u1").key]


async def test_delayed_task_runs_after_the_undelayed_ones(make_queue: QueueFactory) -> None:
    seen, handle = recorder()
    queue = make_queue({ReindexUser: handle})
    await queue.enqueue(task("later"), delay_s=0.3)
    await queue.enqueue(task("now"))
    assert await until(lambda: len(seen) == 1)
    assert [user(t) for t in seen] == ["now"]
    await queue.drain()
    assert [user(t) for t in seen] == ["now", "later"]


async def test_drain_waits_for_slow_and_retried_tasks(make_queue: QueueFactory) -> None:
    done: list[str] = []
    failures: list[int] = []

    async def slow(t: Task) -> None:
        await asyncio.sleep(0.05)
        done.append(user(t))

    async def flaky(t: Task) -> None:
        if not failures:
            failures.append(1)
            raise ConnectionError("once")
        done.append(user(t))

    queue = make_queue({ReindexUser: slow, SummariseSession: flaky})
    for i in range(6):
        await queue.enqueue(task(f"s{i}"))
    await queue.enqueue(summary("c1", "f"))
    await queue.drain()
    assert sorted(done) == ["f", "s0", "s1", "s2", "s3", "s4", "s5"]


async def test_duplicate_key_while_the_first_is_pending_is_dropped(make_queue: QueueFactory) -> None:
    release = asyncio.Event()
    seen: list[Task] = []

    async def gated(t: Task) -> None:
        seen.append(t)
        await release.wait()

    queue = make_queue({SummariseSession: gated})
    # A summary's key is its conversation (and last message): the user does not change it.
    await queue.enqueue(summary("same", "1"))
    assert await until(lambda: len(seen) == 1)  # now running
    await queue.enqueue(summary("same", "2"))
    await queue.enqueue(summary("other", "3"))
    release.set()
    await queue.drain()
    assert sorted(user(t) for t in seen) == ["1", "3"]


async def test_duplicate_key_of_a_delayed_task_is_dropped(make_queue: QueueFactory) -> None:
    seen, handle = recorder()
    queue = make_queue({SummariseSession: handle})
    await queue.enqueue(summary("same", "1"), delay_s=0.1)
    await queue.enqueue(summary("same", "2"))
    await queue.drain()
    assert [user(t) for t in seen] == ["1"]


async def test_never_runs_more_handlers_at_once_than_its_concurrency(make_queue: QueueFactory) -> None:
    release = asyncio.Event()
    running = 0
    peak = 0

    async def gated(t: Task) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await release.wait()
        running -= 1

    queue = make_queue({ReindexUser: gated}, concurrency=2)
    for i in range(6):
        await queue.enqueue(task(f"k{i}"))
    assert await until(lambda: running == 2)
    await asyncio.sleep(0.1)  # time for a third handler to start, if the limit leaked
    assert running == 2
    release.set()
    await queue.drain()
    assert peak == 2


async def test_a_task_type_without_a_handler_is_invalid(make_queue: QueueFactory) -> None:
    _, handle = recorder()
    queue = make_queue({ReindexUser: handle})
    with pytest.raises(Invalid):
        await queue.enqueue(summary("c1", "u1"))


async def test_close_waits_for_running_handlers(make_queue: QueueFactory) -> None:
    started = asyncio.Event()
    finished: list[str] = []

    async def slow(t: Task) -> None:
        started.set()
        await asyncio.sleep(0.1)
        finished.append(user(t))

    queue = make_queue({ReindexUser: slow})
    await queue.enqueue(task("k"))
    await started.wait()
    await queue.close()
    assert finished == ["k"]


async def test_enqueue_after_close_is_refused(make_queue: QueueFactory) -> None:
    _, handle = recorder()
    queue = make_queue({ReindexUser: handle})
    await queue.close()
    with pytest.raises(Unavailable):
        await queue.enqueue(task("k"))


@pytest.mark.parametrize(
    "error", [Invalid("payload needs user_id"), Forbidden("not this user's"), Unsupported("no structured output")]
)
async def test_a_task_that_can_never_succeed_is_dead_lettered_without_retries(
    make_queue: QueueFactory, error: Exception
) -> None:
    attempts: list[Task] = []

    async def hopeless(t: Task) -> None:
        attempts.append(t)
        raise error

    queue = make_queue({ReindexUser: hopeless}, max_retries=3)
    await queue.enqueue(task("k"))
    await queue.drain()
    assert len(attempts) == 1
    [dead] = queue.dead_letters
    assert dead.attempts == 1
    assert dead.task == task("k")
    assert type(error).__name__ in dead.error
