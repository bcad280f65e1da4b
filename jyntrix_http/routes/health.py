"""Index, liveness and readiness: served without a token."""

from __future__ import annotations

import asyncio
import time

import msgspec
from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from jyntrix_http.routes import ServicesDep

READINESS_TIMEOUT_S = 3.0


class Index(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    version: str
    deployment: str
    # The deployment under its old name, kept while clients move to `deployment`.
    profile: str
    docs: str
    health: str


class Liveness(msgspec.Struct, frozen=True, kw_only=True):
    status: str


class Check(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    status: str
    backend: str
    latency_ms: float
    error: str | None = None


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    checks: dict[str, Check]


@get("/", summary="What this server is", tags=["health"])
async def index(services: ServicesDep) -> Index:
    return Index(
        name="jyntrix",
        version=services.version,
        deployment=services.deployment,
        profile=services.deployment,
        docs="/schema",
        health="/health/ready",
    )


@get(["/health", "/health/live"], summary="Liveness: the process answers", tags=["health"])
async def liveness() -> Liveness:
    return Liveness(status="ok")


@get(
    "/health/ready",
    summary="Readiness: every adapter answers",
    tags=["health"],
    responses={HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(Readiness, description="Some adapter does not answer")},
)
async def readiness(services: ServicesDep) -> Response[Readiness]:
    checks = dict(
        await asyncio.gather(
            *(_check(name, backend, probe) for name, (backend, probe) in services.status.probes.items())
        )
    )
    ready = all(c.status == "ok" for c in checks.values())
    return Response(
        Readiness(status="ready" if ready else "unavailable", checks=checks),
        status_code=HTTP_200_OK if ready else HTTP_503_SERVICE_UNAVAILABLE,
    )


async def _check(name: str, backend: str, probe: object) -> tuple[str, Check]:
    started = time.perf_counter()
    try:
        ping = getattr(probe, "ping", None)
        if ping is not None:
            await asyncio.wait_for(ping(), READINESS_TIMEOUT_S)
    except TimeoutError:
        return name, Check(status="timeout", backend=backend, latency_ms=_ms(started), error="no answer in time")
    except Exception as exc:
        return name, Check(status="error", backend=backend, latency_ms=_ms(started), error=str(exc)[:300])
    return name, Check(status="ok", backend=backend, latency_ms=_ms(started))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 3)


router_handlers = [index, liveness, readiness]
