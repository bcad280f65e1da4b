"""Problem documents (RFC 9457) as typed exceptions carrying `code`, `status` and `request_id`.

`Problem` and `FieldError` are the documents as the server writes them (jyntrix_http.errors answers with
these very structs); reading one, the client is lenient: a member the document leaves out gets its RFC
9457 default, and a body that is not a problem document still gives an exception.
"""

from __future__ import annotations

from typing import Any

import msgspec


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    message: str
    key: str | None = None
    source: str | None = None


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An RFC 9457 problem document; `code` and `request_id` are extension members."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    code: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None
    retry_after_s: float | None = None


class JyntrixError(Exception):
    """An error answer from the API: `status`, the problem's `code`, and the `request_id` to quote in a report."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str,
        request_id: str | None = None,
        errors: list[FieldError] | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.request_id = request_id
        self.errors = errors or []
        self.retry_after_s = retry_after_s

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} (status {self.status}, code {self.code}, request {self.request_id or '-'})"


class BadRequest(JyntrixError):
    """400, 413 or 415: the request could not be read."""


class Unauthorized(JyntrixError):
    """401: no token, or one that is invalid, expired or for another audience."""


class Forbidden(JyntrixError):
    """403."""


class NotFound(JyntrixError):
    """404: no such memory or conversation for this user."""


class Conflict(JyntrixError):
    """409."""


class ValidationFailed(JyntrixError):
    """422: a field is invalid; `errors` says which."""


class RateLimited(JyntrixError):
    """429 after the client's retries; `retry_after_s` says when to try again."""


class Unavailable(JyntrixError):
    """503 after the client's retries: a dependency of the server is down."""


class ServerError(JyntrixError):
    """500 or another unexpected status."""


class TransportError(JyntrixError):
    """The server could not be reached, or its answer could not be read (status 0)."""


_BY_STATUS: dict[int, type[JyntrixError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: BadRequest,
    415: BadRequest,
    422: ValidationFailed,
    429: RateLimited,
    503: Unavailable,
}


def error_from_response(status: int, body: bytes, headers: Any) -> JyntrixError:
    """The exception for an error response; a body that is not a problem document still gives one."""
    request_id = headers.get("x-request-id")
    problem = _read_problem(status, body)
    kind = _BY_STATUS.get(status, ServerError)
    return kind(
        problem.detail or problem.title or f"HTTP {status}",
        status=status,
        code=problem.code or f"http_{status}",
        request_id=problem.request_id or request_id,
        errors=problem.errors,
        retry_after_s=problem.retry_after_s,
    )


def _read_problem(status: int, body: bytes) -> Problem:
    # RFC 9457 lets `type` default to "about:blank"; a proxy's answer may lack the other required members too.
    try:
        document = msgspec.json.decode(body)
        if isinstance(document, dict):
            return msgspec.convert({"type": "about:blank", "title": "", "status": status, **document}, Problem)
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    return Problem(type="about:blank", title="", status=status, detail=body.decode("utf-8", "replace")[:500] or None)
