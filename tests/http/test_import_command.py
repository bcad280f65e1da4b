"""`jyntrix import`: a transcript file into the embedded data directory, or refused whole with where it is wrong."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from jyntrix_bootstrap.resources import Storage
from jyntrix_cli.cli import build_parser
from jyntrix_cli.import_command import Destination, ImportFailed, Sent, Summary, import_all, import_transcripts
from jyntrix_client.transcript_files import Transcript, read_transcripts
from jyntrix_domain.errors import Unavailable
from jyntrix_domain.model import MemoryFilter, MemoryKind, Role, TranscriptMessage
from testsupport.app import in_process_overrides, make_settings
from testsupport.server import free_port

USER = "importing-user"


def write_jsonl(path: Path, conversations: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(c) for c in conversations) + "\n")
    return path


def conversation(title: str, n: int) -> dict[str, Any]:
    return {
        "title": title,
        "messages": [
            {
                "role": "user" if i % 2 == 0 else "assistant",
                "name": "Caroline" if i % 2 == 0 else None,
                "content": f"I went hiking on trail number {i} in {title}." if i % 2 == 0 else "Nice!",
                "created_at": f"2023-05-{8 + i // 1000:02d}T13:{(i // 60) % 60:02d}:{i % 60:02d}Z",
            }
            for i in range(n)
        ],
    }


def args(file: Path, *extra: str) -> argparse.Namespace:
    return build_parser().parse_args(["import", str(file), "--user", USER, "--url", "", *extra])


class Importer:
    """`jyntrix import` against an in-process data directory: no server answers on port 1, so the directory is used."""

    def __init__(self, tmp_path: Path) -> None:
        self.overrides = in_process_overrides()
        self.storage: Storage = self.overrides["storage"]
        self.settings = make_settings(tmp_path, port=1)

    async def run(self, file: Path, *extra: str) -> int:
        # The command runs its own event loop (asyncio.run): give it a thread, as the console would.
        return await asyncio.to_thread(import_transcripts, args(file, *extra), self.settings, self.overrides)


@pytest.fixture
def importer(tmp_path: Path) -> Importer:
    return Importer(tmp_path)


async def test_a_file_goes_into_the_data_directory_in_calls_of_a_thousand(
    tmp_path: Path, importer: Importer, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = importer.storage
    file = write_jsonl(tmp_path / "history.jsonl", [conversation("Madeira", 1205), conversation("Alps", 3)])

    assert await importer.run(file) == 0
    out = capsys.readouterr().out
    assert "Imported 1208 messages in 2 conversations" in out
    # What both sides said, every message of it; the assistant's "Nice!", said 603 times, is one memory.
    assert "1208 turn memories" in out
    conversations = await storage.conversations.list(USER)
    assert sorted(c.title or "" for c in conversations) == ["Alps", "Madeira"]
    madeira = next(c for c in conversations if c.title == "Madeira")
    assert len(await storage.conversations.messages(USER, madeira.id, limit=2000)) == 1205
    turns = await storage.memories.list(USER, MemoryFilter(kinds=frozenset({MemoryKind.TURN}), limit=2000))
    said = [t for t in turns if t.role is Role.USER]
    assert len(turns) == 606 and len(said) == 605 and all(t.content.startswith("Caroline: ") for t in said)
    assert await storage.ledger.pending_count(USER, madeira.id) == 0  # extracted before the command ended

    # Importing the file again adds nothing.
    assert await importer.run(file) == 0
    assert len(await storage.conversations.list(USER)) == 2
    again = await storage.memories.list(USER, MemoryFilter(kinds=frozenset({MemoryKind.TURN}), limit=2000))
    assert len(again) == 606


async def test_a_malformed_file_names_its_line_and_imports_nothing(
    tmp_path: Path, importer: Importer, capsys: pytest.CaptureFixture[str]
) -> None:
    storage = importer.storage
    file = write_jsonl(tmp_path / "history.jsonl", [conversation("Fine", 2), conversation("Broken", 2)])
    file.write_text(file.read_text().replace('"role": "assistant"', '"role": "robot"', 1))

    assert await importer.run(file) == 2
    err = capsys.readouterr().err
    assert "line 1" in err and "nothing was imported" in err
    assert await storage.conversations.list(USER) == []


async def test_a_plain_text_transcript_goes_in_with_its_speakers_once(
    tmp_path: Path, importer: Importer, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "chat.txt"
    file.write_text(
        "[2023-05-08T13:56:00Z] Caroline: I adopted a greyhound called Pip.\n"
        "Assistant: Lovely! How is he settling in?\n"
        "Caroline: He sleeps all day.\nAnd steals socks.\n"
    )
    turn_filter = MemoryFilter(kinds=frozenset({MemoryKind.TURN}))
    assert await importer.run(file) == 0
    assert "Imported 3 messages in 1 conversations" in capsys.readouterr().out
    (imported,) = await importer.storage.conversations.list(USER)
    messages = await importer.storage.conversations.messages(USER, imported.id)
    assert [(m.role, m.name, m.content, m.created_at.second) for m in messages] == [
        ("user", "Caroline", "I adopted a greyhound called Pip.", 0),
        ("assistant", None, "Lovely! How is he settling in?", 1),
        ("user", "Caroline", "He sleeps all day.\nAnd steals socks.", 2),
    ]
    turns = sorted(t.content for t in await importer.storage.memories.list(USER, turn_filter))
    assert {"Caroline: I adopted a greyhound called Pip.", "Caroline: He sleeps all day.\nAnd steals socks."} <= set(
        turns
    )

    assert await importer.run(file) == 0  # the same file again adds nothing
    assert len(await importer.storage.conversations.list(USER)) == 1
    assert len(await importer.storage.conversations.messages(USER, imported.id)) == 3
    assert sorted(t.content for t in await importer.storage.memories.list(USER, turn_filter)) == turns


async def test_a_server_that_stops_answering_midway_is_named_with_how_far_it_got(tmp_path: Path) -> None:
    transcripts = [
        read_transcripts(write_jsonl(tmp_path / f"{n}.jsonl", [conversation(title, 3)]))[0]
        for n, title in enumerate(("First", "Second"))
    ]
    calls: list[str | None] = []

    async def send(transcript: Transcript, part: Sequence[TranscriptMessage], conversation_id: str | None) -> Sent:
        calls.append(transcript.title)
        if len(calls) == 2:
            raise Unavailable("the server is restarting")
        return Sent("c-1", len(part), 2)

    async def check(conversation_id: str) -> None:
        raise AssertionError("no conversation_id in these files")

    with pytest.raises(ImportFailed) as stopped:
        await import_all(transcripts, Destination(send, check), Summary())
    lines = str(stopped.value).splitlines()
    assert calls == ["First", "Second"]
    assert lines == [
        "the import stopped after 3 of 6 messages: the server is restarting",
        "Importing the file again adds what is missing (what went in is not added twice).",
    ]


async def test_a_url_where_nothing_answers_is_one_line_naming_what_to_set(
    tmp_path: Path, importer: Importer, capsys: pytest.CaptureFixture[str]
) -> None:
    file = write_jsonl(tmp_path / "history.jsonl", [conversation("Alps", 2)])
    dead = f"http://127.0.0.1:{free_port()}"

    assert await importer.run(file, "--url", dead) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and len(err) <= 240, err
    assert f"no server answers at {dead}" in err and "JYNTRIX_URL" in err
    assert await importer.storage.conversations.list(USER) == []
