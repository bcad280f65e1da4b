"""One app per module on the in_process deployment, with its rate limits raised, and a victim whose data is seeded.

The matrices are many small requests, so they share an app (and a synchronous client on its own loop) per module;
each test isolates itself with fresh user ids, as the rest of the suite does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from jyntrix_bootstrap.settings import Deployment
from jyntrix_http.app import create_app
from tests.adversarial.served import adversarial_settings
from testsupport.app import bearer, drain_tasks, in_process_overrides, services_of

SyncClient = TestClient[Any]


@pytest.fixture(scope="module", params=["in_process", "embedded"])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SyncClient]:
    """The app on the in_process deployment, and on the embedded one's stores and indexes.

    The embedded variant keeps Postgres (row-level security), Qdrant Edge and bm25s, the adapters whose
    scoping is under test, and puts the embedder and language model on their in-process doubles.
    """
    data_dir: Path = tmp_path_factory.mktemp("adversarial")
    if request.param == "in_process":
        app = create_app(adversarial_settings(data_dir))
    else:
        dsn = request.getfixturevalue("postgres_dsn")
        settings = adversarial_settings(data_dir, jyntrix_deployment=Deployment.EMBEDDED, database_url=dsn)
        app = create_app(settings, overrides=in_process_overrides("storage", "vectors", "keywords"))
    with TestClient(app, raise_server_exceptions=False) as client:
        if request.param == "embedded":
            runtime = services_of(client)
            backends = runtime.backends
            assert "postgres" in runtime.storage.backend
            assert {backends["vector_index"].backend, backends["keyword_index"].backend} == {"qdrant-edge", "bm25s"}
        yield client


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event, data) pairs of a Server-Sent Events body."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


@dataclass
class Tenant:
    """A user with a token, and what the matrices need to recognise their data anywhere."""

    user_id: str
    headers: dict[str, str]
    secret: str
    ids: dict[str, list[str]] = field(default_factory=dict)

    def traces(self) -> list[str]:
        """Strings that must never appear in an answer to anyone else."""
        return [self.secret, self.user_id, *(i for ids in self.ids.values() for i in ids)]


def seeded_tenant(client: SyncClient) -> Tenant:
    """A user with a memory, an imported memory with an id of their choosing, a conversation and its messages."""
    user_id = f"victim-{uuid.uuid4()}"
    secret = f"papaya{uuid.uuid4().hex[:10]}"
    tenant = Tenant(user_id=user_id, headers=bearer(user_id), secret=secret)
    created = client.post("/api/memories", json={"content": f"My locker code is {secret}"}, headers=tenant.headers)
    assert created.status_code == 201, created.text
    chosen = f"doc-{uuid.uuid4().hex[:12]}"
    imported = client.post(
        "/api/memories/import",
        json={"memories": [{"id": chosen, "content": f"The vault word is {secret}"}]},
        headers=tenant.headers,
    )
    assert imported.status_code == 201, imported.text
    said = {"content": f"My sister Maya hides {secret} in Lisbon."}
    turn = client.post("/api/chat/messages/stream", json=said, headers=tenant.headers)
    assert turn.status_code == 200, turn.text
    conversation_id = next(data["id"] for name, data in sse_events(turn.text) if name == "conversation")
    drain_tasks(client)
    messages = client.get(f"/api/chat/conversations/{conversation_id}/messages", headers=tenant.headers).json()
    tenant.ids = {
        "memory": [created.json()["id"], imported.json()["memories"][0]["id"]],
        "conversation": [conversation_id],
        "message": [m["id"] for m in messages["items"]],
    }
    assert len(tenant.ids["message"]) == 2, messages
    return tenant


@pytest.fixture
def victim(api: SyncClient) -> Tenant:
    return seeded_tenant(api)


@pytest.fixture
def intruder() -> Tenant:
    user_id = f"intruder-{uuid.uuid4()}"
    return Tenant(user_id=user_id, headers=bearer(user_id), secret="")
