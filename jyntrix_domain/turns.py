"""Turn memories: every user message is also an episodic memory, so nothing said is unfindable.

A turn is what was said, as said: its content is the message text (prefixed by the speaker's name when
the message has one), its time is the message's own, and it cites that one message. Its id is derived
from the message id, so a retried turn or a repeated import adds nothing. Extraction later draws facts
from the same messages; consolidation never compares against, updates or supersedes a turn.
"""

from __future__ import annotations

from collections.abc import Sequence

from jyntrix_domain.errors import Invalid
from jyntrix_domain.memories import MemoryService, NewMemory
from jyntrix_domain.model import Memory, MemoryKind, MemoryType, Message, Role, UserId, Vector
from jyntrix_domain.turn_places import BEFORE_CHARS, TurnPlace, place_metadata
from jyntrix_domain.turn_places import turn_memory_id as turn_memory_id  # where callers have found it

# A statement is evidence about the user; a question states nothing (it is still findable, but ranks lower).
STATEMENT_RELIABILITY = 0.6
QUESTION_RELIABILITY = 0.3


def turn_content(message: Message) -> str:
    text = message.content.strip()
    return f"{message.name}: {text}" if message.name else text


def is_question(text: str) -> bool:
    """A message that only asks: it ends with a question mark and states nothing before it."""
    stripped = text.strip()
    return stripped.endswith("?") and not any(mark in stripped[:-1] for mark in ".!")


def turn_reliability(message: Message) -> float:
    return QUESTION_RELIABILITY if is_question(message.content) else STATEMENT_RELIABILITY


def remembers(message: Message) -> bool:
    """Whether a message becomes a turn memory: what the user's side says, not the assistant's answers."""
    return message.role is Role.USER and bool(message.content.strip())


def new_turn(
    message: Message, *, before: Message | None = None, after: Message | None = None, follows: str | None = None
) -> NewMemory:
    """The turn memory of `message` (a user message), ready for MemoryService.

    `before` and `after` are the remembered messages around it in its conversation, when they are turned
    into memories with it: the turn keeps what `before` said and names `after`, which keeps its words.
    Else `follows` names the remembered message before it (a turn stored earlier, which does not know it).
    """
    place = TurnPlace(
        conversation_id=message.conversation_id,
        message_id=message.id,
        follows=before.id if before is not None else follows,
        speaker=message.name,
        before=turn_content(before)[:BEFORE_CHARS] if before is not None else None,
        precedes=after.id if after is not None else None,
    )
    return NewMemory(
        id=turn_memory_id(message.user_id, message.id),
        content=turn_content(message),
        type=MemoryType.EPISODIC,
        kind=MemoryKind.TURN,
        reliability=turn_reliability(message),
        created_at=message.created_at,
        source_message_ids=(message.id,),
        metadata=place_metadata(place),
    )


def new_turns(messages: Sequence[Message], *, follows: str | None = None) -> list[NewMemory]:
    """The turn memories of the remembered ones of `messages` (in conversation order), each placed among
    the others (see `new_turn`); the first follows `follows`, the remembered message before them, if any."""
    said = [m for m in messages if remembers(m)]
    out = []
    for n, message in enumerate(said):
        # Turns of another conversation are not around it.
        before = said[n - 1] if n > 0 and said[n - 1].conversation_id == message.conversation_id else None
        after = said[n + 1] if n + 1 < len(said) else None
        after = after if after is not None and after.conversation_id == message.conversation_id else None
        out.append(new_turn(message, before=before, after=after, follows=follows if n == 0 else None))
    return out


async def remember_turns(
    memories: MemoryService,
    user_id: UserId,
    messages: Sequence[Message],
    vectors: Sequence[Vector] | None = None,
) -> list[Memory]:
    """Store and index the turn memories of `messages` (user messages only, in conversation order);
    idempotent per message.

    `vectors`, one per message, are the messages' embeddings when the caller has them already, so that a
    chat turn embeds its message once for both retrieval and its turn memory.
    """
    if vectors is not None and len(vectors) != len(messages):
        raise Invalid("give one vector per message, or none")
    chosen = [i for i, m in enumerate(messages) if remembers(m)]
    if not chosen:
        return []
    given = [vectors[i] for i in chosen] if vectors is not None else None
    return await memories.bulk_import(user_id, new_turns(messages), vectors=given)


async def forget_turns(memories: MemoryService, user_id: UserId, message_ids: Sequence[str]) -> int:
    """Delete the turn memories of these messages (a deleted conversation's); facts drawn from them stay."""
    return await memories.forget(user_id, [turn_memory_id(user_id, m) for m in message_ids])
