"""The MemoryStore contract suites run on every adapter of the port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from jyntrix_adapters.inprocess.memory_store import InMemoryMemoryStore
from jyntrix_domain.ports import MemoryStore
from testsupport.postgres import STORE_BACKENDS, store_backend


@pytest.fixture(params=STORE_BACKENDS)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[MemoryStore]:
    async with store_backend(request, InMemoryMemoryStore, lambda stores: stores.memories) as port:
        yield port
