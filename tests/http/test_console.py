"""The console's files and routes over HTTP: security headers, what is public, the dev-token route's conditions,
and a message looked up by id (the console's way from a memory's source to its conversation)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from jyntrix_bootstrap.settings import Environment
from jyntrix_http.app import create_app
from jyntrix_http.routes.console import CONTENT_SECURITY_POLICY, STATIC_DIR, is_loopback
from tests.http.test_bad_input import problem
from testsupport.app import Client, make_settings


def _assets() -> list[str]:
    return sorted(str(p.relative_to(STATIC_DIR)) for p in STATIC_DIR.rglob("*") if p.is_file())


@pytest.mark.parametrize("path", ["/console/", "/console", *(f"/console/{name}" for name in _assets())])
async def test_every_console_file_is_public_and_sent_under_a_strict_policy(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200, path
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("suffix", "media_type"),
    [(".js", "text/javascript"), (".css", "text/css"), (".html", "text/html"), (".svg", "image/svg+xml")],
)
async def test_console_files_carry_their_media_type(client: Client, suffix: str, media_type: str) -> None:
    name = next(n for n in _assets() if n.endswith(suffix))
    response = await client.get(f"/console/{name}")
    # nosniff makes the browser trust this header: a module served as anything else would not run
    assert response.headers["content-type"].split(";")[0] in {media_type, media_type.replace("text/", "application/")}


def test_the_policy_allows_nothing_inline_and_nothing_from_elsewhere() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    for name in ("script-src", "style-src", "connect-src"):
        assert directives[name] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_no_console_file_holds_inline_script_style_or_markup_injection() -> None:
    for name in _assets():
        text = (STATIC_DIR / name).read_text()
        for forbidden in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "localStorage"):
            assert forbidden not in text, (name, forbidden)
        if name.endswith(".html"):
            assert "<style" not in text and " style=" not in text and " on" not in text.replace("<noscript", "")
            assert text.count("<script") == 1 and 'src="/console/js/app.js"' in text


@pytest.mark.parametrize("path", ["/console/missing.js", "/console/../app.py", "/console/%2e%2e/app.py"])
async def test_nothing_outside_the_console_files_is_served(client: Client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404


async def test_the_config_says_whether_dev_tokens_can_be_minted_and_gives_the_budgets(client: Client) -> None:
    config = (await client.get("/api/console/config")).json()
    assert config["dev_tokens"] is True
    assert config["budgets"] == {
        "profile": 600,
        "semantic": 1500,
        "episodic": 1500,
        "procedural": 400,
        "entity": 300,
        "history": 300,
        "total": 5000,
    }


def _said(n: int = 1, content: str = "I like tea.", **fields: str) -> dict[str, Any]:
    messages = [{"role": "user", "content": content, "created_at": "2024-01-01T10:00:00Z", **fields} for _ in range(n)]
    return {"messages": messages}


async def test_the_import_limits_the_console_checks_a_file_against_are_the_routes_own(
    client: Client, headers: dict[str, str]
) -> None:
    """The console refuses a file whole when it breaks one of these; each is where the route starts refusing."""
    limits = (await client.get("/api/console/config")).json()["transcripts"]
    at_limit = [
        _said(limits["messages_per_call"]),
        _said(content="x" * limits["content_chars"]),
        _said(name="n" * limits["name_chars"]),
        _said(id="i" * limits["id_chars"]),
        {**_said(), "title": "t" * limits["title_chars"]},
    ]
    past_limit = [
        _said(limits["messages_per_call"] + 1),
        _said(content="x" * (limits["content_chars"] + 1)),
        _said(name="n" * (limits["name_chars"] + 1)),
        _said(id="i" * (limits["id_chars"] + 1)),
        {**_said(), "title": "t" * (limits["title_chars"] + 1)},
    ]
    for body in past_limit:
        refused = await client.post("/api/chat/conversations/import", json=body, headers=headers)
        assert refused.status_code == 422, refused.text
    for body in at_limit:
        taken = await client.post("/api/chat/conversations/import", json=body, headers=headers)
        assert taken.status_code == 201, taken.text


async def test_a_minted_dev_token_signs_in_as_that_user(client: Client) -> None:
    minted = await client.post("/api/console/dev-token", json={"user_id": "ada@example.org"})
    assert minted.status_code == 201, minted.text
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {minted.json()['token']}"})
    assert me.json()["id"] == "ada@example.org"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"user_id": ""},
        {"user_id": "a b"},
        {"user_id": "x" * 201},
        {"user_id": "ada", "admin": True},
        {"user_id": 3},
    ],
)
async def test_a_bad_dev_token_request_is_a_problem_document(client: Client, body: dict[str, Any]) -> None:
    problem(await client.post("/api/console/dev-token", json=body), 422)


@pytest.mark.parametrize(
    "changes",
    [
        {"environment": Environment.PRODUCTION},
        {"host": "0.0.0.0"},
        {"host": "192.168.1.10"},
        {"host": "::"},
    ],
)
async def test_the_dev_token_route_exists_only_in_development_on_a_loopback_bind(
    tmp_path: Path, changes: dict[str, Any]
) -> None:
    async with AsyncTestClient(create_app(make_settings(tmp_path, **changes))) as client:
        assert (await client.post("/api/console/dev-token", json={"user_id": "ada"})).status_code in {404, 405}
        assert (await client.get("/api/console/config")).json()["dev_tokens"] is False
        assert (await client.get("/console/")).status_code == 200


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("example.org", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


# ------------------------------------------------------------------ a message by id


async def test_a_message_is_found_by_id_by_its_user_only(
    client: Client, headers: dict[str, str], other_headers: dict[str, str]
) -> None:
    streamed = await client.post("/api/chat/messages/stream", json={"content": "I like tea"}, headers=headers)
    assert streamed.status_code == 200
    conversation = (await client.get("/api/chat/conversations", headers=headers)).json()["items"][0]
    messages = (await client.get(f"/api/chat/conversations/{conversation['id']}", headers=headers)).json()["messages"]
    asked = messages[0]
    found = await client.get(f"/api/chat/messages/{asked['id']}", headers=headers)
    assert found.status_code == 200
    assert found.json() == asked and asked["conversation_id"] == conversation["id"]
    assert (
        problem(await client.get(f"/api/chat/messages/{asked['id']}", headers=other_headers), 404)["code"]
        == "not_found"
    )
    problem(await client.get("/api/chat/messages/no-such-message", headers=headers), 404)
    problem(await client.get(f"/api/chat/messages/{asked['id']}"), 401)
