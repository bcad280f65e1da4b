"""RFC 9457 problem details for every error the API returns.

Domain errors map to statuses here, once: NotFound 404, Forbidden 403, Invalid 422,
Conflict 409, RateLimited 429 (with Retry-After), Unavailable 503 (with Retry-After),
Unsupported 501. Body validation is 422, malformed requests 400. Anything unexpected
is a 500 whose detail is sanitised outside development. The documents are the client's own
`Problem` structs (jyntrix_client.errors), so their shape is written once.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from jyntrix_client.errors import FieldError, Problem
from jyntrix_domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    Unavailable,
    Unsupported,
)
from jyntrix_http.throttle import Throttled

log = logging.getLogger("jyntrix.http")

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

PROBLEM_JSON = "application/problem+json"
UNAVAILABLE_RETRY_AFTER_S = 5

_DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Forbidden: 403,
    Invalid: 422,
    Conflict: 409,
    RateLimited: 429,
    Unavailable: 503,
    Unsupported: 501,
}

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
    501: "Not implemented",
    503: "Service unavailable",
}


# What every authenticated route may answer; routes that read a JSON body add BODY_PROBLEMS.
AUTHENTICATED_PROBLEMS = (401, 429, 500, 503)
BODY_PROBLEMS = (400, 413, 415, 422)


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI `responses` for a route: each status as a problem document."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            media_type=PROBLEM_JSON,
            description=_TITLES[status],
            generate_examples=False,
        )
        for status in sorted(set(statuses))
    }


def request_id_of(scope: Any) -> str:
    """The request's id: the client's X-Request-ID when it is sane, else a new one; kept in the scope."""
    state: dict[str, Any] = scope.setdefault("state", {})
    found = state.get("request_id")
    if isinstance(found, str):
        return found
    incoming = None
    for name, value in scope.get("headers", ()):
        if name.lower() == b"x-request-id":
            incoming = value.decode("latin-1")
            break
    request_id = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
    state["request_id"] = request_id
    return request_id


def status_for(exc: BaseException) -> int:
    """The HTTP status an exception becomes."""
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, DomainError):
        for kind in type(exc).__mro__:
            if kind in _DOMAIN_STATUS:
                return _DOMAIN_STATUS[kind]
        return 400
    return HTTP_500_INTERNAL_SERVER_ERROR


def problem_response(
    status: int,
    *,
    code: str,
    detail: str | None,
    request: Request[Any, Any, Any] | None = None,
    headers: dict[str, str] | None = None,
    errors: list[FieldError] | None = None,
    retry_after_s: float | None = None,
) -> Response[Problem]:
    request_id = request_id_of(request.scope) if request is not None else None
    problem = Problem(
        type=f"urn:jyntrix:problem:{code}",
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        instance=_instance(request) if request is not None else None,
        code=code,
        request_id=request_id,
        errors=errors,
        retry_after_s=retry_after_s,
    )
    all_headers = dict(headers or {})
    if retry_after_s is not None:
        all_headers["Retry-After"] = str(max(1, math.ceil(retry_after_s)))
    return Response(problem, status_code=status, media_type=PROBLEM_JSON, headers=all_headers)


def _instance(request: Request[Any, Any, Any]) -> str:
    """The request's path; a mount (/mcp) is handed only the part after its own path, so that is put back."""
    # From the scope, not request.url: building the URL parses the Host header, and a malformed one (refused
    # by the router with a 400) would turn the refusal into a 500.
    rest = request.scope.get("root_path", "") + request.scope.get("path", "")
    handler = request.scope.get("route_handler")
    if not getattr(handler, "is_mount", False):
        return rest
    mount = min(handler.paths)
    return mount if rest == "/" else mount.rstrip("/") + rest


def make_exception_handler(development: bool) -> Callable[[Request[Any, Any, Any], Exception], Response[Problem]]:
    """One handler for every exception; `development` decides whether a 500 shows its cause."""

    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
        status = status_for(exc)
        if isinstance(exc, DomainError):
            retry = exc.retry_after_s if isinstance(exc, RateLimited) else None
            # Only a throttle's refusal describes a request quota; a bulk slot or an upstream's 429 has Retry-After.
            limit_headers = dict(exc.headers) if isinstance(exc, Throttled) else {}
            if isinstance(exc, Unavailable):
                retry = UNAVAILABLE_RETRY_AFTER_S
                log.warning("dependency unavailable on %s %s: %s", request.method, request.url.path, exc)
            return problem_response(
                status, code=exc.code, detail=str(exc), request=request, retry_after_s=retry, headers=limit_headers
            )
        if isinstance(exc, ValidationException):
            extra = exc.extra if isinstance(exc.extra, list) else []
            errors = [
                FieldError(message=str(e.get("message")), key=e.get("key"), source=e.get("source"))
                for e in extra
                if isinstance(e, dict)
            ]
            return problem_response(422, code="validation_failed", detail=exc.detail, request=request, errors=errors)
        if isinstance(exc, HTTPException) and status < 500:
            headers = {k: str(v) for k, v in (exc.headers or {}).items()}
            if isinstance(exc, NotAuthorizedException):
                headers["WWW-Authenticate"] = 'Bearer realm="jyntrix"'
            retry = None
            if status == 429 and "RateLimit-Reset" in headers:
                retry = float(headers["RateLimit-Reset"])
            code = getattr(exc, "problem_code", None) or _TITLES.get(status, "error").lower().replace(" ", "_")
            return problem_response(
                status, code=code, detail=exc.detail, request=request, headers=headers, retry_after_s=retry
            )
        request_id = request_id_of(request.scope)
        log.error("unhandled error on %s %s (request %s)", request.method, request.url.path, request_id, exc_info=exc)
        detail = f"{type(exc).__name__}: {exc}" if development else "An unexpected error occurred."
        if isinstance(exc, HTTPException) and development:
            detail = exc.detail
        return problem_response(status, code="internal_error", detail=detail, request=request)

    return handle
