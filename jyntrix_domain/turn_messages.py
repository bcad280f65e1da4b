"""The messages around a chat turn: the id its answer gets, the extraction batch its user message opens, the
turns a caller gives as history (never stored), and the message said before it."""

from __future__ import annotations

from collections.abc import Sequence

from jyntrix_domain.model import Message, PendingBatch, Role, UserId, stable_id
from jyntrix_domain.ports import Language
from jyntrix_domain.prompts import ChatTurn
from jyntrix_domain.tasks import extraction_key
from jyntrix_domain.turns import is_evidence


def pending_extraction(message: Message) -> PendingBatch:
    """The extraction batch a chat turn's user message opens (the turn's ExtractMemories task claims it)."""
    return PendingBatch(
        key=extraction_key(message.conversation_id, (message.id,)),
        user_id=message.user_id,
        conversation_id=message.conversation_id,
        message_ids=(message.id,),
        pending_since=message.created_at,
    )


def ephemeral(turns: Sequence[ChatTurn], current: Message) -> list[Message]:
    """Turns given by the caller as messages the context builder can count; never stored."""
    return [
        Message(
            id=f"{current.id}:given:{n}",
            conversation_id=current.conversation_id,
            user_id=current.user_id,
            role=turn.role,
            content=turn.content,
            created_at=current.created_at,
        )
        for n, turn in enumerate(turns)
    ]


def answer_id(user_id: UserId, message_id: str) -> str:
    """The id of the answer to a user's message: derived from it, so that a retried turn finds the answer it has."""
    return stable_id(user_id, message_id, "answer")


def answer_id_of(user_message: Message) -> str:
    return answer_id(user_message.user_id, user_message.id)


def turn_before(message: Message, stored: Sequence[Message], language: Language) -> str | None:
    """The id of the remembered message said last before `message` in its conversation, for the turn's
    neighbour signal. Only the stored conversation counts (an ephemeral history has no turn memories), and
    the turn keeps no words of it: a live turn's predecessor is stored already and would not know to drop
    them when forgotten."""
    before = [
        m
        for m in stored
        if m.id != message.id
        and m.role is Role.USER
        and is_evidence(m, language)
        and m.conversation_id == message.conversation_id
    ]
    return before[-1].id if before else None
