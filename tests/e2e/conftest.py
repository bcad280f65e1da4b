"""A server fixture that the story suites (living memory, offline answers) share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from testsupport.server import Server, serving_in


@pytest.fixture(scope="module")
def story_server(tmp_path_factory: pytest.TempPathFactory, minilm_model_dir: Path) -> Iterator[Server]:
    """The embedded default for a module that tells stories and asks about them, each story a user of its own:
    the offline model unpaced, and a rate limit no story reaches (a story is some forty turns, plus the polling
    while extraction settles)."""
    yield from serving_in(
        tmp_path_factory,
        "jyntrix-stories",
        minilm_model_dir,
        OFFLINE_LLM_TOKEN_DELAY_S="0",
        RATE_LIMIT_REQUESTS="100000",
    )
