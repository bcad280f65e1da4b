"""stop_task: cancelling a background task and waiting for it, without its cancellation reaching the caller."""

from __future__ import annotations

import asyncio

from jyntrix_domain.asyncio_tasks import stop_task


async def test_a_running_task_is_cancelled_and_awaited() -> None:
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(forever())
    await started.wait()
    await stop_task(task)
    assert task.cancelled()


async def test_no_task_is_nothing_to_stop() -> None:
    await stop_task(None)
