"""jyntrix_client's types against the served OpenAPI schema: a route that changes shape without the client fails."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from jyntrix_client import types as client_types
from tests.agents.schema_shapes import differences, shape, type_shape
from testsupport.app import served_openapi

# (client type, method, path, where in the operation): "200"/"201" a response, "body" the request body,
# "body.NAME[]" the items of the body's array NAME.
ROUTES: list[tuple[type[Any], str, str, str]] = [
    (client_types.Remembered, "post", "/api/memories", "201"),
    (client_types.Remembered, "post", "/api/memories", "200"),
    (client_types.MemoryIn, "post", "/api/memories", "body"),
    (client_types.MemoryPage, "get", "/api/memories", "200"),
    (client_types.Memory, "get", "/api/memories/{memory_id}", "200"),
    (client_types.MemoryPatch, "patch", "/api/memories/{memory_id}", "body"),
    (client_types.Memory, "patch", "/api/memories/{memory_id}", "200"),
    (client_types.MemoryIn, "post", "/api/memories/{memory_id}/supersede", "body"),
    (client_types.Memory, "post", "/api/memories/{memory_id}/supersede", "201"),
    (client_types.HistoryResponse, "get", "/api/memories/{memory_id}/history", "200"),
    (client_types.SearchRequest, "post", "/api/memories/search", "body"),
    (client_types.SearchResponse, "post", "/api/memories/search", "200"),
    (client_types.ImportRequest, "post", "/api/memories/import", "body"),
    (client_types.MemoryImportResult, "post", "/api/memories/import", "201"),
    (client_types.AccountExport, "get", "/api/memories/export", "200"),
    (client_types.AccountExport, "post", "/api/memories/restore", "body"),
    (client_types.RestoreReport, "post", "/api/memories/restore", "200"),
    (client_types.ForgetResult, "delete", "/api/memories", "200"),
    (client_types.ProfileView, "get", "/api/profile", "200"),
    (client_types.ProfilePatch, "patch", "/api/profile", "body"),
    (client_types.ProfileView, "patch", "/api/profile", "200"),
    (client_types.ConversationPage, "get", "/api/chat/conversations", "200"),
    (client_types.ConversationDetail, "get", "/api/chat/conversations/{conversation_id}", "200"),
    (client_types.MessagePage, "get", "/api/chat/conversations/{conversation_id}/messages", "200"),
    (client_types.TranscriptMessageIn, "post", "/api/chat/conversations/import", "body.messages[]"),
    (client_types.TranscriptImportResult, "post", "/api/chat/conversations/import", "201"),
    (client_types.SendMessage, "post", "/api/chat/messages/stream", "body"),
    (client_types.SendMessage, "post", "/api/chat/conversations/{conversation_id}/messages/stream", "body"),
    (client_types.AccountExport, "get", "/api/memories/export", "200"),
    (client_types.AccountExport, "post", "/api/memories/restore", "body"),
    (client_types.RestoreReport, "post", "/api/memories/restore", "200"),
]


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return served_openapi(tmp_path_factory.mktemp("schema"))


def _served(openapi: dict[str, Any], method: str, path: str, where: str) -> dict[str, Any]:
    operation = openapi["paths"][path][method]
    if where.startswith("body"):
        schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
        if where.endswith("[]"):
            body = _resolved(openapi, schema)
            schema = _resolved(openapi, body["properties"][where.removeprefix("body.").removesuffix("[]")])["items"]
    else:
        (content,) = operation["responses"][where]["content"].values()
        schema = content["schema"]
    return schema


def _resolved(openapi: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in schema:
        found: dict[str, Any] = openapi["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return found
    return schema


@pytest.mark.parametrize(("kind", "method", "path", "where"), ROUTES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_client_type_matches_the_served_schema(
    openapi: dict[str, Any], kind: type[Any], method: str, path: str, where: str
) -> None:
    served = shape(_served(openapi, method, path, where), openapi["components"]["schemas"])
    assert differences(served, type_shape(kind)) == []


CHAT_EVENTS = [
    client_types.ConversationEvent,
    client_types.ContextEvent,
    client_types.TokenEvent,
    client_types.DoneEvent,
    client_types.ErrorEvent,
]


@pytest.mark.parametrize(
    "path", ["/api/chat/messages/stream", "/api/chat/conversations/{conversation_id}/messages/stream"]
)
def test_the_stream_documents_each_chat_event(openapi: dict[str, Any], path: str) -> None:
    """Each Server-Sent Event as OpenAPI describes a text/event-stream item: its name, and its data as JSON."""
    items = _served(openapi, "post", path, "200")["oneOf"]
    assert [item["properties"]["event"]["const"] for item in items] == [e.__struct_config__.tag for e in CHAT_EVENTS]
    data = [item["properties"]["data"] for item in items]
    assert {d["contentMediaType"] for d in data} == {"application/json"}
    assert [d["contentSchema"]["$ref"].rsplit("/", 1)[-1] for d in data] == [e.__name__ for e in CHAT_EVENTS]


@pytest.mark.parametrize("kind", CHAT_EVENTS, ids=lambda v: v.__name__)
def test_each_chat_event_matches_the_served_schema(openapi: dict[str, Any], kind: type[Any]) -> None:
    """An event's data is its struct plus the `event` tag, which is also the SSE event's name."""
    component = dict(openapi["components"]["schemas"][kind.__name__])
    properties = dict(component["properties"])
    assert properties.pop("event") == {"type": "string", "const": kind.__struct_config__.tag}
    component["properties"] = properties
    component["required"] = [name for name in component["required"] if name != "event"]
    served = shape(component, openapi["components"]["schemas"])
    assert differences(served, type_shape(kind)) == []


def test_every_memory_route_the_client_calls_is_served(openapi: dict[str, Any]) -> None:
    served = {(method, path) for path, item in openapi["paths"].items() for method in item}
    assert {(method, path) for _, method, path, _ in ROUTES} <= served


def test_a_changed_route_is_caught() -> None:
    """The comparison itself: a field the API adds, or one whose type changes, is reported."""

    class Served(msgspec.Struct):
        id: str
        count: int
        added: str

    class Ours(msgspec.Struct):
        id: str
        count: str

    found = differences(type_shape(Served), type_shape(Ours))
    assert found == [
        "$.added: served by the API, missing from the client",
        "$.count: the API serves 'integer', the client has ('string', None)",
    ]


def test_the_schema_names_each_wire_type_once(openapi: dict[str, Any]) -> None:
    """Each shape is served under its own name: a domain struct served beside its wire twin would give two
    components that Litestar names by module (`jyntrix_domain_model_Memory`, `jyntrix_client_model_Memory`)."""
    names = set(openapi["components"]["schemas"])
    assert {"Memory", "MemoryType", "MemoryChange", "Message", "Conversation", "Signals"} <= names
    assert [name for name in names if "jyntrix" in name] == []
