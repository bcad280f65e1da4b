"""The worker's standard wiring (jyntrix_bootstrap.worker): the composition root's services, bound to handlers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from jyntrix_bootstrap.resources import in_process_storage
from jyntrix_bootstrap.settings import Deployment, Settings, WorkerConfig
from jyntrix_bootstrap.worker import WorkerRuntime, open_worker_runtime
from jyntrix_domain.model import Conversation, MemoryFilter, Message, Role
from jyntrix_domain.ports import TaskQueue
from jyntrix_domain.tasks import TASK_TYPES, ExtractMemories, SummariseSession
from tests.worker.recording_queue import RecordingQueue

NOW = datetime(2025, 1, 8, 12, 0, tzinfo=UTC)


async def test_the_standard_wiring_extracts_and_schedules_the_idle_summary(tmp_path: Path) -> None:
    settings = Settings(
        jyntrix_deployment=Deployment.IN_PROCESS,
        jyntrix_data_dir=str(tmp_path),
        worker=WorkerConfig(summary_idle_s=120),
    )
    storage = in_process_storage()
    await storage.conversations.create(Conversation(id="c1", user_id="u1", created_at=NOW, updated_at=NOW))
    said = Message(
        id="m1", conversation_id="c1", user_id="u1", role=Role.USER, content="I live in Lisbon.", created_at=NOW
    )
    await storage.conversations.add_message(said)
    follow_ups = RecordingQueue()
    worker = await open_worker_runtime(settings, follow_ups, overrides={"storage": storage})
    try:
        assert set(worker.handlers) == set(TASK_TYPES)
        await worker.handlers[ExtractMemories](ExtractMemories(user_id="u1", conversation_id="c1", message_ids=("m1",)))
    finally:
        await worker.aclose()
    assert [m.content for m in await storage.memories.list("u1", MemoryFilter())] == ["The user lives in Lisbon"]
    assert follow_ups.sent == [(SummariseSession(user_id="u1", conversation_id="c1", if_last_message_id="m1"), 120)]


async def test_a_factory_named_in_the_settings_replaces_the_standard_wiring(tmp_path: Path) -> None:
    settings = Settings(
        jyntrix_deployment=Deployment.IN_PROCESS,
        jyntrix_data_dir=str(tmp_path),
        worker=WorkerConfig(services="tests.worker.test_wiring:tiny_factory"),
    )
    worker = await open_worker_runtime(settings, RecordingQueue(), env={"GREETING": "hi"})
    assert list(worker.handlers) == [SummariseSession]
    await worker.handlers[SummariseSession](SummariseSession(user_id="u1", conversation_id="c1"))
    await worker.aclose()


async def tiny_factory(env: Mapping[str, str], tasks: TaskQueue | None) -> WorkerRuntime:
    async def summarise(task: SummariseSession) -> None:
        assert env["GREETING"] == "hi"

    async def close() -> None:
        return None

    return WorkerRuntime(handlers={SummariseSession: summarise}, aclose=close)
