"""`jyntrix import`: a transcript file into the embedded data directory, or refused whole with where it is wrong."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from jyntrix_bootstrap.resources import Storage
from jyntrix_domain.model import MemoryFilter, MemoryKind, Role
from jyntrix_http.cli import build_parser
from jyntrix_http.import_command import import_transcripts
from tests.http.conftest import in_process_overrides, make_settings

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

    async def run(self, file: Path) -> int:
        # The command runs its own event loop (asyncio.run): give it a thread, as the console would.
        return await asyncio.to_thread(import_transcripts, args(file), self.settings, self.overrides)


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
