"""Fixtures for the app on the in_process deployment: settings, a client, users and their tokens
(testsupport/app.py)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from jyntrix_bootstrap.settings import Settings
from jyntrix_http.app import create_app
from testsupport.app import Client, bearer, make_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def user() -> str:
    return f"user-{uuid.uuid4()}"


@pytest.fixture
def headers(user: str) -> dict[str, str]:
    return bearer(user)


@pytest.fixture
def other_headers() -> dict[str, str]:
    return bearer(f"other-{uuid.uuid4()}")


@pytest.fixture
def app_factory() -> Callable[..., Any]:
    """Build an app client: `async with app_factory(settings, **create_app_kwargs) as client`."""

    def factory(settings: Settings, **kwargs: Any) -> Client:
        return AsyncTestClient(create_app(settings, **kwargs))

    return factory


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    async with AsyncTestClient(create_app(settings)) as c:
        yield c
