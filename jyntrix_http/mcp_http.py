"""MCP over streamable HTTP at /mcp, inside the Litestar app.

The app's middleware runs first, as on every route: the bearer JWT authenticates the request (401 without
one) and the per-user rate limit counts it. Each tool call then acts on the memories of the token's user,
read from that request, so a token only ever sees its own user's memories. The transport is stateless (no
MCP session outlives a request), so any replica can serve any request.

Only POST reaches the MCP SDK. A GET would open the SDK's stream for server-initiated messages, which in
stateless mode can never carry one (each request runs its own server, gone when it answers) and which it never
closes: every such GET held a connection and a file descriptor for as long as the client kept it. The
transport answers GET with 405, as the MCP specification lets a server without that stream do (clients then
carry on without it), and DELETE with 405 too, there being no session to end.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.exceptions import MethodNotAllowedException
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
        # The app's Host allow-list (allowed_hosts.py) runs before this mount, as before every route; the SDK's
        # own check would be a second list to keep in step with it.
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
            if scope.get("method") != "POST":
                raise MethodNotAllowedException(
                    "the stateless MCP transport takes POST only: it opens no stream (GET) and ends no session "
                    "(DELETE)",
                    headers={"Allow": "POST"},
                )
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
