"""One real `jyntrix serve` (embedded deployment) for the tests that drive the built clients against it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testsupport.server import Server, serving_in

REPO_ROOT = Path(__file__).resolve().parents[2]
CLIENTS_DIR = REPO_ROOT / "clients"


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory, minilm_model_dir: Path) -> Iterator[Server]:
    yield from serving_in(tmp_path_factory, "jyntrix-clients", minilm_model_dir, OFFLINE_LLM_TOKEN_DELAY_S="0")


def bearer(server: Server, user: str) -> str:
    """A dev token for `user`, signed with the server's secret."""
    return server.token(user)["Authorization"].removeprefix("Bearer ")
