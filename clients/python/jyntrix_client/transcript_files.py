"""Reading transcript files for import: the project's own JSON shape, JSON Lines of it, or a ChatGPT export.

`read_transcripts(path)` reads the whole file before anything is sent, so a malformed file
is refused whole, with a message naming its line (JSON Lines) or its conversation (ChatGPT),
and nothing is half-imported. Every message gets a stable client id (its own, the export's,
or one derived from where it stands and what it says), so importing the same file again adds
nothing.

Accepted shapes:
- `{"title"?, "conversation_id"?, "messages": [{"role", "content", "created_at", "name"?, "id"?, "metadata"?}]}`;
- JSON Lines, one such object a line;
- a ChatGPT data export: `conversations.json` (a list of conversations with a `mapping` message tree),
  or the export's `.zip`. Each conversation is followed along its current branch (from `current_node`
  up to the root), keeping the user's and the assistant's text messages with their own times.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from jyntrix_client.types import TranscriptMessageIn

ROLES = ("user", "assistant")
CHATGPT_FILE = "conversations.json"


class TranscriptFileError(ValueError):
    """A file that cannot be imported; the message says where (line, conversation, message)."""


class Transcript(msgspec.Struct, frozen=True, kw_only=True):
    """One conversation's history, as the import route takes it."""

    messages: tuple[TranscriptMessageIn, ...]
    title: str | None = None
    conversation_id: str | None = None
    source: str = ""

    def body(
        self, messages: Sequence[TranscriptMessageIn] | None = None, conversation_id: str | None = None
    ) -> dict[str, Any]:
        """The import route's JSON body, for all of the messages or for one slice of them."""
        body: dict[str, Any] = {"messages": msgspec.to_builtins(list(self.messages if messages is None else messages))}
        if self.title is not None:
            body["title"] = self.title
        if conversation_id or self.conversation_id:
            body["conversation_id"] = conversation_id or self.conversation_id
        return body


def read_transcripts(path: Path) -> list[Transcript]:
    """Every transcript in the file, validated; raises TranscriptFileError naming the culprit."""
    if not path.is_file():
        raise TranscriptFileError(f"{path}: no such file")
    if zipfile.is_zipfile(path):
        return _chatgpt(_load_json(_zip_member(path), f"{path.name}:{CHATGPT_FILE}"), path.name)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise TranscriptFileError(f"{path.name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    if not text.strip():
        raise TranscriptFileError(f"{path.name}: the file is empty")
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        return [_own(_load_json(line, f"line {n}"), f"line {n}") for n, line in _lines(text)]
    if isinstance(whole, list):
        if any(isinstance(c, Mapping) and "mapping" in c for c in whole):
            return _chatgpt(whole, path.name)
        raise TranscriptFileError(
            f"{path.name}: a JSON list must be a ChatGPT export (conversations with a 'mapping'); "
            "for several transcripts of the project's own shape, use JSON Lines"
        )
    return [_own(whole, path.name)]


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield n, line


def _load_json(text: str | bytes, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptFileError(f"{where}: not JSON ({exc.msg} at column {exc.colno})") from None


def _zip_member(path: Path) -> bytes:
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == CHATGPT_FILE]
        if not names:
            raise TranscriptFileError(f"{path.name}: the archive has no {CHATGPT_FILE} (is it a ChatGPT data export?)")
        return archive.read(min(names, key=len))


# ------------------------------------------------------------------ the project's own shape


def _own(raw: Any, where: str) -> Transcript:
    if not isinstance(raw, Mapping):
        raise TranscriptFileError(f"{where}: expected an object with 'messages', got {type(raw).__name__}")
    unknown = set(raw) - {"title", "conversation_id", "messages"}
    if unknown:
        raise TranscriptFileError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    title = _optional_text(raw.get("title"), f"{where}: title")
    conversation_id = _optional_text(raw.get("conversation_id"), f"{where}: conversation_id")
    items = raw.get("messages")
    if not isinstance(items, list) or not items:
        raise TranscriptFileError(f"{where}: 'messages' must be a non-empty list")
    seed = conversation_id or title or where
    messages = tuple(_own_message(item, f"{where}: messages[{i}]", seed, i) for i, item in enumerate(items))
    _unique_ids(messages, where)
    return Transcript(messages=messages, title=title, conversation_id=conversation_id, source=where)


def _own_message(raw: Any, where: str, seed: str, index: int) -> TranscriptMessageIn:
    if not isinstance(raw, Mapping):
        raise TranscriptFileError(f"{where}: expected an object, got {type(raw).__name__}")
    unknown = set(raw) - {"role", "content", "created_at", "name", "id", "metadata"}
    if unknown:
        raise TranscriptFileError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    role = raw.get("role")
    if role not in ROLES:
        raise TranscriptFileError(f"{where}.role: must be 'user' or 'assistant', got {role!r}")
    content = raw.get("content")
    if not isinstance(content, str) or not content.strip():
        raise TranscriptFileError(f"{where}.content: must be non-empty text")
    created_at = _time(raw.get("created_at"), f"{where}.created_at")
    name = _optional_text(raw.get("name"), f"{where}.name")
    metadata = raw.get("metadata", {})
    if not isinstance(metadata, Mapping):
        raise TranscriptFileError(f"{where}.metadata: must be an object")
    message_id = _optional_text(raw.get("id"), f"{where}.id") or _derived_id(seed, index, role, content, created_at)
    return TranscriptMessageIn(
        role=role, content=content, created_at=created_at, id=message_id, name=name, metadata=dict(metadata)
    )


def _time(raw: Any, where: str) -> datetime:
    if not isinstance(raw, str):
        raise TranscriptFileError(f"{where}: must be an ISO 8601 time with a timezone, e.g. 2023-05-08T13:56:00Z")
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise TranscriptFileError(f"{where}: {raw!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise TranscriptFileError(f"{where}: {raw!r} has no timezone (add Z or +00:00)")
    return at.astimezone(UTC)


def _optional_text(raw: Any, where: str) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise TranscriptFileError(f"{where}: must be non-empty text when given")
    return raw


def _derived_id(seed: str, index: int, role: str, content: str, created_at: datetime) -> str:
    digest = hashlib.sha256("\x1f".join((seed, str(index), role, content, created_at.isoformat())).encode())
    return "import-" + digest.hexdigest()[:32]


def _unique_ids(messages: Sequence[TranscriptMessageIn], where: str) -> None:
    seen: set[str | None] = set()  # every message read from a file has an id (given, or derived)
    for i, message in enumerate(messages):
        if message.id in seen:
            raise TranscriptFileError(f"{where}: messages[{i}].id {message.id!r} appears twice")
        seen.add(message.id)


# ------------------------------------------------------------------ ChatGPT data export


def _chatgpt(conversations: Any, file_name: str) -> list[Transcript]:
    if not isinstance(conversations, list):
        raise TranscriptFileError(f"{file_name}: {CHATGPT_FILE} must hold a list of conversations")
    found = []
    for i, raw in enumerate(conversations):
        where = f"conversation {i + 1}"
        if isinstance(raw, Mapping):
            where += f" ({raw.get('title') or raw.get('id') or 'untitled'!s})"
        transcript = _chatgpt_conversation(raw, where)
        if transcript is not None:
            found.append(transcript)
    return found


def _chatgpt_conversation(raw: Any, where: str) -> Transcript | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("mapping"), Mapping):
        raise TranscriptFileError(f"{where}: has no 'mapping' message tree")
    mapping: Mapping[str, Any] = raw["mapping"]
    fallback = _epoch(raw.get("create_time"), f"{where}: create_time")
    messages: list[TranscriptMessageIn] = []
    for node in _current_branch(mapping, raw.get("current_node"), where):
        message = node.get("message") if isinstance(node, Mapping) else None
        parsed = _chatgpt_message(message, f"{where}: message {node.get('id')!s}", fallback)
        if parsed is not None:
            messages.append(parsed)
            fallback = parsed.created_at
    if not messages:
        return None  # nothing but system prompts or tool calls: nothing to remember
    _unique_ids(messages, where)
    title = raw.get("title") if isinstance(raw.get("title"), str) and raw.get("title", "").strip() else None
    return Transcript(messages=tuple(messages), title=title, source=where)


def _current_branch(mapping: Mapping[str, Any], current: Any, where: str) -> list[Mapping[str, Any]]:
    """The nodes from the root to `current_node` (the branch the user last saw), oldest first."""
    if not isinstance(current, str) or current not in mapping:
        # Older exports may lack current_node: follow the last child from the root instead.
        roots = [key for key, node in mapping.items() if isinstance(node, Mapping) and not node.get("parent")]
        if not roots:
            raise TranscriptFileError(f"{where}: the message tree has no root")
        current = roots[0]
        while True:
            children = mapping[current].get("children") or []
            children = [c for c in children if c in mapping]
            if not children:
                break
            current = children[-1]
    branch: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    node_id: Any = current
    while isinstance(node_id, str) and node_id in mapping:
        if node_id in seen:
            raise TranscriptFileError(f"{where}: the message tree has a cycle at {node_id}")
        seen.add(node_id)
        node = mapping[node_id]
        if not isinstance(node, Mapping):
            raise TranscriptFileError(f"{where}: node {node_id} is not an object")
        branch.append({"id": node_id, **node})
        node_id = node.get("parent")
    branch.reverse()
    return branch


def _chatgpt_message(message: Any, where: str, fallback: datetime | None) -> TranscriptMessageIn | None:
    if not isinstance(message, Mapping):
        return None
    author = _mapping(message.get("author"))
    role = author.get("role")
    metadata = _mapping(message.get("metadata"))
    if role not in ROLES or metadata.get("is_visually_hidden_from_conversation"):
        return None
    text = _chatgpt_text(message.get("content"))
    if not text:
        return None
    created_at = _epoch(message.get("create_time"), f"{where}: create_time") or fallback
    if created_at is None:
        raise TranscriptFileError(f"{where}: has no create_time, and neither has its conversation")
    message_id = message.get("id")
    if not isinstance(message_id, str) or not message_id:
        raise TranscriptFileError(f"{where}: has no id")
    name = author.get("name") if isinstance(author.get("name"), str) and author["name"] else None
    return TranscriptMessageIn(role=role, content=text, created_at=created_at, id=message_id, name=name)


def _mapping(raw: Any) -> Mapping[str, Any]:
    return raw if isinstance(raw, Mapping) else {}


def _chatgpt_text(content: Any) -> str:
    """The text of a message: string parts of text and multimodal_text content; other kinds carry none."""
    if not isinstance(content, Mapping) or content.get("content_type") not in ("text", "multimodal_text"):
        return ""
    parts = content.get("parts") or []
    texts = [p for p in parts if isinstance(p, str) and p.strip()]
    return "\n".join(texts).strip()


def _epoch(raw: Any, where: str) -> datetime | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise TranscriptFileError(f"{where}: must be a Unix time in seconds, got {raw!r}")
    try:
        return datetime.fromtimestamp(float(raw), tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise TranscriptFileError(f"{where}: {raw!r} is out of range") from None


def chunks(transcript: Transcript, size: int) -> list[tuple[TranscriptMessageIn, ...]]:
    """The transcript's messages in calls of at most `size` (the import route takes 1,000 at most)."""
    return [transcript.messages[i : i + size] for i in range(0, len(transcript.messages), size)]
