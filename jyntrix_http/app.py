"""The Litestar application: routers, auth, middleware, problem details, and the lifespan."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Tag
from litestar.types import ControllerRouterHandler

from jyntrix_bootstrap.background import sends_to_worker
from jyntrix_bootstrap.container import build_services
from jyntrix_bootstrap.services import Runtime, Services, package_version
from jyntrix_bootstrap.settings import Settings, is_loopback, load_settings
from jyntrix_http.auth import bearer_auth
from jyntrix_http.errors import make_exception_handler
from jyntrix_http.mcp_http import McpEndpoint
from jyntrix_http.metrics import MetricsEndpoint
from jyntrix_http.middleware import RateLimitMiddleware, add_request_id_header, cors_config, outermost
from jyntrix_http.request_checks import check_request
from jyntrix_http.routes import (
    analytics,
    auth,
    chat,
    console,
    health,
    memories,
    openai_chat,
    portability,
    profile,
    transcripts,
)
from jyntrix_http.server_discovery import Serving, remove_serving_file, write_serving_file

log = logging.getLogger("jyntrix.http")


def _services(state: State) -> Services:
    runtime: Runtime = state.runtime
    return runtime.services


def create_app(
    settings: Settings | None = None,
    *,
    runtime: Runtime | None = None,
    overrides: Mapping[str, Any] | None = None,
    announce: bool = False,
    serve_metrics: bool = False,
    extra_route_handlers: Sequence[ControllerRouterHandler] = (),
) -> Litestar:
    """The API. With `runtime` the caller owns it; otherwise it is built from `settings` at start-up.

    `announce` (`jyntrix serve`) prints the ready banner and records where it serves in the data directory's
    serving file, for `jyntrix import` and `jyntrix mcp` (see server_discovery).

    `serve_metrics` opens the Prometheus endpoint on METRICS_HOST:METRICS_PORT (`jyntrix serve` does; an app
    built for tests does not unless asked, so that many can run at once).

    `overrides` replaces container providers by name (see build_services), e.g. a scripted language model.
    Routes get the runtime's use-case `Services` as the `services` dependency.
    """
    if runtime is not None:
        settings = runtime.settings
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        owned = runtime is None
        ready = runtime if runtime is not None else await build_services(settings, overrides=overrides)
        app.state.runtime = ready
        # With the in-process queue this process runs the handlers, so it also runs what goes beside them.
        background = await ready.start_background() if owned and not sends_to_worker(settings) else None
        bind = settings.metrics_bind if serve_metrics else None
        endpoint = MetricsEndpoint(ready, *bind, allowed_hosts=settings.allowed_hosts) if bind is not None else None
        app.state.metrics_endpoint = endpoint
        serving: Serving | None = None
        try:
            if endpoint is not None:
                endpoint.start()
            await ready.warm()
            if announce:
                serving = write_serving_file(settings)
                print(banner(settings, ready), file=sys.stderr, flush=True)
            yield
        finally:
            remove_serving_file(settings, serving)
            if endpoint is not None:
                endpoint.stop()
            if background is not None:
                await background.stop()
            if owned:
                log.info("shutting down: draining tasks, flushing analytics, closing adapters")
                await ready.aclose()

    jwt = bearer_auth(settings)
    mcp = McpEndpoint(package_version())
    return Litestar(
        route_handlers=[
            *health.router_handlers,
            auth.router,
            chat.router,
            transcripts.router,
            memories.router,
            *portability.route_handlers(settings),
            profile.router,
            analytics.router,
            openai_chat.router,
            mcp.route(),
            *console.route_handlers(settings),
            *extra_route_handlers,
        ],
        dependencies={"services": Provide(_services, sync_to_thread=False)},
        lifespan=[lifespan, mcp.lifespan],
        on_app_init=[jwt.on_app_init, outermost(settings)],
        middleware=[RateLimitMiddleware(settings.rate_limit_requests, settings.rate_limit_window_s)],
        before_request=check_request,
        before_send=[add_request_id_header],
        cors_config=cors_config(settings),
        exception_handlers={Exception: make_exception_handler(settings.shows_error_causes)},
        openapi_config=OpenAPIConfig(
            title="Jyntrix",
            version=package_version(),
            description="Memory backend for AI chat: hybrid retrieval with explainable scores, SSE chat.",
            path="/schema",
            tags=[
                Tag(name="health"),
                Tag(name="auth"),
                Tag(name="chat", description="Conversations and streamed chat turns (SSE)"),
                Tag(name="memories"),
                Tag(name="profile"),
                Tag(name="analytics"),
                Tag(name="openai", description="OpenAI-compatible chat completions over the memory pipeline"),
            ],
        ),
        debug=False,
        # Logging is configured once by the process (`jyntrix serve`), not by each app instance.
        logging_config=None,
    )


def banner(settings: Settings, runtime: Runtime) -> str:
    """What `jyntrix serve` prints once ready: where it listens, how to get a token, a streamed chat."""
    base = f"http://{settings.host}:{settings.port}"
    backends = ", ".join(f"{name}={opened.backend}" for name, opened in runtime.backends.items())
    token_hint = (
        "  TOKEN=$(.venv/bin/jyntrix token --user alice)"
        if settings.supabase_jwt_secret
        else "  (tokens come from your identity provider: SUPABASE_JWKS_URL is set)"
    )
    hosts = (
        [
            f"  Only a loopback Host (localhost, 127.0.0.1, ::1) is answered: HOST={settings.host} is reached by",
            "  other names, so set ALLOWED_HOSTS to the ones clients use (see docs/security.md).",
        ]
        if not is_loopback(settings.host) and not settings.allowed_hosts
        else []
    )
    return "\n".join(
        [
            "",
            f"Jyntrix {runtime.version} is ready on {base}  (deployment: {settings.jyntrix_deployment.value})",
            *hosts,
            f"  database={runtime.storage.backend}, {backends}",
            f"  OpenAPI: {base}/schema   readiness: {base}/health/ready   console: {base}/console",
            "",
            "Get a token, then stream a chat turn:",
            token_hint,
            f"  curl -N {base}/api/chat/messages/stream \\",
            '    -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\',
            '    -d \'{"content": "My sister Maya lives in Lisbon."}\'',
            "",
        ]
    )
