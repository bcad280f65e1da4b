"""The app on the in_process deployment as the HTTP tests build it: its settings, tokens for its users, its runtime,
and waiting for the background work a request enqueued. (The fixtures over these: tests/http/conftest.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
from litestar.testing import AsyncTestClient, TestClient

from jyntrix_adapters.inprocess.task_queue import InProcessTaskQueue
from jyntrix_bootstrap.resources import in_process_storage
from jyntrix_bootstrap.services import Runtime
from jyntrix_bootstrap.settings import Deployment, Environment, Settings
from jyntrix_http.app import create_app
from jyntrix_http.auth import mint_token

SECRET = "http-tests-secret-0123456789abcdefghijklmnopqrstuvwxyz"
TEST_HOST = "testserver.local"

Client = AsyncTestClient[Any]


def make_settings(tmp_path: Path, **changes: Any) -> Settings:
    base = Settings(
        jyntrix_deployment=Deployment.IN_PROCESS,
        jyntrix_data_dir=str(tmp_path),
        supabase_jwt_secret=SECRET,
        environment=Environment.DEVELOPMENT,
        # no pacing: the in-process tests read whole streams
        offline_llm_token_delay_s=0.0,
        # the Host that Litestar's test clients send
        allowed_hosts=(TEST_HOST,),
    )
    return msgspec.structs.replace(base, **changes)


def served_openapi(data_dir: Path) -> dict[str, Any]:
    """The OpenAPI document an app on these settings serves at /schema/openapi.json."""
    with TestClient(create_app(make_settings(data_dir))) as client:
        response = client.get("/schema/openapi.json")
        assert response.status_code == 200
        document: dict[str, Any] = response.json()
        return document


def bearer(user_id: str, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(SECRET, user_id, **claims)}"}


def services_of(client: Client) -> Runtime:
    """The app's runtime; it lives on the app's event loop, so call it with client.blocking_portal.call."""
    runtime: Runtime = client.app.state.runtime
    return runtime


def drain_tasks(client: Client) -> None:
    """Wait for the background tasks (extraction) that turns enqueued; they run on the app's loop."""
    tasks = services_of(client).tasks
    assert isinstance(tasks, InProcessTaskQueue)
    # Not the summaries scheduled for when a conversation has stayed idle (half an hour away).
    client.blocking_portal.call(lambda: tasks.drain(scheduled=False))


def flush_analytics(client: Client) -> None:
    drain_tasks(client)
    client.blocking_portal.call(services_of(client).emitter.flush)


def in_process_overrides(*keep: str) -> dict[str, Any]:
    """Container overrides putting every resource but those named in `keep` on its in-process adapter.

    With settings of the embedded deployment, the kept ones are the real adapters (Postgres, Redis...).
    """
    from jyntrix_adapters.english.offline.language_model import OfflineLanguageModel
    from jyntrix_adapters.inprocess.cache import InProcessCache
    from jyntrix_adapters.inprocess.embedder import HashEmbedder
    from jyntrix_adapters.inprocess.keyword_index import InProcessKeywordIndex
    from jyntrix_adapters.inprocess.rate_limiter import InProcessRateLimiter
    from jyntrix_adapters.inprocess.vector_index import InProcessVectorIndex

    overrides: dict[str, Any] = {
        "storage": in_process_storage(),
        "vectors": InProcessVectorIndex(),
        "keywords": InProcessKeywordIndex(),
        "base_embedder": HashEmbedder(),
        "llm": OfflineLanguageModel(),
        "cache": InProcessCache(),
        "rate_limiter": InProcessRateLimiter(),
    }
    return {name: value for name, value in overrides.items() if name not in keep}
