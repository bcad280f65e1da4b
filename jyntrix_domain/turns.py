"""Turn memories: what was said, kept as said, so that nothing said is unfindable.

A turn is a message as said: its content is the message text (prefixed by the speaker's name when the
message has one), its time is the message's own, its place (`Memory.place`) is the conversation, the
message, who said it (role and speaker) and the remembered turns around it, and it cites that one message.
Its id is derived from the message id, so a retried turn or a repeated import adds nothing.

What becomes a turn (`is_evidence`):
- a user message that states something. One that only asks, asks to recall, gives a one-off instruction or
  is small talk (read by the `Language` port) is addressed to the assistant and says nothing: it
  stays a message of its conversation, never a memory. A message with a speaker's name is one person talking
  to others (a transcript of people, a group chat): whatever it says is part of what was said;
- an assistant message of an imported transcript, and a chat answer that says something new (one that only
  restates the memories it was given adds nothing: `restates`), kept as evidence of what the assistant said.

Extraction later draws facts from the same messages; consolidation never updates a turn, but a turn
ends (is no longer current) once the facts drawn from it are superseded (`jyntrix_domain.currency`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from jyntrix_domain.errors import Invalid
from jyntrix_domain.memories import MemoryService, NewMemory
from jyntrix_domain.model import Memory, MemoryKind, MemoryType, Message, Place, Role, UserId, Vector
from jyntrix_domain.ports import Language
from jyntrix_domain.turn_places import BEFORE_CHARS
from jyntrix_domain.turn_places import turn_memory_id as turn_memory_id  # where callers have found it

STATEMENT_RELIABILITY = 0.6
# What the assistant said is evidence of the conversation, not of the user's world.
ASSISTANT_RELIABILITY = 0.5
# An answer with at most this many content words that are not in what it was given (the memories, the
# user's message), or this share of its words, restates them: it tells nothing new (a framing such as
# "Here is what I remember:" aside).
RESTATED_NEW_WORDS = 3
RESTATED_NEW_SHARE = 0.25
_CITATION = re.compile(r"\[\d+\]")


def turn_content(message: Message) -> str:
    text = message.content.strip()
    return f"{message.name}: {text}" if message.name else text


def is_evidence(message: Message, language: Language) -> bool:
    """Whether a message becomes a turn memory (module docstring); chat answers are judged by `restates`."""
    if not message.content.strip():
        return False
    if message.role is Role.ASSISTANT:
        return True
    return message.role is Role.USER and (message.name is not None or language.states_something(message.content))


def restates(answer: str, given: Iterable[str], language: Language) -> bool:
    """Whether an answer only restates what it was given: few of its content words are new (RESTATED_*)."""
    words = set(language.index_terms(_CITATION.sub(" ", answer)))
    known = {term for text in given for term in language.index_terms(text)}
    return len(words - known) <= max(RESTATED_NEW_WORDS, RESTATED_NEW_SHARE * len(words))


def new_turn(
    message: Message, *, before: Message | None = None, after: Message | None = None, follows: str | None = None
) -> NewMemory:
    """The turn memory of `message`, ready for MemoryService.

    `before` and `after` are the remembered messages around it in its conversation, when they are turned
    into memories with it: the turn keeps what `before` said and names `after`, which keeps its words.
    Else `follows` names the remembered message before it (a turn stored earlier, which does not know it).
    """
    place = Place(
        conversation_id=message.conversation_id,
        message_id=message.id,
        role=message.role,
        speaker=message.name,
        follows=before.id if before is not None else follows,
        before=turn_content(before)[:BEFORE_CHARS] if before is not None else None,
        precedes=after.id if after is not None else None,
    )
    assistant = message.role is Role.ASSISTANT
    return NewMemory(
        id=turn_memory_id(message.user_id, message.id),
        content=turn_content(message),
        type=MemoryType.EPISODIC,
        kind=MemoryKind.TURN,
        reliability=ASSISTANT_RELIABILITY if assistant else STATEMENT_RELIABILITY,
        created_at=message.created_at,
        source_message_ids=(message.id,),
        place=place,
    )


def new_turns(messages: Sequence[Message], language: Language, *, follows: str | None = None) -> list[NewMemory]:
    """The turn memories of the evidence among `messages` (in conversation order), each placed among
    the others (see `new_turn`); the first follows `follows`, the remembered message before them, if any."""
    said = [m for m in messages if is_evidence(m, language)]
    out = []
    for n, message in enumerate(said):
        # Turns of another conversation are not around it.
        before = said[n - 1] if n > 0 and said[n - 1].conversation_id == message.conversation_id else None
        after = said[n + 1] if n + 1 < len(said) else None
        after = after if after is not None and after.conversation_id == message.conversation_id else None
        out.append(new_turn(message, before=before, after=after, follows=follows if n == 0 else None))
    return out


EMBED_BATCH = 200
"""Turn memories embedded and written per call to the memory service."""


async def remember_turns(
    memories: MemoryService,
    user_id: UserId,
    messages: Sequence[Message],
    vectors: Sequence[Vector] | None = None,
    *,
    language: Language,
    follows: str | None = None,
    read_back: bool = True,
) -> list[Memory]:
    """Record what was said: the one use case for chat turns, transcript imports and chat answers alike.

    Stores and indexes the turn memories of the evidence among `messages` (in conversation order, placed
    among each other; the first follows `follows`), EMBED_BATCH at a time; idempotent per message.
    `vectors`, one per message, are the messages' embeddings when the caller has them already (a chat turn
    embeds its message once, for retrieval and for its turn). With `read_back` false, turns that were all
    created come back as built (a chat turn, which does not use them, saves a round trip).
    """
    if vectors is not None and len(vectors) != len(messages):
        raise Invalid("give one vector per message, or none")
    chosen = [i for i, m in enumerate(messages) if is_evidence(m, language)]
    said = new_turns(messages, language, follows=follows)
    given = [vectors[i] for i in chosen] if vectors is not None else None
    out: list[Memory] = []
    for i in range(0, len(said), EMBED_BATCH):
        batch = given[i : i + EMBED_BATCH] if given is not None else None
        out += await memories.bulk_import(user_id, said[i : i + EMBED_BATCH], vectors=batch, read_back=read_back)
    return out


async def forget_turns(memories: MemoryService, user_id: UserId, message_ids: Sequence[str]) -> int:
    """Forget what these messages said (a deleted conversation's): their turn memories, and these messages
    as sources of a turn that another message said too; facts drawn from them stay."""
    return await memories.forget_said(user_id, message_ids)
