"""MCP over streamable HTTP at /mcp, inside the Litestar app.

The app's middleware runs first, as on every route: the bearer JWT authenticates the request (401 without
one) and the per-user rate limit counts it. Each tool call then acts on the memories of the token's user,
read from that request, so a token only ever sees its own user's memories. The transport is stateless (no
MCP session outlives a request), so any replica can serve any request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.handlers import asgi
from litestar.types import Receive, Scope, Send
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings

from jyntrix_bootstrap.services import Runtime
from jyntrix_http.mcp_backends import MemoryBackend, ServicesBackend
from jyntrix_http.mcp_server import CURRENT_REQUEST, build_mcp_server

MCP_PATH = "/mcp"


class McpEndpoint:
    """The /mcp mount and the lifespan that runs its session manager; one per app."""

    def __init__(self, version: str = "") -> None:
        self.server = build_mcp_server(self._backend_for, version=version)
        # Bearer tokens protect /mcp, and a browser cannot attach one to a rebinding attack: no Host allow-list.
        self.server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )

    @asynccontextmanager
    async def lifespan(self, app: Litestar) -> AsyncIterator[None]:
        async with self.server.session_manager.run():
            yield

    def route(self) -> Any:
        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            await self.server.session_manager.handle_request(scope, receive, send)  # type: ignore[arg-type]

        return asgi(MCP_PATH, is_mount=True, copy_scope=True)(handle)

    async def _backend_for(self) -> MemoryBackend:
        scope = getattr(CURRENT_REQUEST.get(), "scope", None) or {}
        user = scope.get("user")
        app = scope.get("litestar_app")
        if user is None or app is None:
            raise ToolError("not authenticated: send the request with a bearer token")
        runtime: Runtime = app.state.runtime
        services = runtime.services
        return ServicesBackend(
            user.id, services.memories, services.profiles, runtime.token_counter, services.transcripts
        )
