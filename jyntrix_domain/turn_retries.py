"""A chat turn sent again with its `message_id`: one message, one conversation, one answer.

A message id names one message. Sending it again retries that message's turn: in the conversation its
first try stored it in (the new-conversation route continues that conversation), with the same words
and speaker. Anything else under the same id is a Conflict (409), never a silent replay of another
answer, nor a second user message left behind in another conversation.

Concurrent first tries of one id: in one process, ChatService runs the turns of one message id one at a
time, so the later tries find the first's message and answer and replay them. Across processes the ids
converge instead: a new conversation's id derives from the message id, so every try stores the one
message in the one conversation, and the answer's id derives from the message's, so one answer is stored.
"""

from __future__ import annotations

from jyntrix_domain.errors import Conflict
from jyntrix_domain.model import Message, Role, UserId, stable_id


def conversation_for(user_id: UserId, message_id: str) -> str:
    """The id of the conversation a first try of `message_id` starts on the new-conversation route."""
    return stable_id("conversation-of-message", user_id, message_id)


def check_same_message(stored: Message, conversation_id: str | None, content: str, name: str | None) -> str:
    """The conversation of a turn whose message id is stored already as `stored`.

    Conflict when this try is not the same message: another conversation than `stored`'s (None, the
    new-conversation route, continues `stored`'s), other words, another speaker, or an id that is not
    a user message at all.
    """
    if conversation_id is not None and conversation_id != stored.conversation_id:
        raise Conflict(
            f"message_id {stored.id} belongs to conversation {stored.conversation_id}; "
            "retry it there (or on the new-conversation route), or send a new message_id"
        )
    if stored.role is not Role.USER or stored.content != content or stored.name != name:
        raise Conflict(f"message_id {stored.id} was sent with other content; a new message needs a new message_id")
    return stored.conversation_id
