"""A transcript read from a file, and the checks every file format shares (see transcript_files)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from jyntrix_client.types import TranscriptMessageIn

ROLES = ("user", "assistant")


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


def parse_time(raw: Any, where: str) -> datetime:
    """An ISO 8601 time with a timezone, kept in its own offset.

    Kept, not turned to UTC: the route derives a message's id from its time as given, and the same body sent
    to the route must get the same ids.
    """
    if not isinstance(raw, str):
        raise TranscriptFileError(f"{where}: must be an ISO 8601 time with a timezone, e.g. 2023-05-08T13:56:00Z")
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise TranscriptFileError(f"{where}: {raw!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise TranscriptFileError(f"{where}: {raw!r} has no timezone (add Z or +00:00)")
    return at


def optional_text(raw: Any, where: str) -> str | None:
    """None, or non-blank text."""
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip():
        raise TranscriptFileError(f"{where}: must be non-empty text when given")
    return check_text(raw, where)


# JSON's \ud800-style escapes can spell half of a UTF-16 pair, which no UTF-8 text (nor a server) can hold.
SURROGATE = "holds a lone surrogate escape (like \\ud800), which is not text"


def check_text(text: str, where: str) -> str:
    """`text`, when it is text: refused when it holds a lone surrogate."""
    try:
        text.encode()
    except UnicodeEncodeError:
        raise TranscriptFileError(f"{where}: {SURROGATE}") from None
    return text


def unique_ids(messages: Sequence[TranscriptMessageIn], where: str) -> None:
    """Refuse a client id given twice in one transcript (messages without one get theirs from the route)."""
    seen: set[str] = set()
    for i, message in enumerate(messages):
        if message.id is None:
            continue
        if message.id in seen:
            raise TranscriptFileError(f"{where}: messages[{i}].id {message.id!r} appears twice")
        seen.add(message.id)


def shown(raw: Any) -> str:
    """A name or id from the file as a message shows it: on one line, and short."""
    text = " ".join(str(raw).split())
    return text if len(text) <= 60 else text[:59] + "…"


def chunks(transcript: Transcript, size: int) -> list[tuple[TranscriptMessageIn, ...]]:
    """The transcript's messages in calls of at most `size` (the import route takes 1,000 at most)."""
    return [transcript.messages[i : i + size] for i in range(0, len(transcript.messages), size)]
