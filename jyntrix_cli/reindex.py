"""`jyntrix reindex`: rebuild the selected vector and keyword indexes from the database, the source of truth.

That is how a deployment switches index backends (say Qdrant to pgvector): set VECTOR_INDEX or
KEYWORD_INDEX, run this once, then start the API and the worker on the new settings. Each user's
indexes are emptied and refilled from their current memories (MemoryService.reindex), so running it
again changes nothing, and an interrupted run is finished by running it again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from jyntrix_bootstrap.container import build_services
from jyntrix_bootstrap.settings import Settings


@dataclass(frozen=True)
class ReindexSummary:
    """What one run rebuilt, and into which backends."""

    users: int
    memories: int
    vector_index: str
    keyword_index: str
    seconds: float

    def line(self) -> str:
        return (
            f"Reindexed {self.memories} memories of {self.users} users into "
            f"vector_index={self.vector_index}, keyword_index={self.keyword_index} in {self.seconds:.1f} s"
        )


async def reindex(settings: Settings, user: str | None, console: Console) -> ReindexSummary:
    """Rebuild the indexes of `user`, or of every user with memories, with a progress bar on `console`."""
    started = time.monotonic()
    runtime = await build_services(settings)
    try:
        users = [user] if user else await runtime.storage.memories.user_ids()
        total = 0
        columns = (TextColumn("reindex"), BarColumn(), MofNCompleteColumn(), TextColumn("users"), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=False) as progress:
            bar = progress.add_task("users", total=len(users))
            for user_id in users:
                total += await runtime.services.memories.reindex(user_id)
                progress.advance(bar)
        return ReindexSummary(
            users=len(users),
            memories=total,
            vector_index=runtime.backends["vector_index"].backend,
            keyword_index=runtime.backends["keyword_index"].backend,
            seconds=time.monotonic() - started,
        )
    finally:
        await runtime.aclose()
