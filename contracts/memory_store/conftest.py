"""The MemoryStore contract suites run on every adapter of the port."""

from __future__ import annotations

import pytest

from jyntrix_bootstrap.resources import Storage
from jyntrix_domain.ports import MemoryStore


@pytest.fixture
def store(storage: Storage) -> MemoryStore:
    return storage.memories
