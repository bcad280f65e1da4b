"""AsyncResource: the base of an adapter that opens and closes, so that `async with adapter:` does both."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class AsyncResource:
    """`async with` opens the adapter (`open`, idempotent) and closes it afterwards (`close`)."""

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
