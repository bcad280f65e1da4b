"""The services a test worker process runs with: Postgres the test can read, the rest in-process.

`JYNTRIX_WORKER_SERVICES=tests.worker.worker_app:build` points a `python -m jyntrix_worker`
process here. With a file named `pause` in JYNTRIX_TEST_HOOK_DIR, an extraction stops after
writing its first memory, drops a `paused-<pid>` file and sleeps, so that a test can kill the
worker in the middle of a task.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from pathlib import Path

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_adapters.inprocess.clock import SystemClock
from jyntrix_adapters.postgres.stores import open_postgres
from jyntrix_bootstrap.worker import WorkerRuntime
from jyntrix_domain.analytics import AnalyticsService
from jyntrix_domain.consolidation import Consolidator, Decision
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.memories import MemoryService
from jyntrix_domain.ports import ConversationPorts, TaskQueue
from jyntrix_domain.task_handlers import build_handlers
from testsupport.memory_services import memory_service


class PausingConsolidator(Consolidator):
    """Sleeps after its first write while the hook directory holds a `pause` file."""

    def __init__(self, memories: MemoryService, hook_dir: Path | None) -> None:
        super().__init__(memories, EnglishLanguage())
        self._hook_dir = hook_dir

    async def apply(self, user_id: str, decision: Decision) -> Decision:
        applied = await super().apply(user_id, decision)
        if self._hook_dir is not None and (self._hook_dir / "pause").exists():
            (self._hook_dir / f"paused-{os.getpid()}").write_text(applied.memory_id or "")
            await asyncio.sleep(300)
        return applied


async def build(env: Mapping[str, str], tasks: TaskQueue | None) -> WorkerRuntime:
    stores = await open_postgres(env["DATABASE_URL"], run_migrations=False, min_size=1, max_size=4)
    clock = SystemClock()
    memories = memory_service(stores.memories, stores.graph, clock)
    hook_dir = Path(env["JYNTRIX_TEST_HOOK_DIR"]) if env.get("JYNTRIX_TEST_HOOK_DIR") else None
    conversations = ConversationPorts(
        conversations=stores.conversations, ledger=stores.ledger, clock=clock, language=EnglishLanguage()
    )
    extraction = ExtractionService(
        conversations,
        memories=memories,
        extractor=DeterministicExtractor(),
        consolidator=PausingConsolidator(memories, hook_dir),
    )
    handlers = build_handlers(
        conversations,
        memories=memories,
        analytics=AnalyticsService(stores.analytics, clock),
        extraction=extraction,
        tasks=tasks,
        summary_idle_s=float(env.get("JYNTRIX_SUMMARY_IDLE_S", "0")),
    )
    return WorkerRuntime(handlers=handlers, aclose=stores.close)
