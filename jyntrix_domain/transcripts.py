"""Transcript import: a user's existing history in, stored and indexed, extracted in the background.

One call brings up to MAX_TRANSCRIPT_MESSAGES messages of one conversation. Everything is checked
before anything is written, so a bad call stores nothing. The messages are then stored in
extraction batches, each batch marked pending in the same transaction as its messages (a crash
leaves it for recovery, never lost), their turn memories are written and indexed, and one
ExtractMemories task per batch is enqueued with the batch's own time as its `now`.

Ids are stable, so a repeated import answers the same conversation and messages and adds nothing:
a message's id derives from the client's id when given, else from its position and content; a
conversation's, when none is given, from the whole call's content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import msgspec

from jyntrix_domain.errors import Invalid, NotFound
from jyntrix_domain.in_flight import still_there
from jyntrix_domain.locks import UserGate
from jyntrix_domain.memories import MemoryService
from jyntrix_domain.memory_rules import MAX_CONTENT_CHARS, MAX_NAME_CHARS
from jyntrix_domain.model import (
    Conversation,
    ExtractionStatus,
    Message,
    PendingBatch,
    Role,
    TranscriptImportResult,
    TranscriptMessage,
    UserId,
    stable_id,
)
from jyntrix_domain.ports import ConversationPorts, TaskQueue
from jyntrix_domain.tasks import ExtractMemories, extraction_key
from jyntrix_domain.turns import is_evidence, remember_turns

MAX_TRANSCRIPT_MESSAGES = 1000
# A turn memory's content is "Name: text": the two together stay within a memory's limit.
MAX_SPEAKER_CHARS = MAX_NAME_CHARS
MAX_TRANSCRIPT_CONTENT_CHARS = MAX_CONTENT_CHARS - MAX_SPEAKER_CHARS - 2
MAX_CLIENT_ID_CHARS = 200
EXTRACTION_BATCH = 20
"""Messages per extraction batch (one pending row and one task each)."""


def check_transcript(messages: Sequence[TranscriptMessage]) -> None:
    """Raise Invalid naming the first message that cannot be imported (nothing is stored then)."""
    if not messages:
        raise Invalid("a transcript needs at least one message")
    if len(messages) > MAX_TRANSCRIPT_MESSAGES:
        raise Invalid(
            f"at most {MAX_TRANSCRIPT_MESSAGES} messages per call (got {len(messages)}); send the rest in further calls"
        )
    seen: set[str] = set()
    for n, message in enumerate(messages):
        where = f"messages[{n}]"
        if message.role not in (Role.USER, Role.ASSISTANT):
            raise Invalid(f"{where}.role must be 'user' or 'assistant'")
        if not message.content.strip():
            raise Invalid(f"{where}.content must not be empty")
        if len(message.content) > MAX_TRANSCRIPT_CONTENT_CHARS:
            raise Invalid(f"{where}.content is longer than {MAX_TRANSCRIPT_CONTENT_CHARS} characters")
        if message.created_at.tzinfo is None or message.created_at.utcoffset() is None:
            raise Invalid(f"{where}.created_at must carry a timezone")
        if message.name is not None and not (0 < len(message.name.strip()) <= MAX_SPEAKER_CHARS):
            raise Invalid(f"{where}.name must be 1 to {MAX_SPEAKER_CHARS} characters")
        if message.id is not None:
            if not message.id or len(message.id) > MAX_CLIENT_ID_CHARS:
                raise Invalid(f"{where}.id must be 1 to {MAX_CLIENT_ID_CHARS} characters")
            if message.id in seen:
                raise Invalid(f"{where}.id {message.id!r} is given twice")
            seen.add(message.id)


def _fingerprint(messages: Sequence[TranscriptMessage], title: str | None) -> str:
    digest = hashlib.sha256((title or "").encode())
    for m in messages:
        digest.update(msgspec.json.encode([m.role.value, m.name, m.id, m.created_at.isoformat(), m.content]))
    return digest.hexdigest()


def _message_id(user_id: UserId, conversation_id: str, position: int, message: TranscriptMessage) -> str:
    if message.id is not None:
        return stable_id("imported-message", user_id, conversation_id, message.id)
    said = f"{message.role.value}\x1f{message.name or ''}\x1f{message.created_at.isoformat()}\x1f{message.content}"
    return stable_id(
        "imported-message", user_id, conversation_id, f"#{position}", hashlib.sha256(said.encode()).hexdigest()
    )


class TranscriptService:
    """Imports transcripts (see the module docstring) and reports a conversation's extraction status."""

    def __init__(
        self,
        conversations: ConversationPorts,
        *,
        memories: MemoryService,
        tasks: TaskQueue,
        gate: UserGate | None = None,
    ) -> None:
        self._ports = conversations
        self._memories = memories
        self._tasks = tasks
        # Shared with ForgetService: a delete-all waits for an import to end (jyntrix_domain.in_flight).
        self._gate = gate if gate is not None else UserGate()

    async def import_transcript(
        self,
        user_id: UserId,
        messages: Sequence[TranscriptMessage],
        *,
        title: str | None = None,
        conversation_id: str | None = None,
    ) -> TranscriptImportResult:
        """Store `messages` in a new conversation (or `conversation_id`, one of the user's) and their turns.

        It takes one of the user's bulk slots, the memory imports' own (RateLimited when the user's are in
        use, Unavailable when the server's are).
        """
        check_transcript(messages)
        async with self._memories.bulk_slot(user_id), self._gate.shared(user_id):
            return await self._import(user_id, messages, title, conversation_id)

    async def _import(
        self, user_id: UserId, messages: Sequence[TranscriptMessage], title: str | None, conversation_id: str | None
    ) -> TranscriptImportResult:
        conversation = await self._conversation(user_id, messages, title, conversation_id)
        stored = [
            Message(
                id=_message_id(user_id, conversation.id, n, m),
                conversation_id=conversation.id,
                user_id=user_id,
                role=m.role,
                content=m.content,
                created_at=m.created_at,
                name=m.name.strip() if m.name else None,
                metadata=dict(m.metadata),
            )
            for n, m in enumerate(messages)
        ]
        batches = [stored[i : i + EXTRACTION_BATCH] for i in range(0, len(stored), EXTRACTION_BATCH)]
        # Continuing a conversation: its first new turn follows the last turn said before this call.
        previous = await self._last_turn(user_id, conversation.id, stored) if conversation_id is not None else None
        now = self._ports.clock.now()
        for batch in batches:
            ids = tuple(m.id for m in batch)
            pending = PendingBatch(
                key=extraction_key(conversation.id, ids),
                user_id=user_id,
                conversation_id=conversation.id,
                message_ids=ids,
                pending_since=now,
            )
            await self._ports.conversations.add_messages(batch, pending=pending)
        follows = previous.id if previous is not None else None
        # Messages kept as what was said (the same words said twice are one memory citing both messages).
        remembered = await remember_turns(
            self._memories, user_id, stored, language=self._ports.language, follows=follows
        )
        turns = len(remembered)
        written = list(dict.fromkeys(t.id for t in remembered))
        if not await still_there(self._ports.conversations, self._memories, user_id, conversation.id, written):
            raise NotFound(f"conversation {conversation.id} was deleted during the import")
        for batch in batches:
            task = ExtractMemories(
                user_id=user_id,
                conversation_id=conversation.id,
                message_ids=tuple(m.id for m in batch),
                now=max(m.created_at for m in batch),
            )
            await self._tasks.enqueue(task)
        return TranscriptImportResult(
            conversation_id=conversation.id,
            message_ids=[m.id for m in stored],
            messages=len(stored),
            turn_memories=turns,
            extraction_batches=len(batches),
            extraction=await self.status(user_id, conversation.id),
        )

    async def _last_turn(self, user_id: UserId, conversation_id: str, adding: Sequence[Message]) -> Message | None:
        """The conversation's last remembered message that is not one of `adding`."""
        ours = {m.id for m in adding}
        earlier = await self._ports.conversations.messages(user_id, conversation_id, limit=len(ours) + EXTRACTION_BATCH)
        return next((m for m in reversed(earlier) if m.id not in ours and is_evidence(m, self._ports.language)), None)

    async def status(self, user_id: UserId, conversation_id: str) -> ExtractionStatus:
        """The conversation's extraction status, from the TaskLedger."""
        pending = await self._ports.ledger.pending_count(user_id, conversation_id)
        return ExtractionStatus(pending=pending, finished=pending == 0)

    async def _conversation(
        self, user_id: UserId, messages: Sequence[TranscriptMessage], title: str | None, conversation_id: str | None
    ) -> Conversation:
        if conversation_id is not None:
            found = await self._ports.conversations.get(user_id, conversation_id)
            if found is None:
                raise NotFound(f"conversation {conversation_id} not found")
            return found
        first = min(m.created_at for m in messages)
        last = max(m.created_at for m in messages)
        derived = stable_id("imported-conversation", user_id, _fingerprint(messages, title))
        return await self._ports.conversations.create(
            Conversation(
                id=derived,
                user_id=user_id,
                created_at=first,
                updated_at=last,
                title=title or messages[0].content.strip()[:80],
                metadata={"imported": True},
            )
        )
