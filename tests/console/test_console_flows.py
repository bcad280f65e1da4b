"""The console's flows in a real browser against the real server: sign in, import and filter, history after a
supersede, search bars that match the API, a streamed chat turn, and forgetting everything."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from jyntrix_http.routes.console import CONTENT_SECURITY_POLICY
from tests.console.conftest import Console

pytestmark = pytest.mark.slow

SCRIPT_CONTENT = "<script>window.__pwned = 'script'</script> I keep my notes in a <b>bold</b> notebook"
IMG_CONTENT = "<img src=x onerror=\"window.__pwned = 'img'\"> My cat is called Pixel"


def _days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


MEMORIES = [
    {"content": "I love green tea in the morning", "type": "semantic", "created_at": _days_ago(2)},
    {"content": "My sister Maya lives in Lisbon", "type": "semantic", "created_at": _days_ago(40), "entities": ["Maya", "Lisbon"]},
    {"content": "My name is Ada Quill", "type": "profile", "created_at": _days_ago(90)},
    {"content": "Always answer in short bullet points", "type": "procedural", "created_at": _days_ago(5)},
    {"content": "We talked about the trip to Lisbon in May", "type": "episodic", "created_at": _days_ago(20)},
    {"content": SCRIPT_CONTENT, "type": "semantic", "created_at": _days_ago(1)},
    {"content": IMG_CONTENT, "type": "episodic", "created_at": _days_ago(3)},
]


def _import(console: Console) -> list[dict[str, Any]]:
    imported: list[dict[str, Any]] = console.api("POST", "/api/memories/import", json={"memories": MEMORIES})["memories"]
    return imported


def _assert_markup_stayed_text(console: Console) -> None:
    page = console.page
    assert page.evaluate("window.__pwned === undefined")
    assert page.locator("main img").count() == 0
    assert page.locator("main b").count() == 0


def _rows(console: Console) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = console.page.eval_on_selector_all(
        "#memory-rows tr.memory-row", "rows => rows.map(r => ({type: r.dataset.type, text: r.querySelector('a').textContent}))"
    )
    return rows


# ------------------------------------------------------------------ sign in


def test_sign_in_with_a_pasted_token_or_a_dev_token_kept_only_in_the_tab(console: Console) -> None:
    page = console.page
    response = httpx.get(console.url)
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in CONTENT_SECURITY_POLICY and "unsafe-inline" not in CONTENT_SECURITY_POLICY

    page.goto(console.url)
    page.wait_for_selector("[data-view=signin]")
    assert page.is_hidden("#nav")
    page.fill("#token-input", "not-a-token")
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("#flash:not([hidden])")
    assert "401" in page.text_content("#flash")
    assert page.evaluate("sessionStorage.length") == 0

    token = console.headers()["Authorization"].removeprefix("Bearer ")
    page.fill("#token-input", token)
    page.click("#token-form button[type=submit]")
    page.wait_for_selector("[data-view=memories]")
    assert page.text_content("#who") == f"signed in as {console.user}"
    assert page.evaluate("Object.values(sessionStorage)") == [token]
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("document.cookie") == ""
    console.shot("signed-in")

    page.click("#sign-out")
    page.wait_for_selector("[data-view=signin]")
    assert page.evaluate("sessionStorage.length") == 0

    console.sign_in()  # the development button
    api_requests = [r for r in console.requests if "/api/" in r.url and "/api/console/" not in r.url]
    assert api_requests
    for request in api_requests:
        assert request.headers.get("authorization", "").startswith("Bearer "), request.url
    assert all(token not in r.url for r in console.requests)


def test_the_dev_token_route_mints_tokens_the_api_accepts(console: Console) -> None:
    minted = httpx.post(f"{console.server.base_url}/api/console/dev-token", json={"user_id": console.user}).json()
    me = httpx.get(f"{console.server.base_url}/api/auth/me", headers={"Authorization": f"Bearer {minted['token']}"})
    assert me.json()["id"] == console.user
