"""Living memory in the console, at a phone's width and a desktop's: the list filtered by kind, with who said each
turn and earlier memories shown with their span; and the chat keeping its conversation, each answer's context
marked relevant or background, current or earlier, as the context event said."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

import httpx
import pytest

from jyntrix_domain.model import MAX_MESSAGE_CHARS
from tests.console.conftest import BOTH_WIDTHS, Console

pytestmark = pytest.mark.slow

EXTRACTION_TIMEOUT_S = 60.0

TRANSCRIPT = {
    "title": "Planning the move",
    "messages": [
        {"role": "user", "content": "We are moving to Amsterdam in January.", "created_at": "2024-11-02T09:00:00Z"},
        {
            "role": "assistant",
            "content": "Exciting! Amsterdam has great bike lanes.",
            "created_at": "2024-11-02T09:00:05Z",
        },
        {
            "role": "user",
            "name": "Caroline",
            "content": "I will handle the flat hunt.",
            "created_at": "2024-11-02T09:01:00Z",
        },
    ],
}


def _local_day(iso: str) -> str:
    """The day as the page shows it: in this machine's time zone, which the browser shares."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone().strftime("%Y-%m-%d")


def _extracted(console: Console, conversation_id: str) -> None:
    deadline = time.monotonic() + EXTRACTION_TIMEOUT_S
    while not console.api("GET", f"/api/chat/conversations/{conversation_id}?limit=1")["extraction"]["finished"]:
        assert time.monotonic() < deadline, "extraction did not finish"
        time.sleep(0.2)


def _loaded(console: Console, total: int) -> list[dict[str, str]]:
    console.page.wait_for_selector("#memory-rows[data-loading=no]")
    assert console.page.text_content("#page-info").endswith(f"of {total}")
    rows: list[dict[str, str]] = console.page.eval_on_selector_all(
        "#memory-rows tr.memory-row",
        """rows => rows.map(r => ({
            id: r.dataset.memoryId, kind: r.dataset.kind, current: r.dataset.current, role: r.dataset.role,
            text: r.querySelector('a.memory-link').textContent,
            kindBadge: r.querySelector('.badge.kind').textContent,
            saidBy: r.querySelector('.said-by')?.textContent ?? null,
            earlier: r.querySelector('.badge.earlier')?.textContent ?? null,
        }))""",
    )
    return rows


def _listed(console: Console, query: str) -> dict[str, Any]:
    listed: dict[str, Any] = console.api("GET", f"/api/memories?limit=100{query}")
    return listed


@BOTH_WIDTHS
def test_the_list_filters_by_kind_and_shows_who_said_each_turn_and_earlier_memories_with_their_span(
    console: Console,
) -> None:
    page = console.page
    imported = console.api("POST", "/api/chat/conversations/import", json=TRANSCRIPT)
    _extracted(console, imported["conversation_id"])
    old = console.api("POST", "/api/memories", json={"content": "I work at Initech", "type": "semantic"})
    new = console.api("POST", f"/api/memories/{old['id']}/supersede", json={"content": "I work at Globex now"})
    console.sign_in()

    everything = _listed(console, "")
    rows = _loaded(console, everything["total"])
    assert {r["id"]: r["kind"] for r in rows} == {m["id"]: m["kind"] for m in everything["items"]}
    assert {r["kind"] for r in rows} >= {"turn", "fact"}
    assert all(r["kindBadge"] == r["kind"] for r in rows)
    console.assert_fits()
    console.shot(f"memories-all-kinds-{console.width}")

    page.select_option("#filter-kind", "turn")
    turns = _listed(console, "&kind=turn")
    rows = _loaded(console, turns["total"])
    assert turns["total"] == 3  # the user's two statements (one by a named speaker) and the assistant's answer
    assert {r["kind"] for r in rows} == {"turn"}
    by_id = {m["id"]: m for m in turns["items"]}
    said = {r["text"]: (r["role"], r["saidBy"]) for r in rows}
    assert said == {
        "We are moving to Amsterdam in January.": ("user", "said by the user"),
        "Exciting! Amsterdam has great bike lanes.": ("assistant", "said by the assistant"),
        "Caroline: I will handle the flat hunt.": ("user", "said by Caroline"),
    }
    assert all(r["role"] == by_id[r["id"]]["place"]["role"] for r in rows)

    # A turn leads to its message, highlighted in its conversation.
    assistant = next(r for r in rows if r["role"] == "assistant")
    page.click(f"#memory-rows tr[data-memory-id='{assistant['id']}'] a.place-link")
    page.wait_for_selector("[data-view=conversation]")
    assert page.text_content("#messages li.message.target .body") == "Exciting! Amsterdam has great bike lanes."
    console.assert_fits()
    page.go_back()
    page.wait_for_selector("[data-view=memories]")

    # Facts, current only: the superseded job is not listed; with earlier memories shown, it is, with its span.
    page.select_option("#filter-kind", "fact")
    facts = _listed(console, "&kind=fact")
    rows = _loaded(console, facts["total"])
    texts = {r["text"] for r in rows}
    assert "I work at Globex now" in texts and "I work at Initech" not in texts
    assert all(r["current"] == "true" and r["earlier"] is None for r in rows)

    page.check("#filter-earlier")
    with_earlier = _listed(console, "&kind=fact&current_only=false")
    rows = _loaded(console, with_earlier["total"])
    assert with_earlier["total"] == facts["total"] + 1
    ended = next(m for m in with_earlier["items"] if m["id"] == old["id"])
    shown = next(r for r in rows if r["id"] == old["id"])
    assert shown["current"] == "false"
    assert shown["earlier"] == f"earlier · {_local_day(ended['valid_from'])} → {_local_day(ended['valid_until'])}"
    assert next(r for r in rows if r["id"] == new["id"])["earlier"] is None
    console.assert_fits()
    console.shot(f"memories-earlier-facts-{console.width}")

    page.select_option("#filter-kind", "summary")
    rows = _loaded(console, _listed(console, "&kind=summary&current_only=false")["total"])
    assert {r["kind"] for r in rows} <= {"summary"}


def _context_events(responses: list[Any]) -> list[list[dict[str, Any]]]:
    """The `context` event of each streamed turn, read from the SSE bodies the page received."""
    events = []
    for response in responses:
        for frame in response.text().replace("\r\n", "\n").split("\n\n"):
            data = next((line[6:] for line in frame.splitlines() if line.startswith("data: ")), None)
            if data and '"event":"context"' in data:
                events.append(json.loads(data)["memories"])
    return events


def _shown_context(turn: Any) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = turn.locator("li.context-memory").evaluate_all(
        """items => items.map(i => ({
            ref: Number(i.dataset.ref), id: i.dataset.memoryId, relevant: i.dataset.relevant === 'true',
            current: i.dataset.current === 'true',
            marks: [...i.querySelectorAll('.memory-meta .badge')].map(b => b.textContent),
        }))"""
    )
    return shown


@BOTH_WIDTHS
def test_the_chat_keeps_the_conversation_and_marks_each_answers_context_memories(console: Console) -> None:
    page = console.page
    old = console.api("POST", "/api/memories", json={"content": "I work at Initech", "type": "semantic"})
    console.api("POST", f"/api/memories/{old['id']}/supersede", json={"content": "I work at Globex now"})
    console.api("POST", "/api/memories", json={"content": "My sister Maya lives in Lisbon", "type": "semantic"})
    console.sign_in()
    console.go("#/chat", "chat")

    streamed: list[Any] = []
    page.on("response", lambda r: streamed.append(r) if r.url.endswith("/messages/stream") else None)
    questions = ["Where do I work?", "Where did I work before?", "Where does my sister live?"]
    turns = [console.chat(q) for q in questions]

    conversation_id = page.text_content("#chat-conversation a")
    assert conversation_id
    stream_paths = [r.url.removeprefix(console.server.base_url) for r in streamed]
    assert stream_paths == [
        "/api/chat/messages/stream",
        f"/api/chat/conversations/{conversation_id}/messages/stream",
        f"/api/chat/conversations/{conversation_id}/messages/stream",
    ]
    stored = console.api("GET", f"/api/chat/conversations/{conversation_id}")["messages"]
    assert [m["role"] for m in stored] == ["user", "assistant"] * 3
    log = page.eval_on_selector_all(
        "#chat-log li.chat-turn",
        "ts => ts.map(t => [...t.querySelectorAll('.bubble.user .text, .answer')].map(e => e.textContent))",
    )
    assert log == [[q, a["content"]] for q, a in zip(questions, stored[1::2], strict=True)]
    assert [m["content"] for m in stored[::2]] == questions

    # Each answer lists what its context placed, marked as the context event said.
    events = _context_events(streamed)
    assert len(events) == 3
    for turn, event in zip(turns, events, strict=True):
        shown = _shown_context(turn)
        assert [(s["ref"], s["id"], s["relevant"], s["current"]) for s in shown] == [
            (m["ref"], m["id"], m["relevant"], m["current"]) for m in event
        ]
        for item, memory in zip(shown, event, strict=True):
            assert ("relevant" if memory["relevant"] else "background") in item["marks"]
            standing = [mark for mark in item["marks"] if mark == "current" or mark.startswith("earlier · ")]
            if memory["current"]:
                assert standing == ["current"]
            else:
                span = f"{_local_day(memory['valid_from'])} → {_local_day(memory['valid_until'])}"
                assert standing == [f"earlier · {span}"]
    # The job that ended is in the context as earlier, and answers the question about the past.
    past = next(m for m in events[1] if m["id"] == old["id"])
    assert past["current"] is False and past["relevant"] is True
    assert page.eval_on_selector_all("#chat-log details.used", "ds => ds.map(d => d.open)") == [False, False, True]
    console.assert_fits()
    console.shot(f"chat-conversation-{console.width}")

    # Away and back: the conversation is still there, and the next message continues it.
    console.go("#/memories", "memories")
    console.go("#/chat", "chat")
    assert page.locator("#chat-log li.chat-turn").count() == 3
    console.chat("Thanks, that helps.")
    assert len(console.api("GET", f"/api/chat/conversations/{conversation_id}")["messages"]) == 8

    # A reload fetches the conversation again, and goes on with it.
    page.reload()
    page.wait_for_selector("[data-view=chat]")
    page.wait_for_selector("#chat-log li.chat-turn.past")
    assert page.text_content("#chat-conversation a") == conversation_id
    assert page.eval_on_selector_all("#chat-log li.chat-turn .text", "ts => ts.map(t => t.textContent)") == [
        m["content"] for m in console.api("GET", f"/api/chat/conversations/{conversation_id}")["messages"]
    ]

    # A new conversation: the log empties, and the next message starts another one.
    page.click("#chat-new")
    assert page.locator("#chat-log li").count() == 0
    console.chat("Hello again")
    assert page.locator("#chat-log li.chat-turn").count() == 1
    other = page.text_content("#chat-conversation a")
    assert other and other != conversation_id
    assert streamed[-1].url.endswith("/api/chat/messages/stream")
    conversations = {c["id"] for c in console.api("GET", "/api/chat/conversations")["items"]}
    assert conversations == {conversation_id, other}

    # A message the route refuses: the turn says why, in the problem document's words, and offers to send it again.
    too_long = "x" * (MAX_MESSAGE_CHARS + 1)
    refused = httpx.post(
        f"{console.server.base_url}/api/chat/conversations/{other}/messages/stream",
        json={"content": too_long},
        headers=console.headers(),
    )
    assert refused.status_code == 422
    problem = refused.json()
    page.fill("#chat-input", too_long)
    page.click("#chat-send")
    failed = page.locator("#chat-log li.chat-turn").last
    page.wait_for_selector("#chat-log li.chat-turn:last-child[data-state=error]")
    shown = failed.locator(".turn-status .problem").text_content()
    assert shown == f"422: {problem['detail']} — {problem['errors'][0]['key']}: {problem['errors'][0]['message']}"
    assert page.text_content("#flash") == shown
    assert failed.locator("button.retry").is_visible()
    assert len(console.api("GET", f"/api/chat/conversations/{other}")["messages"]) == 2
