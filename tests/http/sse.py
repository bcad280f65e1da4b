"""A small Server-Sent Events parser for the tests (the wire format of text/event-stream)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Event:
    event: str
    data: Any
    id: str | None = None


def parse_block(block: str) -> Event | None:
    """One event from the lines between two blank lines; None for a comment-only block."""
    name, ident, data = "message", None, []
    for line in block.splitlines():
        if not line or line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
        elif field == "id":
            ident = value
    if not data:
        return None
    text = "\n".join(data)
    try:
        payload: Any = json.loads(text)
    except ValueError:
        payload = text
    return Event(event=name, data=payload, id=ident)


def _blocks(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n\n")


def parse_events(text: str) -> list[Event]:
    """Every event in a complete stream body."""
    return [e for e in (parse_block(b) for b in _blocks(text)) if e is not None]


async def iter_events(chunks: AsyncIterator[str] | Iterable[str]) -> AsyncIterator[Event]:
    """Events as soon as each one is complete in a stream of text chunks."""
    buffer = ""

    async def _aiter() -> AsyncIterator[str]:
        if isinstance(chunks, AsyncIterator):
            async for chunk in chunks:
                yield chunk
        else:
            for chunk in chunks:
                yield chunk

    async for chunk in _aiter():
        buffer += chunk.replace("\r\n", "\n")
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            event = parse_block(block)
            if event is not None:
                yield event
