"""A console signed in over a user with memories imported, and how its pages are read, for the flow tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.console.conftest import Console

EXTRACTION_TIMEOUT_S = 60.0

SCRIPT_CONTENT = "<script>window.__pwned = 'script'</script> I keep my notes in a <b>bold</b> notebook"
IMG_CONTENT = "<img src=x onerror=\"window.__pwned = 'img'\"> My cat is called Pixel"


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


MEMORIES = [
    {"content": "I love green tea in the morning", "type": "semantic", "created_at": days_ago(2)},
    {
        "content": "My sister Maya lives in Lisbon",
        "type": "semantic",
        "created_at": days_ago(40),
        "entities": ["Maya", "Lisbon"],
    },
    {"content": "My name is Ada Quill", "type": "profile", "created_at": days_ago(90)},
    {"content": "Always answer in short bullet points", "type": "procedural", "created_at": days_ago(5)},
    {"content": "We talked about the trip to Lisbon in May", "type": "episodic", "created_at": days_ago(20)},
    {"content": SCRIPT_CONTENT, "type": "semantic", "created_at": days_ago(1)},
    {"content": IMG_CONTENT, "type": "episodic", "created_at": days_ago(3)},
]


def import_memories(console: Console) -> list[dict[str, Any]]:
    imported: list[dict[str, Any]] = console.api("POST", "/api/memories/import", json={"memories": MEMORIES})[
        "memories"
    ]
    return imported


def signed_in_with_memories(console: Console, view: str) -> Any:
    """The page, with the sample memories imported, signed in and on `view`."""
    import_memories(console)
    console.sign_in()
    console.go(f"#/{view}", view)
    return console.page


def wait_for_memory(console: Console, *words: str) -> dict[str, Any]:
    """Extraction runs in the background after a turn; poll until its memory is there."""
    deadline = time.monotonic() + EXTRACTION_TIMEOUT_S
    items: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        items = console.api("GET", "/api/memories")["items"]
        for memory in items:
            if all(w in memory["content"] for w in words):
                return memory
        time.sleep(0.2)
    raise AssertionError(f"no memory with {words} after {EXTRACTION_TIMEOUT_S}s: {items}")


def assert_markup_stayed_text(console: Console) -> None:
    page = console.page
    assert page.evaluate("window.__pwned === undefined")
    assert page.locator("main img").count() == 0
    assert page.locator("main b").count() == 0


def loaded(console: Console, total: int) -> None:
    """Waits for the list to finish loading (the filters were just applied) and checks its total."""
    console.page.wait_for_selector("#memory-rows[data-loading=no]")
    assert console.page.text_content("#page-info").endswith(f"of {total}")


def rows(console: Console) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = console.page.eval_on_selector_all(
        "#memory-rows tr.memory-row",
        "rows => rows.map(r => ({type: r.dataset.type, text: r.querySelector('a').textContent}))",
    )
    return rows


# ------------------------------------------------------------------ sign in
