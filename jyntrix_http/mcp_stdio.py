"""`jyntrix mcp`: the MCP server over stdio, for a desktop host (Claude Desktop, Claude Code, Cursor...).

With JYNTRIX_URL it talks to that running server, as JYNTRIX_TOKEN's user (or, without a token, as `--user`
with a dev token signed by the local secret). Otherwise it opens the embedded data directory itself
(JYNTRIX_DATA_DIR), which only one process can hold at a time: when `jyntrix serve` already holds it, it says
so and names the settings that would let it talk to that server instead.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from jyntrix_bootstrap.container import build_services
from jyntrix_bootstrap.resources import make_token_counter
from jyntrix_bootstrap.settings import Settings
from jyntrix_client import AsyncClient
from jyntrix_http.mcp_backends import ClientBackend, MemoryBackend, ServicesBackend
from jyntrix_http.mcp_server import build_mcp_server

URL_VARIABLE = "JYNTRIX_URL"
TOKEN_VARIABLE = "JYNTRIX_TOKEN"


class McpStartupError(Exception):
    """Why `jyntrix mcp` cannot start, in words for the person configuring the host."""


def startup_error(exc: BaseException) -> McpStartupError | None:
    """The McpStartupError behind `exc`, which the SDK may have wrapped in exception groups."""
    if isinstance(exc, McpStartupError):
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


def remote_token(target: StdioTarget, settings: Settings) -> str:
    if target.token:
        return target.token
    if target.user and settings.supabase_jwt_secret:
        from jyntrix_http.auth import mint_token

        return mint_token(settings.supabase_jwt_secret, target.user, audience=settings.jwt_audience)
    raise McpStartupError(
        f"{URL_VARIABLE} is set but {TOKEN_VARIABLE} is not: set {TOKEN_VARIABLE} to a token for that server "
        "(`jyntrix token --user ID` on its machine), or pass --user when it shares this data directory's secret"
    )


def describe_open_failure(settings: Settings, exc: BaseException) -> str:
    """The message for a data directory that would not open, naming the settings that get around it."""
    return (
        f"could not open the embedded data directory {settings.data_dir} (JYNTRIX_DATA_DIR): {exc}. "
        "It can be held by one process at a time (Qdrant Edge locks its shard, embedded Postgres its data "
        f"directory): if `jyntrix serve` is running on it, set {URL_VARIABLE} to its address (e.g. "
        f"http://127.0.0.1:{settings.port}) and {TOKEN_VARIABLE} to a token, and this command talks to it instead; "
        "or point JYNTRIX_DATA_DIR at another directory"
    )


@asynccontextmanager
async def open_backend(target: StdioTarget, settings: Settings) -> AsyncIterator[MemoryBackend]:
    """The memories `jyntrix mcp` serves, opened for as long as the host stays connected."""
    if target.url:
        async with AsyncClient(target.url, remote_token(target, settings)) as client:
            yield ClientBackend(client, make_token_counter(settings))
        return
    if not target.user:
        raise McpStartupError(f"--user is required when {URL_VARIABLE} is not set (whose memories to open)")
    try:
        runtime = await build_services(settings)
    except Exception as exc:
        # A failed start cancels the resources still opening, and asyncio logs each cancelled callback as an
        # error while the process winds down: noise around the one message that matters.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        raise McpStartupError(describe_open_failure(settings, exc)) from exc
    try:
        services = runtime.services
        yield ServicesBackend(
            target.user, services.memories, services.profiles, runtime.token_counter, services.transcripts
        )
    finally:
        await runtime.aclose()


async def run_stdio(target: StdioTarget, settings: Settings, version: str = "") -> None:
    """Serve MCP on stdin/stdout until the host disconnects; raises McpStartupError when it cannot start."""
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
