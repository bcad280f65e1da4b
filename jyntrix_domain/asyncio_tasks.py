"""Helpers for asyncio tasks: stopping a background one (a timer, a periodic pass) that the caller owns."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def stop_task(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` (None: it never started) and wait until it has stopped.

    Its CancelledError is the stop asked for, not a failure, so it is not raised to the caller.
    """
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
