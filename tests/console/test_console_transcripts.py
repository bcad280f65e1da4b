"""Importing conversations from the console, at a phone's width and a desktop's: plain-text and JSON transcripts
and ChatGPT exports (the zip or its conversations.json), read in the page, sent in calls the route takes, with the
progress and then the extraction status shown; the same file read as `jyntrix import` reads it, so that a file
through either door is stored once; a bad file refused whole, and a refused call shown as its problem's detail."""

from __future__ import annotations

import json
import os
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from jyntrix_client.transcript_files import read_transcripts
from jyntrix_domain.transcripts import MAX_TRANSCRIPT_CONTENT_CHARS, MAX_TRANSCRIPT_MESSAGES
from tests.console.chatgpt_exports import chatgpt_export
from tests.console.conftest import BOTH_WIDTHS, Console

pytestmark = pytest.mark.slow

EXTRACTION_TIMEOUT_MS = 120_000

# A title is shown as the text it is, never parsed as markup.
MARKUP_TITLE = "Cat <img src=x onerror=\"window.__pwned = 'title'\">"
PLAIN_TEXT = """\
[2024-03-02T09:00:00Z] User: I live in Berlin.
Assistant: Nice, Berlin is a great city.

Caroline: Ella is 5.
She loves drawing.

[2024-06-10T18:30:00+02:00] user: We moved to Amsterdam last week.
ASSISTANT: Congratulations on the move! Some tips:
https://example.org/tips: useful for newcomers.
"""
# (role, name, content, time) as the file says them: a message without a time comes a second after the one before.
PLAIN_TEXT_MESSAGES = [
    ("user", None, "I live in Berlin.", "2024-03-02T09:00:00+00:00"),
    ("assistant", None, "Nice, Berlin is a great city.", "2024-03-02T09:00:01+00:00"),
    ("user", "Caroline", "Ella is 5.\nShe loves drawing.", "2024-03-02T09:00:02+00:00"),
    ("user", None, "We moved to Amsterdam last week.", "2024-06-10T18:30:00+02:00"),
    (
        "assistant",
        None,
        "Congratulations on the move! Some tips:\nhttps://example.org/tips: useful for newcomers.",
        "2024-06-10T18:30:01+02:00",
    ),
]


def _choose(console: Console, path: Path) -> None:
    console.page.set_input_files("#transcript-file", str(path))
    console.page.wait_for_selector(f"#transcript-preview[data-read='{path.name}']")


def _opened(console: Console) -> None:
    console.sign_in()
    console.page.click("details.transcript-import summary")


def _import(console: Console) -> list[dict[str, str]]:
    """Clicks Import and waits until extraction has finished; each conversation's line in the results."""
    page = console.page
    page.click("#transcript-import")
    page.wait_for_selector("#transcript-extraction[data-finished=true]", timeout=EXTRACTION_TIMEOUT_MS)
    results: list[dict[str, str]] = page.eval_on_selector_all(
        "#transcript-results li",
        "items => items.map(i => ({id: i.dataset.conversationId, extraction: i.dataset.extraction,"
        " title: i.querySelector('a').textContent, href: i.querySelector('a').getAttribute('href')}))",
    )
    return results


def _progress(console: Console) -> dict[str, str]:
    progress: dict[str, str] = console.page.eval_on_selector("#transcript-progress-text", "p => ({...p.dataset})")
    return progress


def _stored(console: Console, conversation_id: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = console.api("GET", f"/api/chat/conversations/{conversation_id}?limit=200")[
        "messages"
    ]
    return messages


def _said(messages: list[dict[str, Any]]) -> list[tuple[str, str | None, str, datetime]]:
    return [(m["role"], m.get("name"), m["content"], datetime.fromisoformat(m["created_at"])) for m in messages]


@BOTH_WIDTHS
def test_a_plain_text_transcript_is_imported_with_its_progress_then_its_extraction(
    console: Console, tmp_path: Path
) -> None:
    page = console.page
    path = tmp_path / "with-caroline.txt"
    path.write_text(PLAIN_TEXT)
    _opened(console)
    _choose(console, path)
    assert page.get_attribute("#transcript-preview", "data-messages") == "5"
    assert page.text_content("#transcript-import") == "Import 5 messages"
    console.assert_fits()

    results = _import(console)
    assert _progress(console) == {"sent": "5", "total": "5", "done": "1", "conversations": "1"}
    assert page.text_content("#transcript-progress-text") == "5 of 5 messages sent · 1 of 1 conversation done"
    assert [r["extraction"] for r in results] == ["finished"]
    conversation_id = results[0]["id"]
    assert _said(_stored(console, conversation_id)) == [
        (role, name, content, datetime.fromisoformat(at)) for role, name, content, at in PLAIN_TEXT_MESSAGES
    ]
    assert page.text_content("#transcript-extraction") == (
        "Extraction finished for 1 conversation: the facts are in the list."
    )
    # The list was loaded again: the turns are in it, with who said them.
    page.wait_for_selector("#memory-rows tr[data-kind=turn] .said-by")
    turns = page.eval_on_selector_all(
        "#memory-rows tr[data-kind=turn]", "rows => rows.map(r => r.querySelector('a.memory-link').textContent)"
    )
    assert "Caroline: Ella is 5.\nShe loves drawing." in turns
    console.assert_fits()
    console.shot(f"transcript-imported-{console.width}")

    # The same file again: the same conversation, nothing added.
    memories = console.api("GET", "/api/memories?current_only=false&limit=1")["total"]
    _choose(console, path)
    again = _import(console)
    assert [r["id"] for r in again] == [conversation_id]
    assert len(_stored(console, conversation_id)) == 5
    assert console.api("GET", "/api/memories?current_only=false&limit=1")["total"] == memories

    # A file that gives no time ends at its modification time (in whole seconds), as `jyntrix import` dates it.
    undated = tmp_path / "undated.txt"
    undated.write_text("User: hello there, I am Ada\nAssistant: Hello Ada!\n")
    modified = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    os.utime(undated, (modified.timestamp() + 0.75, modified.timestamp() + 0.75))
    _choose(console, undated)
    (result,) = _import(console)
    times = [at for *_, at in _said(_stored(console, result["id"]))]
    assert times == [modified - timedelta(seconds=1), modified]


@BOTH_WIDTHS
def test_a_chatgpt_export_is_one_conversation_per_chat_as_the_command_reads_it(
    console: Console, tmp_path: Path
) -> None:
    page = console.page
    export = tmp_path / "conversations.json"
    chats = chatgpt_export()
    chats[1]["title"] = MARKUP_TITLE
    export.write_text(json.dumps(chats))
    archive = tmp_path / "chatgpt-export.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("chat.html", "<html></html>")
        zipped.write(export, "export/conversations.json")
    _opened(console)

    _choose(console, archive)
    assert page.get_attribute("#transcript-preview", "data-conversations") == "2"  # the silent chat is skipped
    assert page.get_attribute("#transcript-preview", "data-messages") == "5"
    results = _import(console)
    assert [(r["title"], r["extraction"]) for r in results] == [
        ("Dutch lessons", "finished"),
        (MARKUP_TITLE, "finished"),
    ]
    assert page.evaluate("window.__pwned === undefined") and page.locator("main img").count() == 0
    assert _progress(console) == {"sent": "5", "total": "5", "done": "2", "conversations": "2"}
    dutch, cat = (_stored(console, r["id"]) for r in results)
    # Along the branch the user last saw, with the export's own times to the microsecond.
    assert [(m["content"], datetime.fromisoformat(m["created_at"]).timestamp()) for m in dutch] == [
        ("I am learning Dutch on Duolingo.", 1717000001.123456),
        ("Goed zo! Keep practising.", 1717000002.654321),
        ("I switched from Duolingo to Babbel.", 1717000004.25),
    ]
    # Without current_node, down the last children; a message without a time takes the one before it.
    assert sorted((m["role"], m["content"], datetime.fromisoformat(m["created_at"]).timestamp()) for m in cat) == [
        ("assistant", "Miso is a lovely name for a cat.", 1718000001),
        ("user", "We adopted a cat called Miso.", 1718000001),
    ]
    page.click(f"#transcript-results li[data-conversation-id='{results[1]['id']}'] a")
    page.wait_for_selector("[data-view=conversation]")
    assert page.locator("#messages li.message").count() == 2
    console.assert_fits()
    page.go_back()
    page.wait_for_selector("[data-view=memories]")
    page.click("details.transcript-import summary")

    # The export's conversations.json, then the command's reading of it: the same conversations, nothing added.
    _choose(console, export)
    assert [r["id"] for r in _import(console)] == [r["id"] for r in results]
    for transcript, result in zip(read_transcripts(export), results, strict=True):
        answered = console.api("POST", "/api/chat/conversations/import", json=transcript.body())
        assert answered["conversation_id"] == result["id"]
    assert [len(_stored(console, r["id"])) for r in results] == [3, 2]
    assert len(console.api("GET", "/api/chat/conversations")["items"]) == 2


@BOTH_WIDTHS
def test_a_bad_file_is_refused_whole_and_a_refused_call_shows_its_problem(console: Console, tmp_path: Path) -> None:
    page = console.page
    _opened(console)

    broken = chatgpt_export()
    broken[1]["mapping"]["c-1"]["message"]["create_time"] = "yesterday"
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(broken))
    _choose(console, path)
    assert page.text_content("#transcript-problem") == (
        "conversation 2 (Cat): message c-1: create_time: must be a Unix time in seconds, got 'yesterday'"
    )
    assert page.is_disabled("#transcript-import")

    too_long = tmp_path / "too-long.json"
    content = "x" * (MAX_TRANSCRIPT_CONTENT_CHARS + 1)
    too_long.write_text(
        json.dumps({"messages": [{"role": "user", "content": content, "created_at": "2024-01-01T00:00:00Z"}]})
    )
    _choose(console, too_long)
    assert page.text_content("#transcript-problem") == (
        f"too-long.json: message 1 is longer than {MAX_TRANSCRIPT_CONTENT_CHARS:,} characters"
    )
    assert page.is_disabled("#transcript-import")

    nul = tmp_path / "nul.txt"
    nul.write_text("User: tea\u0000 please\n")
    _choose(console, nul)
    assert page.text_content("#transcript-problem") == "nul.txt: message 1 holds a NUL character (\\u0000)"

    no_timezone = tmp_path / "no-timezone.txt"
    no_timezone.write_text("[2024-01-01T10:00:00] User: hi\n")
    _choose(console, no_timezone)
    assert page.text_content("#transcript-problem") == (
        "no-timezone.txt: line 1: '2024-01-01T10:00:00' has no timezone (add Z or +00:00)"
    )
    console.assert_fits()
    assert console.api("GET", "/api/chat/conversations")["items"] == []

    # A file the page accepts but the server refuses: the problem document's detail is what the user reads.
    body = {
        "conversation_id": "no-such-conversation",
        "messages": [
            {"role": "user", "content": "I like tea.", "created_at": "2024-01-01T10:00:00Z"},
            {"role": "assistant", "content": "Noted.", "created_at": "2024-01-01T10:00:01Z"},
        ],
    }
    refused = httpx.post(
        f"{console.server.base_url}/api/chat/conversations/import", json=body, headers=console.headers()
    )
    assert refused.status_code == 404
    detail = refused.json()["detail"]
    appending = tmp_path / "appending.json"
    appending.write_text(json.dumps(body))
    _choose(console, appending)
    page.click("#transcript-import")
    page.wait_for_selector("#transcript-progress-text[data-failed=yes]")
    assert page.text_content("#transcript-progress-text") == f"Stopped after 0 of 2 messages: 404: {detail}"
    assert page.text_content("#flash") == f"404: {detail}"
    assert page.locator("#transcript-results li").count() == 0
    console.shot(f"transcript-refused-{console.width}")
    assert console.api("GET", "/api/chat/conversations")["items"] == []


@pytest.mark.parametrize("console", ["phone"], indirect=True)
def test_a_transcript_longer_than_one_call_goes_in_calls_of_the_routes_limit(console: Console, tmp_path: Path) -> None:
    page = console.page
    total = MAX_TRANSCRIPT_MESSAGES + 100
    lines = [f"{'User' if n % 2 == 0 else 'Assistant'}: message {n} about topic {n % 37}" for n in range(total)]
    path = tmp_path / "long.txt"
    path.write_text("\n".join(lines) + "\n")
    calls: list[Any] = []
    page.on("request", lambda r: calls.append(r) if r.url.endswith("/api/chat/conversations/import") else None)
    _opened(console)
    _choose(console, path)
    results = _import(console)

    bodies = [call.post_data_json for call in calls]
    answers = [call.response().json() for call in calls]
    assert [len(b["messages"]) for b in bodies] == [MAX_TRANSCRIPT_MESSAGES, 100]
    assert "conversation_id" not in bodies[0]
    assert bodies[1]["conversation_id"] == answers[0]["conversation_id"] == answers[1]["conversation_id"]
    assert [r["id"] for r in results] == [answers[0]["conversation_id"]]
    assert _progress(console) == {"sent": str(total), "total": str(total), "done": "1", "conversations": "1"}
    assert [m["content"] for m in _stored(console, results[0]["id"])] == [line.split(": ", 1)[1] for line in lines][
        -200:
    ]
