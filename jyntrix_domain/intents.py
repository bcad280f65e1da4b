"""What a message does, whatever its language: the intents the query analyser and the ranker decide with."""

from __future__ import annotations

import enum


class Intent(enum.StrEnum):
    """What a message does: chats, asks, asks about the past, or tells the assistant what to do."""

    CONVERSATION = "conversation"
    QUESTION = "question"
    RECALL = "recall"
    COMMAND = "command"
