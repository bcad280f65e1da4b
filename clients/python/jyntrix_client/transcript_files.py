"""Reading transcript files for import: the project's JSON shape, JSON Lines of it, plain text, or a ChatGPT export.

`read_transcripts(path)` reads the whole file before anything is sent, so a malformed file
is refused whole, with a message naming its line (JSON Lines, plain text) or its conversation
(ChatGPT), and nothing is half-imported. No more than `max_bytes` is ever read or inflated
(a zip member's size is checked before it is inflated). A message keeps the id the file gives
it (a ChatGPT export always does) and gets none otherwise: the import route then derives it
from the message's place and content, exactly as for a client calling the route with the same
messages, so the same transcript through the route, the MCP tool or this file adds nothing twice.

Accepted shapes:
- `{"title"?, "conversation_id"?, "messages": [{"role", "content", "created_at", "name"?, "id"?, "metadata"?}]}`;
- JSON Lines, one such object a line;
- plain text, one conversation: see `read_plain_text`;
- a ChatGPT data export: `conversations.json` (a list of conversations with a `mapping` message tree),
  or the export's `.zip` (see chatgpt_export).
"""

from __future__ import annotations

import json
import lzma
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from jyntrix_client.chatgpt_export import CHATGPT_FILE, read_chatgpt_export
from jyntrix_client.transcript import ROLES, SURROGATE, check_text, optional_text, parse_time, shown, unique_ids
from jyntrix_client.transcript import Transcript as Transcript  # part of this module's interface
from jyntrix_client.transcript import TranscriptFileError as TranscriptFileError
from jyntrix_client.transcript import chunks as chunks
from jyntrix_client.types import TranscriptMessageIn

MAX_FILE_BYTES = 128 * 2**20
"""The most a file (or the export's conversations.json, inflated) may hold; `jyntrix import --max-mb`."""


def read_transcripts(path: Path, max_bytes: int = MAX_FILE_BYTES) -> list[Transcript]:
    """Every transcript in the file, validated; raises TranscriptFileError naming the culprit.

    JSON when the file starts with `{` or `[` (a bracketed time before a speaker aside), plain text otherwise.
    """
    if not path.is_file():
        raise TranscriptFileError(f"{path}: no such file")
    if zipfile.is_zipfile(path):
        where = f"{path.name}:{CHATGPT_FILE}"
        return read_chatgpt_export(_load_json(_zip_member(path, max_bytes), where), path.name)
    text = _utf8(_bounded_read(path, max_bytes), path.name)
    start = text.lstrip()[:1]
    if not start:
        raise TranscriptFileError(f"{path.name}: the file is empty")
    if start not in ("{", "[") or _looks_like_plain_text(text):
        return [read_plain_text(text, path.name, _modified(path))]
    try:
        whole = _load_json(text, path.name)
    except TranscriptFileError:
        if start == "[":
            raise
        return [_own(_load_json(line, f"line {n}"), f"line {n}") for n, line in _lines(text)]
    if isinstance(whole, list):
        if any(isinstance(c, Mapping) and "mapping" in c for c in whole):
            return read_chatgpt_export(whole, path.name)
        raise TranscriptFileError(
            f"{path.name}: a JSON list must be a ChatGPT export (conversations with a 'mapping'); "
            "for several transcripts of the project's own shape, use JSON Lines"
        )
    return [_own(whole, path.name)]


def _utf8(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TranscriptFileError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield n, line


# Parsed JSON takes far more memory than its text when it is mostly containers: `{},` is 3 bytes and a 64-byte
# dict. A transcript's objects and lists each hold a message, a name, a time: tens of bytes at the least.
BYTES_PER_CONTAINER = 32
CONTAINER_ALLOWANCE = 1000


def _containers(text: str | bytes) -> int:
    if isinstance(text, bytes):
        return text.count(b"{") + text.count(b"[")
    return text.count("{") + text.count("[")


def _load_json(text: str | bytes, where: str) -> Any:
    """The parsed JSON, refused (before parsing) when it is mostly objects and lists."""
    containers = _containers(text)
    if containers > len(text) // BYTES_PER_CONTAINER + CONTAINER_ALLOWANCE:
        raise TranscriptFileError(
            f"{where}: {containers:,} JSON objects and lists in {_size(len(text))}, too many for a transcript "
            f"(at most one in {BYTES_PER_CONTAINER} bytes)"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptFileError(f"{where}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except UnicodeDecodeError as exc:
        raise TranscriptFileError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except RecursionError:
        raise TranscriptFileError(_too_deep(where)) from None


def _too_deep(where: str) -> str:
    return f"{where}: the JSON nests too deeply to be a transcript"


def _size(n: int) -> str:
    return f"{n / 2**20:,.1f} MB"


def _too_big(where: str, size: str, max_bytes: int) -> TranscriptFileError:
    return TranscriptFileError(
        f"{where}: {size}, over the limit of {_size(max_bytes)} (raise it with --max-mb, or split the file)"
    )


def _bounded_read(path: Path, max_bytes: int) -> bytes:
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)  # the file may grow after a size check: never read past the limit
    if len(data) > max_bytes:
        raise _too_big(path.name, f"{_size(path.stat().st_size)} or more", max_bytes)
    return data


# What a damaged, encrypted or exotic archive raises while being read.
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, RuntimeError, NotImplementedError, OSError)


def _zip_member(path: Path, max_bytes: int) -> bytes:
    """The export's conversations.json, refused by its declared size before inflating and never read past it."""
    try:
        with zipfile.ZipFile(path) as archive:
            found = [i for i in archive.infolist() if i.filename.rsplit("/", 1)[-1] == CHATGPT_FILE]
            if not found:
                raise TranscriptFileError(
                    f"{path.name}: the archive has no {CHATGPT_FILE} (is it a ChatGPT data export?)"
                )
            member = min(found, key=lambda i: len(i.filename))
            where = f"{path.name}:{member.filename}"
            if member.file_size > max_bytes:
                raise _too_big(where, f"inflates to {_size(member.file_size)}", max_bytes)
            with archive.open(member) as handle:
                # zipfile stops at the declared size; the bound holds even if the header lies.
                data = handle.read(max_bytes + 1)
    except _ZIP_ERRORS as exc:
        raise TranscriptFileError(f"{path.name}: a damaged or unreadable zip archive ({exc})") from None
    if len(data) > max_bytes:
        raise _too_big(where, "inflates past the limit", max_bytes)
    return data


def _modified(path: Path) -> datetime:
    return datetime.fromtimestamp(int(path.stat().st_mtime), tz=UTC)


# ------------------------------------------------------------------ the project's own shape


def _own(raw: Any, where: str) -> Transcript:
    if not isinstance(raw, Mapping):
        raise TranscriptFileError(f"{where}: expected an object with 'messages', got {type(raw).__name__}")
    unknown = set(raw) - {"title", "conversation_id", "messages"}
    if unknown:
        raise TranscriptFileError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    title = optional_text(raw.get("title"), f"{where}: title")
    conversation_id = optional_text(raw.get("conversation_id"), f"{where}: conversation_id")
    items = raw.get("messages")
    if not isinstance(items, list) or not items:
        raise TranscriptFileError(f"{where}: 'messages' must be a non-empty list")
    messages = tuple(_own_message(item, f"{where}: messages[{i}]") for i, item in enumerate(items))
    unique_ids(messages, where)
    return Transcript(messages=messages, title=title, conversation_id=conversation_id, source=where)


def _own_message(raw: Any, where: str) -> TranscriptMessageIn:
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
    check_text(content, f"{where}.content")
    created_at = parse_time(raw.get("created_at"), f"{where}.created_at")
    name = optional_text(raw.get("name"), f"{where}.name")
    metadata = raw.get("metadata", {})
    if not isinstance(metadata, Mapping):
        raise TranscriptFileError(f"{where}.metadata: must be an object")
    try:
        json.dumps(metadata, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise TranscriptFileError(f"{where}.metadata: {SURROGATE}") from None
    except RecursionError:
        raise TranscriptFileError(f"{where}.metadata: nests too deeply") from None
    message_id = optional_text(raw.get("id"), f"{where}.id")
    return TranscriptMessageIn(
        role=role, content=content, created_at=created_at, id=message_id, name=name, metadata=dict(metadata)
    )


# ------------------------------------------------------------------ plain text

# "[2023-05-08T13:56:00Z] " or "2023-05-08 13:56:00+02:00 ": a message's own time, before its speaker.
_TIME = re.compile(
    r"(?:\[(?P<bracketed>[^\]]{1,40})\]|(?P<bare>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
    r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?))\s+"
)
# "Name: text": a name of one to three words (letters, digits, . ' - _; starting with a letter; at most 40
# characters), then a colon and a space or the line's end. So "https://…", "at 10:30 we met" or "We met on
# Sunday: …" continue a message rather than start one.
_SPEAKER = re.compile(r"(?P<name>[^\W\d_][\w.'-]*(?: [\w.'-]+){0,2})\s*:(?:\s+(?P<text>.*)|$)")
MAX_SPEAKER_CHARS = 40


class _Said(msgspec.Struct):
    line: int
    name: str
    at: datetime | None
    lines: list[str]


def read_plain_text(text: str, where: str, modified: datetime) -> Transcript:
    """One conversation from lines of `Name: text`, each optionally after its time.

    - `User:` and `Assistant:` (any case) are the two roles; any other name is a speaker on the user's
      side, kept as the message's `name`.
    - A line without a `Name:` prefix continues the message before it (blank lines inside a message
      are kept as paragraph breaks; blank lines between messages are ignored).
    - A message's time is the ISO 8601 time with a timezone before its name, bracketed or not
      (`[2023-05-08T13:56:00Z] User: …`). A message without one comes one second after the message
      before it (the ones before the first time given, one second apart up to it); in a file without
      any time the last message is dated by the file's modification time. So the same file imported
      again gets the same times, and adds nothing.
    """
    said: list[_Said] = []
    for n, line in enumerate(text.splitlines(), start=1):
        time, rest = _line_time(line)
        speaker = _speaker(rest)
        if speaker is not None:
            at = parse_time(time.replace(",", "."), f"{where}: line {n}") if time is not None else None
            said.append(_Said(n, speaker["name"].strip(), at, [speaker["text"] or ""]))
        elif said:
            said[-1].lines.append(line)
        elif line.strip():
            raise TranscriptFileError(
                f"{where}: line {n}: a plain-text transcript starts with a speaker, as in 'User: …', "
                "'Assistant: …' or 'Caroline: …'"
            )
    if not said:
        raise TranscriptFileError(f"{where}: the file is empty")
    times = _plain_times([s.at for s in said], modified)
    messages = tuple(_plain_message(s, at, f"{where}: line {s.line}") for s, at in zip(said, times, strict=True))
    return Transcript(messages=messages, source=where)


def _speaker(rest: str) -> re.Match[str] | None:
    found = _SPEAKER.fullmatch(rest)
    return found if found is not None and len(found["name"]) <= MAX_SPEAKER_CHARS else None


def _line_time(line: str) -> tuple[str | None, str]:
    """The time a line starts with, if any (unparsed), and the rest of the line."""
    found = _TIME.match(line)
    if found is None:
        return None, line
    return (found["bracketed"] or found["bare"]).strip(), line[found.end() :]


def _looks_like_plain_text(text: str) -> bool:
    """Whether the first line is `Name: …`, after its time if any (a bracketed time looks like JSON's `[`)."""
    return _speaker(_line_time(text.lstrip().split("\n", 1)[0])[1]) is not None


def _plain_times(given: Sequence[datetime | None], modified: datetime) -> list[datetime]:
    """Each message's time: its own, else a second after the one before (before the first time given: a second
    apart up to it); with no time given at all, the last message is at `modified`."""
    anchor = next((i for i, at in enumerate(given) if at is not None), len(given) - 1)
    last, last_index = given[anchor] or modified, anchor
    times = []
    for i, at in enumerate(given):
        if at is not None:
            last, last_index = at, i
        times.append(last + timedelta(seconds=i - last_index))
    return times


def _plain_message(said: _Said, at: datetime, where: str) -> TranscriptMessageIn:
    content = "\n".join(said.lines).strip()
    if not content:
        raise TranscriptFileError(f"{where}: {shown(said.name)} says nothing")
    role = said.name.lower()
    if role in ROLES:
        return TranscriptMessageIn(role="user" if role == "user" else "assistant", content=content, created_at=at)
    return TranscriptMessageIn(role="user", content=content, created_at=at, name=said.name)
