"""No user reaches another's data through any route, in any spelling of an id, and no answer tells them it exists.

The victim has memories (one with an id they chose), a conversation and its messages. The intruder sends every
served operation that takes an id with each of the victim's ids spelt many ways; each answer must be the client
error that an id nobody uses gets, with nothing of the victim in it, and the victim's data must be unchanged after.
Every list, search and export the intruder can call shows nothing of the victim. The operations come from the
served OpenAPI document, so new routes join; a path parameter the matrix cannot fill fails loudly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
from litestar.routes import HTTPRoute

from tests.adversarial.conftest import SyncClient, Tenant, seeded_tenant
from tests.adversarial.served import (
    AUTHENTICATED,
    DOCUMENT,
    OPERATIONS,
    WITH_PATH_PARAMS,
    Operation,
    assert_error_document,
    op_id,
    operations,
    sample_body,
)

# Which of the victim's ids each path parameter takes. A new parameter must be added here (or below) to be tested.
ID_KINDS = {"memory_id": "memory", "conversation_id": "conversation", "message_id": "message"}
# Path parameters of public routes outside the schema that hold no tenant's data: they get the traversal check.
PUBLIC_FILE_PARAMS = {"path", "file_path"}
# Path parameters of authenticated routes naming what every user shares (no tenant's data), with the values that
# name something: every user must get the same answer for any spelling of them.
SHARED_PARAMS = {"model_id": ["jyntrix", "offline"]}
TENANT_PATH_OPS = [op for op in WITH_PATH_PARAMS if not set(op.path_params) & set(SHARED_PARAMS)]
SHARED_PATH_OPS = [op for op in WITH_PATH_PARAMS if set(op.path_params) & set(SHARED_PARAMS)]


def _percent(text: str) -> str:
    return "".join(f"%{byte:02X}" for byte in text.encode())


SPELLINGS: dict[str, Callable[[str], str]] = {
    "as-is": lambda i: i,
    "upper-case": str.upper,
    "percent-encoded": _percent,
    "urn-uuid": lambda i: f"urn:uuid:{i}",
    "urn-uuid-encoded": lambda i: f"urn%3Auuid%3A{i}",
    "dot-dot-encoded-slash": lambda i: f"..%2F{i}",
    "detour-through-parent": lambda i: f"x%2F..%2F{i}",
    "encoded-dots": lambda i: f"%2E%2E%2F{i}",
    "double-encoded": lambda i: f"%252E%252E%252F{i}",
    "trailing-slash": lambda i: f"{i}/",
    "leading-space": lambda i: f"%20{i}",
    "trailing-space": lambda i: f"{i}%20",
    "trailing-tab": lambda i: f"{i}%09",
    "trailing-newline": lambda i: f"{i}%0A",
    "trailing-nul": lambda i: f"{i}%00",
    "long-suffix": lambda i: i + "a" * 8000,
}


def unused_like(an_id: str) -> str:
    """An id of the same shape that nobody uses: a fresh uuid for a uuid, else a fresh suffix."""
    try:
        uuid.UUID(an_id)
    except ValueError:
        return f"doc-{uuid.uuid4().hex[:12]}"
    return str(uuid.uuid4())


def call(client: SyncClient, op: Operation, segment: str, headers: dict[str, str]) -> Any:
    url = op.url(**dict.fromkeys(op.path_params, segment))
    body = sample_body(op) if op.body_schema is not None else None
    return client.request(op.method, url, json=body, headers=headers)


def outcome(response: Any) -> tuple[int, str | None]:
    """What an answer reveals besides its text: the status and the problem's code."""
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith("application/"):
        body = response.json()
        return response.status_code, body.get("code") or body.get("error", {}).get("code")
    return response.status_code, None


def assert_untouched(client: SyncClient, victim: Tenant) -> None:
    """The victim still reads every memory, current and unchanged, and their conversation with its messages."""
    for memory_id in victim.ids["memory"]:
        found = client.get(f"/api/memories/{memory_id}", headers=victim.headers)
        assert found.status_code == 200, found.text
        assert victim.secret in found.json()["content"] and found.json()["superseded_by"] is None
    conversation_id = victim.ids["conversation"][0]
    messages = client.get(f"/api/chat/conversations/{conversation_id}/messages", headers=victim.headers)
    assert messages.status_code == 200, messages.text
    assert [m["id"] for m in messages.json()["items"]] == victim.ids["message"]


def assert_nothing_of(victim: Tenant, response: Any) -> None:
    """Nothing of the victim's is in the answer, but what the caller sent itself (a 404 may name the id asked for)."""
    sent = unquote(str(response.request.url)) + response.request.content.decode(errors="replace")
    leaked = [trace for trace in victim.traces() if trace and trace in response.text and trace not in sent]
    assert not leaked, f"{response.request.method} {response.request.url} answered with {leaked}: {response.text[:500]}"


def test_the_collected_operations_are_the_served_ones(api: SyncClient) -> None:
    served = api.get("/schema/openapi.json")
    assert served.status_code == 200
    assert operations(served.json()) == OPERATIONS
    assert len(WITH_PATH_PARAMS) >= 9  # memories (5), conversations (4): the matrix below is not empty


def test_every_path_parameter_is_one_the_matrix_can_fill(api: SyncClient) -> None:
    """Fails when a route takes a parameter that no matrix here exercises, so that no route is skipped silently."""
    listed = {op.path for op in OPERATIONS}
    unknown = []
    for route in api.app.routes:
        if not isinstance(route, HTTPRoute) or not route.path_parameters:
            continue
        template = route.path
        for name, definition in route.path_parameters.items():
            template = template.replace("{" + definition.full + "}", "{" + name + "}")
        handlers = [h for h in route.route_handlers if "OPTIONS" not in h.http_methods]
        public = all(h.opt.get("exclude_from_auth") for h in handlers) or template.startswith("/schema")
        for name in route.path_parameters:
            if template in listed and (name in ID_KINDS or name in SHARED_PARAMS):
                continue
            if template not in listed and public and name in PUBLIC_FILE_PARAMS:
                continue
            unknown.append(f"{template} takes `{name}`")
    assert not unknown, (
        "routes whose path parameters the cross-tenant matrix cannot fill: "
        f"{unknown}; add the parameter to ID_KINDS (a tenant's id), SHARED_PARAMS (what every user shares) or "
        "PUBLIC_FILE_PARAMS (a public file route)"
    )


def public_file_routes(client: SyncClient) -> list[str]:
    """Templates of the public routes outside the schema whose path parameter names a file (docs, static files)."""
    found = []
    for route in client.app.routes:
        if isinstance(route, HTTPRoute) and set(route.path_parameters) & PUBLIC_FILE_PARAMS:
            found.append(route.path.split("{", 1)[0])
    return found


TRAVERSALS = [
    "..%2F..%2Fpyproject.toml",
    "../../pyproject.toml",
    "%2E%2E/%2E%2E/pyproject.toml",
    "..%2F" * 12 + "etc/passwd",
]


def test_public_file_routes_serve_nothing_from_outside_their_directory(api: SyncClient) -> None:
    prefixes = public_file_routes(api)
    assert "/schema/" in prefixes
    for prefix in prefixes:
        for traversal in TRAVERSALS:
            response = api.get(prefix + traversal)
            assert response.status_code < 500, f"{prefix}{traversal}: {response.text[:300]}"
            assert "[build-system]" not in response.text and "root:x:0:0" not in response.text, prefix + traversal


@pytest.mark.parametrize("op", TENANT_PATH_OPS, ids=op_id)
def test_another_users_ids_in_any_spelling_reach_nothing(
    api: SyncClient, victim: Tenant, intruder: Tenant, op: Operation
) -> None:
    kinds = {ID_KINDS[name] for name in op.path_params}
    assert len(kinds) == 1, f"{op.id}: ids of several kinds in one path; extend the matrix"
    failures = []
    for victims_id in victim.ids[kinds.pop()]:
        nobodys_id = unused_like(victims_id)
        for spelling, spell in SPELLINGS.items():
            response = call(api, op, spell(victims_id), intruder.headers)
            unused = call(api, op, spell(nobodys_id), intruder.headers)
            if not 400 <= response.status_code < 500:
                failures.append(f"{spelling}: {response.status_code} {response.text[:300]}")
                continue
            assert_error_document(op.path, response)
            assert_nothing_of(victim, response)
            if outcome(response) != outcome(unused):
                failures.append(f"{spelling}: {outcome(response)} for the victim's id, {outcome(unused)} for another")
    assert not failures, f"{op.id} as another user:\n" + "\n".join(failures)
    assert_untouched(api, victim)


@pytest.mark.parametrize("op", [op for op in TENANT_PATH_OPS if op.method == "GET"], ids=op_id)
def test_the_owner_reaches_their_own_ids(api: SyncClient, victim: Tenant, op: Operation) -> None:
    """The positive control: the ids the matrix uses are real, so a 404 above is isolation, not a typo."""
    kind = ID_KINDS[op.path_params[0]]
    for own_id in victim.ids[kind]:
        response = call(api, op, own_id, victim.headers)
        assert response.status_code == 200, f"{op.id} for its owner: {response.status_code} {response.text[:300]}"


@pytest.mark.parametrize("op", SHARED_PATH_OPS, ids=op_id)
def test_what_every_user_shares_answers_every_user_alike(
    api: SyncClient, victim: Tenant, intruder: Tenant, op: Operation
) -> None:
    """Any spelling of a shared name (a model's id) gets the victim and the intruder the same answer, a client
    error for what names nothing, and nothing of the victim's."""
    (param,) = op.path_params
    assert SHARED_PARAMS[param], f"{op.id}: no value names anything"
    failures = []
    for value in [*SHARED_PARAMS[param], "no-such-thing"]:
        for spelling, spell in SPELLINGS.items():
            theirs, mine = (call(api, op, spell(value), who.headers) for who in (victim, intruder))
            if theirs.status_code >= 500 or (theirs.status_code, theirs.text) != (mine.status_code, mine.text):
                failures.append(f"{value} {spelling}: {theirs.status_code} and {mine.status_code}: {mine.text[:200]}")
                continue
            if mine.status_code >= 400:
                assert_error_document(op.path, mine)
            assert_nothing_of(victim, mine)
        assert call(api, op, value, intruder.headers).status_code == (404 if value == "no-such-thing" else 200)
    assert not failures, f"{op.id}:\n" + "\n".join(failures)


LISTINGS = [op for op in AUTHENTICATED if not op.path_params and op.method in ("GET", "POST")]


@pytest.mark.parametrize("op", LISTINGS, ids=op_id)
def test_nothing_of_another_user_shows_in_any_listing(
    api: SyncClient, victim: Tenant, intruder: Tenant, op: Operation
) -> None:
    body = sample_body(op) if op.body_schema is not None else None
    if isinstance(body, dict):
        # Ask for the victim's secret wherever the body has a field for text: a query, a message, a title.
        body = {key: victim.secret if isinstance(value, str) else value for key, value in body.items()}
    response = api.request(op.method, op.path, json=body, headers=intruder.headers)
    assert response.status_code < 500, response.text
    assert_nothing_of(victim, response)


def test_the_search_for_another_users_secret_finds_nothing(api: SyncClient, victim: Tenant, intruder: Tenant) -> None:
    api.post("/api/memories", json={"content": "I keep my own locker code elsewhere"}, headers=intruder.headers)
    found = api.post("/api/memories/search", json={"query": f"locker code {victim.secret}"}, headers=intruder.headers)
    assert found.status_code == 200, found.text
    assert all(victim.secret not in r["memory"]["content"] for r in found.json()["results"])
    assert_nothing_of(victim, found)
    # ...while the victim's own search does find it: the search works, the scoping is what hides it.
    own = api.post("/api/memories/search", json={"query": f"locker code {victim.secret}"}, headers=victim.headers)
    assert any(victim.secret in r["memory"]["content"] for r in own.json()["results"])


def test_another_users_chat_turn_never_sees_the_secret(api: SyncClient, victim: Tenant, intruder: Tenant) -> None:
    turn = api.post(
        "/api/chat/messages/stream",
        json={"content": f"What is my locker code? Is it {victim.secret[:6]}?"},
        headers=intruder.headers,
    )
    assert turn.status_code == 200, turn.text
    assert_nothing_of(victim, turn)


def test_forgetting_everything_forgets_only_the_caller(api: SyncClient, victim: Tenant, intruder: Tenant) -> None:
    api.post("/api/memories", json={"content": "something of my own"}, headers=intruder.headers)
    forgotten = api.delete("/api/memories", params={"confirm": "true"}, headers=intruder.headers)
    assert forgotten.status_code == 200, forgotten.text
    assert_nothing_of(victim, forgotten)
    assert api.get("/api/memories", headers=intruder.headers).json()["total"] == 0
    assert_untouched(api, victim)


def test_a_chosen_id_that_another_user_holds_is_a_separate_memory(api: SyncClient, victim: Tenant) -> None:
    """Importing the victim's chosen id (in any case) makes the importer's own memory; the victim keeps theirs."""
    squatter = seeded_tenant(api)
    chosen = victim.ids["memory"][1]
    for spelling in (chosen, chosen.upper()):
        body = {"memories": [{"id": spelling, "content": "squatted"}]}
        imported = api.post("/api/memories/import", json=body, headers=squatter.headers)
        assert imported.status_code == 201, imported.text
    assert_untouched(api, victim)
    found = api.post("/api/memories/search", json={"query": f"vault word {victim.secret}"}, headers=victim.headers)
    assert chosen in [r["memory"]["id"] for r in found.json()["results"]]


TIMES = ("created_at", "updated_at", "valid_from")


def test_a_restore_naming_another_users_ids_writes_only_the_callers_account(
    api: SyncClient, victim: Tenant, intruder: Tenant
) -> None:
    """An export forged with the victim's user id and their memory, conversation and message ids restores into the
    caller's own account: the ids are per user, and every user id in it becomes the caller's."""
    at = "2025-01-01T00:00:00Z"
    memory_id, conversation_id, message_id = (victim.ids[k][0] for k in ("memory", "conversation", "message"))
    owned = {"user_id": victim.user_id}
    forged = {
        **owned,
        "exported_at": at,
        "memories": [
            {**owned, "id": memory_id, "type": "semantic", "content": "forged", **dict.fromkeys(TIMES, at)},
        ],
        "history": {},
        "entities": [],
        "relations": [],
        "profile": {**owned, "display_name": "Mallory", "updated_at": at},
        "conversations": [
            {
                **owned,
                "id": conversation_id,
                "created_at": at,
                "updated_at": at,
                "messages": [
                    {**owned, "id": message_id, "conversation_id": conversation_id, "role": "user"}
                    | {"content": "forged", "created_at": at}
                ],
            }
        ],
    }
    restored = api.post("/api/memories/restore", json=forged, headers=intruder.headers)
    assert restored.status_code == 200, restored.text
    assert_nothing_of(victim, restored)
    assert_untouched(api, victim)
    assert api.get("/api/profile", headers=victim.headers).json()["display_name"] != "Mallory"
    theirs = api.get(f"/api/memories/{memory_id}", headers=intruder.headers).json()
    assert (theirs["content"], theirs["user_id"]) == ("forged", intruder.user_id)


def test_another_users_message_is_no_cursor_and_no_retry(api: SyncClient, victim: Tenant) -> None:
    """The paging cursor and a retried message_id are looked up in the caller's own conversations only."""
    squatter = seeded_tenant(api)
    own = squatter.ids["conversation"][0]
    for message_id in victim.ids["message"]:
        paged = api.get(
            f"/api/chat/conversations/{own}/messages", params={"before_id": message_id}, headers=squatter.headers
        )
        assert_error_document("/api", paged, (422,))
        assert_nothing_of(victim, paged)
    # The victim's message id sent as one's own is a new message of one's own, answered in one's own conversation.
    said = {"content": "My own words", "message_id": victim.ids["message"][0]}
    turn = api.post("/api/chat/messages/stream", json=said, headers=squatter.headers)
    assert turn.status_code == 200, turn.text
    assert_nothing_of(victim, turn)
    assert_untouched(api, victim)


def test_the_served_document_lists_no_route_without_a_security_requirement() -> None:
    assert DOCUMENT.get("security"), "the document must require the bearer token by default"
    for path, item in DOCUMENT["paths"].items():
        for op in item.values():
            if isinstance(op, dict) and "security" in op:
                assert op["security"], f"{path} opts out of the bearer requirement"
