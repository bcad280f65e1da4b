"""A ChatGPT data export's `conversations.json`: each conversation along its current branch.

Each conversation is followed from `current_node` up to the root (or, without one, down the last
children from the root), keeping the user's and the assistant's text messages with their own times
and the export's message ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from jyntrix_client.transcript import ROLES, Transcript, TranscriptFileError, check_text, shown, unique_ids
from jyntrix_client.types import TranscriptMessageIn

CHATGPT_FILE = "conversations.json"


def read_chatgpt_export(conversations: Any, file_name: str) -> list[Transcript]:
    """The conversations that say something (system prompts and tool calls alone are skipped), checked whole."""
    if not isinstance(conversations, list):
        raise TranscriptFileError(f"{file_name}: {CHATGPT_FILE} must hold a list of conversations")
    found = []
    for i, raw in enumerate(conversations):
        where = f"conversation {i + 1}"
        if isinstance(raw, Mapping):
            where += f" ({shown(raw.get('title') or raw.get('id') or 'untitled')})"
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
        parsed = _chatgpt_message(message, f"{where}: message {shown(node.get('id'))}", fallback)
        if parsed is not None:
            messages.append(parsed)
            fallback = parsed.created_at
    if not messages:
        return None  # nothing but system prompts or tool calls: nothing to remember
    unique_ids(messages, where)
    title = raw.get("title") if isinstance(raw.get("title"), str) and raw.get("title", "").strip() else None
    if title is not None:
        check_text(title, f"{where}: its title")
    return Transcript(messages=tuple(messages), title=title, source=where)


def _current_branch(mapping: Mapping[str, Any], current: Any, where: str) -> list[Mapping[str, Any]]:
    """The nodes from the root to `current_node` (the branch the user last saw), oldest first."""
    if not isinstance(current, str) or current not in mapping:
        current = _last_leaf(mapping, where)
    branch: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    node_id: Any = current
    while isinstance(node_id, str) and node_id in mapping:
        if node_id in seen:
            raise TranscriptFileError(f"{where}: the message tree has a cycle at {shown(node_id)}")
        seen.add(node_id)
        node = mapping[node_id]
        if not isinstance(node, Mapping):
            raise TranscriptFileError(f"{where}: node {shown(node_id)} is not an object")
        branch.append({"id": node_id, **node})
        node_id = node.get("parent")
    branch.reverse()
    return branch


def _last_leaf(mapping: Mapping[str, Any], where: str) -> str:
    """Older exports may lack current_node: follow the last child down from the root instead."""
    roots = [key for key, node in mapping.items() if isinstance(node, Mapping) and not node.get("parent")]
    if not roots:
        raise TranscriptFileError(f"{where}: the message tree has no root")
    current: str = roots[0]
    seen = {current}
    while True:
        children = mapping[current].get("children")
        known = [c for c in children if isinstance(c, str) and c in mapping] if isinstance(children, list) else []
        if not known:
            return current
        current = known[-1]
        if current in seen:
            raise TranscriptFileError(f"{where}: the message tree has a cycle at {shown(current)}")
        seen.add(current)


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
    check_text(text, f"{where}: its text")
    created_at = _epoch(message.get("create_time"), f"{where}: create_time") or fallback
    if created_at is None:
        raise TranscriptFileError(f"{where}: has no create_time, and neither has its conversation")
    message_id = message.get("id")
    if not isinstance(message_id, str) or not message_id:
        raise TranscriptFileError(f"{where}: has no id")
    check_text(message_id, f"{where}: its id")
    name = author.get("name") if isinstance(author.get("name"), str) and author["name"] else None
    if name is not None:
        check_text(name, f"{where}: its author's name")
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
