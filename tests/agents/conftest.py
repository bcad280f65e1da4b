"""The app (in_process deployment) for the agents' clients: through Litestar's test client, or served by a real
uvicorn on a free port for clients that bring their own HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from litestar.testing import TestClient

from jyntrix_http.app import create_app
from testsupport.app import make_settings
from testsupport.server import free_port, in_thread

STARTUP_TIMEOUT_S = 30.0


@dataclass
class LiveApp:
    base_url: str
    app: Any


def serve(tmp_path: Path, *, announce: bool = False, **settings: Any) -> Iterator[LiveApp]:
    """The app on a free port (its PORT setting too); `announce` as `jyntrix serve` has it (banner, server.json)."""
    port = free_port()
    app = create_app(make_settings(tmp_path, port=port, **settings), announce=announce)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on"))
    with in_thread(server, STARTUP_TIMEOUT_S):
        yield LiveApp(base_url=f"http://127.0.0.1:{port}", app=app)


@pytest.fixture
def live_app(tmp_path: Path) -> Iterator[LiveApp]:
    yield from serve(tmp_path)


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(tmp_path))) as client:
        yield client
