"""The console reads a transcript file in the page exactly as `jyntrix import` reads it: a ChatGPT export, plain
text and JSON transcripts, so that a file through either door is stored once."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from jyntrix_client.transcript_files import read_plain_text, read_transcripts
from tests.console.chatgpt_exports import chatgpt_export
from tests.console.conftest import Console

pytestmark = pytest.mark.slow


def _read_in_page(console: Console, text: str, name: str, modified_ms: int = 0) -> dict[str, Any]:
    """The page's own reading of a file (js/transcripts.js), without sending it anywhere."""
    read: dict[str, Any] = console.page.evaluate(
        """async ([text, name, modified]) => {
            const reader = await import('/console/js/transcripts.js');
            try { return {transcripts: reader.readTranscripts(text, name, new Date(modified))}; }
            catch (error) { return {problem: error.message}; }
        }""",
        [text, name, modified_ms],
    )
    return read


def _as_said(messages: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Messages as the route reads them: a time is an instant in its own offset."""
    said = []
    for m in messages:
        at = m["created_at"]
        at = datetime.fromisoformat(at.replace("Z", "+00:00")) if isinstance(at, str) else at
        said.append((m["role"], m.get("name"), m["content"], m.get("id"), at, at.utcoffset()))
    return said


def test_the_page_reads_a_chatgpt_export_exactly_as_the_command_does(console: Console, tmp_path: Path) -> None:
    console.page.goto(console.url)
    console.page.wait_for_selector("[data-view=signin]")
    export = chatgpt_export()
    # Times whose microseconds round half to even, a hidden message, a multimodal one, an author's name.
    mapping = export[0]["mapping"]
    mapping["d-1"]["message"]["create_time"] = 1717000001.0000005
    mapping["d-2"]["message"]["create_time"] = 1717000002.9999996
    mapping["d-3"]["message"]["content"] = {"content_type": "multimodal_text", "parts": [{"asset": 1}, "Babbel now."]}
    mapping["d-3"]["message"]["author"]["name"] = "Nina"
    mapping["d-2"]["message"]["metadata"] = {"is_visually_hidden_from_conversation": True}
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(export))

    read = _read_in_page(console, path.read_text(), path.name)
    expected = read_transcripts(path)
    assert [t["title"] for t in read["transcripts"]] == [t.title for t in expected]
    for shown, command in zip(read["transcripts"], expected, strict=True):
        assert _as_said(shown["messages"]) == _as_said([msgspec.structs.asdict(m) for m in command.messages])
    assert [m["content"] for m in read["transcripts"][0]["messages"]] == [
        "I am learning Dutch on Duolingo.",
        "Babbel now.",
    ]

    for broken, problem in [
        ({"mapping": {}}, "conversation 1 (untitled): the message tree has no root"),
        (
            {
                "title": "T",
                "mapping": {
                    "a": {
                        "parent": None,
                        "message": {
                            "author": {"role": "user"},
                            "id": "a",
                            "content": {"content_type": "text", "parts": ["hi"]},
                        },
                    }
                },
            },
            "conversation 1 (T): message a: has no create_time, and neither has its conversation",
        ),
        (
            {"title": "T", "current_node": "a", "mapping": {"a": {"parent": "b"}, "b": {"parent": "a"}}},
            "conversation 1 (T): the message tree has a cycle at a",
        ),
    ]:
        path.write_text(json.dumps([broken]))
        assert _read_in_page(console, path.read_text(), path.name) == {"problem": problem}
        with pytest.raises(ValueError, match="^" + re.escape(problem) + "$"):
            read_transcripts(path)


def test_the_page_reads_plain_text_and_json_transcripts(console: Console) -> None:
    console.page.goto(console.url)
    console.page.wait_for_selector("[data-view=signin]")
    plain = (
        "Ada Lovelace: hi\nat 10:30 we met\nWe met on Sunday: it was fun\n\n"
        "2023-05-08 13:56:00+02:00 User: ok\n[2023-05-08T13:56:30,5Z] assistant: fine\nBob: \n  and you?\n"
    )
    (transcript,) = _read_in_page(console, plain, "chat.txt")["transcripts"]
    assert [(m["role"], m.get("name"), m["content"], m["created_at"]) for m in transcript["messages"]] == [
        ("user", "Ada Lovelace", "hi\nat 10:30 we met\nWe met on Sunday: it was fun", "2023-05-08T13:55:59+02:00"),
        ("user", None, "ok", "2023-05-08T13:56:00+02:00"),
        ("assistant", None, "fine", "2023-05-08T13:56:30.500000+00:00"),
        ("user", "Bob", "and you?", "2023-05-08T13:56:31.500000+00:00"),
    ]
    assert _read_in_page(console, "We met on Sunday: it was fun\n", "a.txt") == {
        "problem": "a.txt: line 1: a plain-text transcript starts with a speaker, as in 'User: …', "
        "'Assistant: …' or 'Caroline: …'"
    }
    assert _read_in_page(console, "User: hi\nAssistant:\n", "b.txt") == {
        "problem": "b.txt: line 2: Assistant says nothing"
    }

    # The same texts as the command reads them: the same messages, or the same problem.
    modified = datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    for text in [
        plain,
        "Ünal: merhaba\r\nUSER: hi\r\n\r\n2024-02-29T23:59:59.1234567-05:30 Assistant:\r\n  hello\r\n",
        "Dr. O'Neil-Smith Jr: hi\nuser_2: yo\n[bad time] User: x\n",
        "[2024-13-01T00:00:00Z] User: x\n",
        "\n\n  \n",
        "User: a\nMary Ann Lee Jones: four words is text\nA very long speaker name over forty characters: x\n",
    ]:
        shown = _read_in_page(console, text, "t.txt", int(modified.timestamp() * 1000))
        try:
            (command,) = [read_plain_text(text, "t.txt", modified)]
        except ValueError as problem:
            assert shown == {"problem": str(problem)}, text
            continue
        assert "problem" not in shown, (text, shown)
        (transcript,) = shown["transcripts"]
        assert _as_said(transcript["messages"]) == _as_said([msgspec.structs.asdict(m) for m in command.messages])

    lines = "\n".join(
        json.dumps(
            {"title": f"t{n}", "messages": [{"role": "user", "content": "hi", "created_at": "2024-01-01T00:00:00Z"}]}
        )
        for n in range(2)
    )
    assert [t["title"] for t in _read_in_page(console, lines, "c.jsonl")["transcripts"]] == ["t0", "t1"]
    own = {"messages": [{"role": "robot", "content": "hi", "created_at": "2024-01-01T00:00:00Z"}]}
    assert _read_in_page(console, json.dumps(own), "d.json") == {
        "problem": "d.json: messages[0].role: must be 'user' or 'assistant', got 'robot'"
    }
    assert _read_in_page(console, json.dumps([{"messages": []}]), "e.json")["problem"].startswith(
        "e.json: a JSON list must be a ChatGPT export"
    )
