"""`jyntrix mcp`: the MCP server over stdio, for a desktop host (Claude Desktop, Claude Code, Cursor...).

It talks to a running server: JYNTRIX_URL's, else the one serving JYNTRIX_DATA_DIR on any port (found by its
serving file), as JYNTRIX_TOKEN's user (or, without a token, as `--user` with a dev token signed by the local
secret). When neither is there it opens the embedded data directory itself, which only one process can hold at
a time; when that fails it says so in two lines naming the settings to set.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from jyntrix_bootstrap.resources import make_token_counter
from jyntrix_bootstrap.settings import Settings
from jyntrix_client import AsyncClient
from jyntrix_http.mcp_backends import ClientBackend, MemoryBackend, ServicesBackend
from jyntrix_http.mcp_server import build_mcp_server
from jyntrix_http.server_discovery import SetupError, find_remote, open_data_directory, require_user


def startup_error(exc: BaseException) -> SetupError | None:
    """The SetupError behind `exc`, which the SDK may have wrapped in exception groups."""
    if isinstance(exc, SetupError):
        return exc
    inner = list(exc.exceptions) if isinstance(exc, BaseExceptionGroup) else []
    inner += [exc.__cause__] if exc.__cause__ is not None else []
    for found in (startup_error(e) for e in inner):
        if found is not None:
            return found
    return None


@dataclass
class StdioTarget:
    """Where the memories are: a running server (`url`) or the embedded data directory (`user`)."""

    user: str | None
    url: str | None
    token: str | None


@asynccontextmanager
async def open_backend(target: StdioTarget, settings: Settings) -> AsyncIterator[MemoryBackend]:
    """The memories `jyntrix mcp` serves, opened for as long as the host stays connected."""
    remote = await find_remote(target.url, target.user, target.token, settings)
    if remote is not None:
        async with AsyncClient(remote.url, remote.token) as client:
            yield ClientBackend(client, make_token_counter(settings))
        return
    user = require_user(target.user, "open the data directory (whose memories)")
    runtime = await open_data_directory(settings)
    try:
        services = runtime.services
        yield ServicesBackend(user, services.memories, services.profiles, runtime.token_counter, services.transcripts)
    finally:
        await runtime.aclose()


async def run_stdio(target: StdioTarget, settings: Settings, version: str = "") -> None:
    """Serve MCP on stdin/stdout until the host disconnects; raises SetupError when it cannot start."""
    opened: dict[str, MemoryBackend] = {}

    async def backend_for() -> MemoryBackend:
        return opened["backend"]

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        # Entered once stdio is claimed (stray output from the adapters goes to stderr, not the protocol).
        async with open_backend(target, settings) as backend:
            opened["backend"] = backend
            yield

    await build_mcp_server(backend_for, version=version, lifespan=lifespan).run_stdio_async()
