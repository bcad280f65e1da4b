"""Waiting, in a test, for something that happens in its own time (an expiry, a window passing)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


async def holds_within(check: Callable[[], Awaitable[bool]], bound_s: float = 5.0, every_s: float = 0.02) -> bool:
    """Poll `check()` until it holds; False if it still does not after `bound_s`."""
    deadline = time.monotonic() + bound_s
    while time.monotonic() < deadline:
        if await check():
            return True
        await asyncio.sleep(every_s)
    return False
