"""BEAM's chat layout read into sessions of turns and questions with their evidence.

A BEAM chat is a folder (`1`, `2`, ...) with `chat.json` and `probing_questions.json`, either unpacked or
inside the track's tarball (`beam-500K.tar.gz`), read as it is, never extracted into the project:

- `chat.json` is a list of batches `{batch_number, time_anchor, turns}`; a batch is one session. `turns` is
  a list of exchanges, each a list of messages `{role, id, content, ...}` with `id` unique in the chat. The
  session's date is the batch's `time_anchor`, or else the first one its messages carry ("March-15-2024");
  a session without one keeps the date of the session before it.
- `probing_questions.json` maps a category to its questions; a question's evidence is `source_chat_ids`,
  message ids in a list, a dict of lists, or lists of lists: every id at any depth counts. Questions
  without evidence (abstention) are left out.

Two things in the data are not the conversation and are changed on reading: the generator's plan label
at the end of many user messages (" ->-> 1,3") is cut off, and the few messages longer than the transcript
route accepts are cut to its limit (`Chat.truncated` counts them).
"""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jyntrix_domain.transcripts import MAX_TRANSCRIPT_CONTENT_CHARS

# From the first "->->" to the end of its line at the end of the text: "... a plan ->-> 8,N/A".
_PLAN_LABEL = re.compile(r"\s*->->[^\n]*\Z")


@dataclass(frozen=True)
class Turn:
    id: str  # the message id as BEAM gives it, as a string
    role: str  # "user" | "assistant"
    content: str
    session: str  # the batch number, as a string


@dataclass(frozen=True)
class Session:
    number: str
    at: datetime
    turns: tuple[Turn, ...]


@dataclass(frozen=True)
class Question:
    category: str
    text: str
    evidence: frozenset[str]  # message ids
    rank: int  # its position within its category (0, 1, ...), for taking a few of every category


@dataclass(frozen=True)
class Chat:
    name: str
    sessions: tuple[Session, ...]
    questions: tuple[Question, ...]
    truncated: int  # messages cut to the transcript route's limit

    def turns(self) -> list[Turn]:
        return [t for s in self.sessions for t in s.turns]


def anchor_date(text: str) -> datetime:
    return datetime.strptime(text, "%B-%d-%Y").replace(tzinfo=UTC)


def message_text(content: str) -> tuple[str, bool]:
    """The message as said (without the plan label), cut to the route's limit; and whether it was cut."""
    text = _PLAN_LABEL.sub("", content)
    return text[:MAX_TRANSCRIPT_CONTENT_CHARS], len(text) > MAX_TRANSCRIPT_CONTENT_CHARS


def evidence_ids(value: Any) -> set[str]:
    """Every message id in a `source_chat_ids` value, at any depth of lists and dicts."""
    if isinstance(value, dict):
        return {i for v in value.values() for i in evidence_ids(v)}
    if isinstance(value, list):
        return {i for v in value for i in evidence_ids(v)}
    return set() if value is None else {str(value)}


def sessions(batches: list[dict[str, Any]]) -> tuple[tuple[Session, ...], int]:
    """The chat's sessions, one per batch, and how many messages were cut to the route's limit."""
    out = []
    at: datetime | None = None
    truncated = 0
    for batch in batches:
        messages = [m for exchange in batch["turns"] for m in exchange]
        anchor = batch.get("time_anchor") or next((m["time_anchor"] for m in messages if m.get("time_anchor")), None)
        if anchor is not None:
            at = anchor_date(anchor)
        if at is None:
            raise ValueError(f"batch {batch['batch_number']} has no date and follows none that has")
        turns = []
        for m in messages:
            text, cut = message_text(m["content"])
            truncated += cut
            if text.strip():
                turns.append(Turn(id=str(m["id"]), role=m["role"], content=text, session=str(batch["batch_number"])))
        out.append(Session(number=str(batch["batch_number"]), at=at, turns=tuple(turns)))
    return tuple(out), truncated


def questions(probing: dict[str, list[dict[str, Any]]]) -> tuple[Question, ...]:
    """The questions that have evidence, in category order."""
    return tuple(
        Question(category=category, text=q["question"], evidence=frozenset(found), rank=n)
        for category, asked in probing.items()
        for n, q in enumerate(asked)
        if (found := evidence_ids(q.get("source_chat_ids")))
    )


def chat(name: str, batches: list[dict[str, Any]], probing: dict[str, list[dict[str, Any]]]) -> Chat:
    read, truncated = sessions(batches)
    return Chat(name=name, sessions=read, questions=questions(probing), truncated=truncated)


def _folders(root: Path) -> Iterator[tuple[str, bytes, bytes]]:
    """(name, chat.json, probing_questions.json) of every chat under `root` (folders, or else a tarball)."""
    found = [p.parent for p in root.glob("*/chat.json")]
    if found:
        for folder in found:
            yield folder.name, (folder / "chat.json").read_bytes(), (folder / "probing_questions.json").read_bytes()
        return
    for archive in sorted(root.glob("*.tar.gz")):
        files: dict[str, dict[str, bytes]] = {}
        with tarfile.open(archive) as tar:
            for member in tar:
                parts = Path(member.name).parts
                if member.isfile() and parts[-1] in ("chat.json", "probing_questions.json") and len(parts) >= 2:
                    extracted = tar.extractfile(member)
                    assert extracted is not None  # a regular file always has its bytes
                    files.setdefault(parts[-2], {})[parts[-1]] = extracted.read()
        for name, pair in files.items():
            yield name, pair["chat.json"], pair["probing_questions.json"]


def load_chats(root: Path, limit: int | None = None, names: set[str] | None = None) -> list[Chat]:
    """The chats under `root` (those in `names`, if given) in the order of their numbers, the first `limit`."""
    found = [f for f in _folders(root) if names is None or f[0] in names]
    found.sort(key=lambda f: (not f[0].isdigit(), int(f[0]) if f[0].isdigit() else 0, f[0]))
    return [chat(name, json.loads(c), json.loads(q)) for name, c, q in found[:limit]]
