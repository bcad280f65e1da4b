"""jyntrix_client's types against the served OpenAPI schema: a route that changes shape without the client fails."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient

from jyntrix_client import types as client_types
from jyntrix_domain import chat as server_chat
from jyntrix_http.app import create_app
from tests.agents.schema_shapes import differences, shape, type_shape
from tests.http.conftest import make_settings

# (client type, method, path, where in the operation): "200"/"201" a response, "body" the request body.
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
    (client_types.ProfileView, "get", "/api/profile", "200"),
    (client_types.ConversationPage, "get", "/api/chat/conversations", "200"),
    (client_types.MessagePage, "get", "/api/chat/conversations/{conversation_id}/messages", "200"),
    (client_types.SendMessage, "post", "/api/chat/messages/stream", "body"),
    (client_types.SendMessage, "post", "/api/chat/conversations/{conversation_id}/messages/stream", "body"),
    (client_types.AccountExport, "get", "/api/memories/export", "200"),
    (client_types.AccountExport, "post", "/api/memories/restore", "body"),
    (client_types.RestoreReport, "post", "/api/memories/restore", "200"),
]


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with TestClient(create_app(make_settings(tmp_path_factory.mktemp("schema")))) as client:
        response = client.get("/schema/openapi.json")
        assert response.status_code == 200
        document: dict[str, Any] = response.json()
        return document


def _served(openapi: dict[str, Any], method: str, path: str, where: str) -> dict[str, Any]:
    operation = openapi["paths"][path][method]
    if where == "body":
        schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    else:
        schema = operation["responses"][where]["content"]["application/json"]["schema"]
    return schema


@pytest.mark.parametrize(("kind", "method", "path", "where"), ROUTES, ids=lambda v: getattr(v, "__name__", str(v)))
def test_client_type_matches_the_served_schema(
    openapi: dict[str, Any], kind: type[Any], method: str, path: str, where: str
) -> None:
    served = shape(_served(openapi, method, path, where), openapi["components"]["schemas"])
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


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (client_types.ConversationEvent, server_chat.ConversationEvent),
        (client_types.ContextEvent, server_chat.ContextEvent),
        (client_types.TokenEvent, server_chat.TokenEvent),
        (client_types.DoneEvent, server_chat.DoneEvent),
        (client_types.ErrorEvent, server_chat.ErrorEvent),
    ],
    ids=lambda v: v.__name__,
)
def test_chat_events_match_the_servers(ours: type[Any], theirs: type[Any]) -> None:
    """The stream's events are not in the OpenAPI schema (text/event-stream): compare with the server's types."""
    assert differences(type_shape(theirs), type_shape(ours)) == []
