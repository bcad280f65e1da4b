"""Prometheus metrics: requests counted by route template, and the endpoint that serves the process's series.

The endpoint is a port of its own (METRICS_HOST:METRICS_PORT, loopback by default) and carries no auth: the
figures are global and hold no user's data, so they are kept off the API's port, where `/metrics` is a 404.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterable
from typing import cast
from wsgiref.simple_server import WSGIServer
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from litestar.types import Scope
from prometheus_client import start_http_server

from jyntrix_adapters.prometheus.metrics import QueueCollector, ServerMetrics
from jyntrix_bootstrap.services import Runtime
from jyntrix_bootstrap.settings import is_loopback
from jyntrix_domain.ports import TaskQueueStats
from jyntrix_http.allowed_hosts import HostAllowList

log = logging.getLogger("jyntrix.metrics")

UNMATCHED_ROUTE = "unmatched"
"""The route label of a request that reached no route handler."""
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _metrics_of(scope: Scope) -> ServerMetrics | None:
    runtime: Runtime | None = getattr(scope["app"].state, "runtime", None)
    return runtime.metrics if runtime is not None else None


def record_request(scope: Scope, status: int, seconds: float) -> None:
    """Count a request by method, route template (never the raw path: no ids in labels) and status.

    Called by the request-logging middleware, which wraps throttles and auth, so their refusals count too.
    """
    metrics = _metrics_of(scope)
    if metrics is not None:
        method = scope.get("method", "GET")
        metrics.observe_request(method if method in _METHODS else "other", route_label(scope), status, seconds)


def route_label(scope: Scope) -> str:
    """The route template a request matched; for a mount (/mcp), whose template Litestar leaves empty, its path."""
    template = scope.get("path_template")
    if template:
        return str(template)
    handler = scope.get("route_handler")
    paths = sorted(getattr(handler, "paths", ()) or ())
    return str(paths[0]) if paths else UNMATCHED_ROUTE


class MetricsEndpoint:
    """Serves `runtime.metrics` over HTTP on (host, port) from a thread of its own (prometheus_client's server).

    The task queue's and the ledger's gauges are read at each scrape on the app's event loop.
    """

    def __init__(self, runtime: Runtime, host: str, port: int, allowed_hosts: Iterable[str] = ()) -> None:
        self._runtime = runtime
        self._host = host
        self._port = port
        self._allowed = HostAllowList(allowed_hosts)
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._collector: QueueCollector | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the port the system chose when asked for 0)."""
        if self._server is None:
            raise RuntimeError("the metrics endpoint is not started")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        runtime = self._runtime
        # Every queue adapter has stats(); a queue a caller passed in (tests) may not.
        queue = cast(TaskQueueStats, runtime.tasks) if hasattr(runtime.tasks, "stats") else None
        self._collector = QueueCollector(
            asyncio.get_running_loop(),
            queue=queue,
            ledger=runtime.storage.ledger,
            clock=runtime.services.clock,
        )
        runtime.metrics.watch(self._collector)
        try:
            self._server, self._thread = start_http_server(
                self._port, addr=self._host, registry=runtime.metrics.registry
            )
        except OSError as exc:
            # Unwatched here and forgotten, so that stop() in the lifespan's cleanup does not unwatch it again.
            runtime.metrics.registry.unregister(self._collector)
            self._collector = None
            raise RuntimeError(
                f"metrics: cannot listen on {self._host}:{self._port} ({exc}); set METRICS_PORT to a free port, "
                "0 for any, or off"
            ) from exc
        if is_loopback(self._host):
            # A loopback port is within reach of a page whose name is rebound to 127.0.0.1 (DNS rebinding), as the
            # API's is; a port bound for remote scrapers answers their Host, whatever name they reach it by.
            served = self._server.get_app()
            assert served is not None
            self._server.set_app(_host_checked(served, self._allowed))
        host, port = self.address
        log.info("metrics: Prometheus text format on http://%s:%d/metrics (no token)", host, port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._collector is not None:
            self._runtime.metrics.registry.unregister(self._collector)
            self._collector = None


def _host_checked(app: WSGIApplication, allowed: HostAllowList) -> WSGIApplication:
    """`app` answering only the Host names the API answers (400 for the others)."""

    def checked(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        host = environ.get("HTTP_HOST")
        if allowed.allows(host):
            return app(environ, start_response)
        body = f"this server does not answer to Host {host!r}; an operator can add the name to ALLOWED_HOSTS\n"
        start_response("400 Bad Request", [("Content-Type", "text/plain; charset=utf-8")])
        return [body.encode()]

    return checked
