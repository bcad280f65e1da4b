"""Checks on every request's input that no single route's types can express, run before its handler.

- A route that takes a JSON body refuses other media types, and a body sent with no Content-Type, with 415
  instead of parsing them as JSON.
- JSON nested past the decoder's recursion limit is a 400, not a RecursionError.
- NUL characters are refused (422) in path and query parameters and in JSON bodies: Postgres cannot store them, so
  refusing them here gives the same answer on every deployment instead of a driver's message.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.exceptions import ClientException, HTTPException, SerializationException, ValidationException
from litestar.status_codes import HTTP_415_UNSUPPORTED_MEDIA_TYPE

JSON_MEDIA_TYPE = "application/json"
NUL_MESSAGE = "must not contain NUL characters (\\u0000)"
# A JSON string escape for NUL: `\u0000` behind an even number of backslashes (an odd one would escape it).
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


async def check_request(request: Request[Any, Any, Any]) -> None:
    """before_request hook: raises the client error a malformed request gets; returns None to go on."""
    parameters = request.route_handler.parsed_fn_signature.parameters
    errors = [
        {"message": NUL_MESSAGE, "key": key, "source": source}
        for source, items in (
            ("path", request.path_params.items()),
            ("query", request.query_params.multi_items()),
        )
        for key, value in items
        if key in parameters and "\x00" in str(value)
    ]
    if errors:
        raise ValidationException(f"Validation failed for {request.method} {request.url.path}", extra=errors)
    if "data" in parameters:
        await _check_json_body(request)


async def _check_json_body(request: Request[Any, Any, Any]) -> None:
    body = await request.body()
    if not body:
        return  # the handler's own validation says that a body is required
    media_type, _ = request.content_type
    if not media_type or not _is_json(media_type):
        raise HTTPException(
            status_code=HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            detail=f"the body must be JSON, sent with Content-Type: {JSON_MEDIA_TYPE} (got {media_type or 'none'})",
        )
    try:
        await request.json()  # cached on the request: the handler's parameters are read from this decode
    except SerializationException as exc:
        raise ClientException(str(exc)) from exc
    except RecursionError as exc:
        raise ClientException("JSON is nested too deeply") from exc
    if holds_nul(body):
        raise ValidationException(
            f"Validation failed for {request.method} {request.url.path}",
            extra=[{"message": f"strings {NUL_MESSAGE}", "key": None, "source": "body"}],
        )


def holds_nul(body: bytes) -> bool:
    """Whether a JSON document has a NUL character in one of its strings."""
    # The substring test is a memchr; the pattern, which may start at any byte, runs only when it could match.
    return b"\\u0000" in body and _ESCAPED_NUL.search(body) is not None


def _is_json(media_type: str) -> bool:
    media_type = media_type.lower()
    return media_type == JSON_MEDIA_TYPE or (media_type.startswith("application/") and media_type.endswith("+json"))
