"""The request bodies and problem documents the client and the server share (jyntrix_client.types, .errors).

The server decodes the client's own structs, limits and all; these tests hold the client to what that relies
on: a limit is checked when a body is decoded, never when the client builds or encodes one, and a problem
document the client reads may lack what the server always writes.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
import pytest

from jyntrix_client.errors import NotFound, ServerError, ValidationFailed, error_from_response
from jyntrix_client.types import MemoryIn, MemoryPatch, RelationIn, SearchRequest, SendMessage

# Bodies each of which breaks a limit the server decodes them under.
REFUSED_BODIES: list[msgspec.Struct] = [
    MemoryIn(content=""),
    MemoryIn(content="x", reliability=2.0),
    MemoryIn(content="x", created_at=datetime(2025, 1, 5)),  # no timezone
    MemoryIn(content="x", entities=[""]),
    MemoryIn(content="x", relations=[RelationIn(source="", predicate="p", target="t")]),
    MemoryIn(content="x", id=""),
    MemoryPatch(reliability=-1.0),
    SearchRequest(query="", limit=0),
    SendMessage(content="", message_id="not an id"),
]


@pytest.mark.parametrize("body", REFUSED_BODIES, ids=lambda b: type(b).__name__)
def test_the_client_builds_and_encodes_a_body_its_limits_refuse(body: msgspec.Struct) -> None:
    """The limits cost the client nothing: the body goes out as given, and the server's 422 says what is wrong."""
    encoded = msgspec.json.encode(body)
    assert msgspec.json.decode(encoded) == msgspec.to_builtins(body)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(encoded, type=type(body))


def test_a_body_leaves_out_what_it_does_not_set() -> None:
    assert msgspec.json.decode(msgspec.json.encode(MemoryIn(content="x"))) == {"content": "x"}
    assert msgspec.json.decode(msgspec.json.encode(SearchRequest(query="q"))) == {"query": "q"}


def test_a_decoded_body_refuses_unknown_fields() -> None:
    with pytest.raises(msgspec.ValidationError, match="unknown field `colour`"):
        msgspec.json.decode(b'{"content": "x", "colour": "red"}', type=MemoryIn)


def test_a_problem_document_without_type_title_or_status_still_gives_its_code_and_request_id() -> None:
    error = error_from_response(404, b'{"code": "not_found", "request_id": "r-1", "detail": "no such memory"}', {})
    assert isinstance(error, NotFound)
    assert (error.status, error.code, error.request_id, str(error)) == (
        404,
        "not_found",
        "r-1",
        "no such memory (status 404, code not_found, request r-1)",
    )


def test_a_problem_document_carries_its_field_errors() -> None:
    body = b'{"type": "urn:x", "title": "Validation failed", "status": 422, "errors": [{"message": "too long"}]}'
    error = error_from_response(422, body, {"x-request-id": "r-2"})
    assert isinstance(error, ValidationFailed)
    assert [e.message for e in error.errors] == ["too long"]
    assert (error.code, error.request_id, error.args[0]) == ("http_422", "r-2", "Validation failed")


@pytest.mark.parametrize("body", [b"<html>Bad gateway</html>", b'["not", "a", "problem"]', b'{"status": "five"}'])
def test_a_body_that_is_not_a_problem_document_still_gives_an_error(body: bytes) -> None:
    error = error_from_response(502, body, {})
    assert isinstance(error, ServerError)
    assert (error.status, error.code, error.args[0]) == (502, "http_502", body.decode())
