"""TaskQueueStats contract: every task queue adapter reports its depth and dead letters the same way.

The queues come from the TaskQueue contract's fixture (one param per adapter), so a new adapter is covered here
as soon as it is added there.
"""

from __future__ import annotations

import asyncio

from contracts.test_task_queue import QueueFactory, Task, make_queue, summary, task, until
from jyntrix_domain.errors import Invalid
from jyntrix_domain.tasks import QueueStats, ReindexUser, SummariseSession

__all__ = ["make_queue"]  # the fixture, parametrised over every adapter


async def stats_until(queue: object, wanted: QueueStats, bound_s: float = 5.0) -> QueueStats:
    """The queue's stats once they equal `wanted` (a broker reports an acknowledgement a moment after it)."""
    deadline = asyncio.get_running_loop().time() + bound_s
    for _ in range(int(bound_s / 0.02)):
        latest: QueueStats = await queue.stats()  # type: ignore[attr-defined]
        if latest == wanted or asyncio.get_running_loop().time() >= deadline:
            return latest
        await asyncio.sleep(0.02)
    stats: QueueStats = await queue.stats()  # type: ignore[attr-defined]
    return stats


async def test_an_idle_queue_reports_nothing_waiting_and_no_dead_letters(make_queue: QueueFactory) -> None:
    async def handle(t: Task) -> None:
        return None

    queue = make_queue({ReindexUser: handle})
    assert await queue.stats() == QueueStats(depth=0, dead_letters=0)


async def test_depth_counts_running_and_waiting_tasks_until_they_finish(make_queue: QueueFactory) -> None:
    release = asyncio.Event()
    started: list[str] = []

    async def slow(t: Task) -> None:
        started.append(t.key)
        await release.wait()

    queue = make_queue({ReindexUser: slow}, concurrency=1)
    for user in ("a", "b", "c"):
        await queue.enqueue(task(user))
    assert await until(lambda: len(started) == 1)
    assert (await queue.stats()).depth == 3  # one running, two waiting their turn
    release.set()
    await queue.drain()
    assert await stats_until(queue, QueueStats(depth=0, dead_letters=0)) == QueueStats(depth=0, dead_letters=0)


async def test_dead_letters_count_tasks_that_failed_for_good(make_queue: QueueFactory) -> None:
    async def refuse(t: Task) -> None:
        raise Invalid("this task can never succeed")

    async def fine(t: Task) -> None:
        return None

    queue = make_queue({SummariseSession: refuse, ReindexUser: fine}, max_retries=0)
    await queue.enqueue(summary("bad-1", "u1"))
    await queue.enqueue(summary("bad-2", "u1"))
    await queue.enqueue(task("u2"))
    await queue.drain()
    wanted = QueueStats(depth=0, dead_letters=2)
    assert await stats_until(queue, wanted) == wanted
