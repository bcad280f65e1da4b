"""The turn memories a crash left unwritten, written when recovery picks their batch up.

A transcript import stores its messages first, each batch pending in the TaskLedger from the same write,
and then their turn memories; a chat turn stores its message, then its turn memory. A process killed in
between leaves messages without turns, and their batches pending. Recovery (jyntrix_domain.recovery)
re-enqueues those batches marked `recovered`, and the extraction handler first writes the missing turn
memories with `finish_turns`, then extracts, then claims: a batch reads as finished only once both its
turns and its facts are there. Turn ids derive from the message ids, so turns stored already stay as
they are and only the missing ones are added; all of them are indexed again, for a crash may also
have come between a turn's store write and its indexes'.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from jyntrix_domain.memories import MemoryService
from jyntrix_domain.model import Message, UserId
from jyntrix_domain.ports import ConversationStore, Language
from jyntrix_domain.turns import is_evidence, new_turns

# How far back the turn said before a batch is looked for (an extraction batch's size).
LOOK_BACK = 20


async def finish_turns(
    conversations: ConversationStore,
    memories: MemoryService,
    user_id: UserId,
    conversation_id: str,
    message_ids: Sequence[str],
    language: Language,
) -> builtins.list[Message]:
    """Write the turn memories of the batch's messages that are missing; return the batch's messages, oldest first.

    Each missing turn is placed among the batch's others, the first after the turn said last before the batch.
    """
    batch = [m for m in await conversations.get_messages(user_id, message_ids) if m.conversation_id == conversation_id]
    if not any(is_evidence(m, language) for m in batch):
        return batch
    earlier = await conversations.messages_before(user_id, conversation_id, batch[0].id, limit=LOOK_BACK)
    previous = next((m for m in reversed(earlier) if is_evidence(m, language)), None)
    turns = new_turns(batch, language, follows=previous.id if previous is not None else None)
    await memories.bulk_import(user_id, turns, read_back=False)
    # A turn stored just before the crash may have missed its indexes: index the batch's turns again.
    await memories.index_again(user_id, [t.id for t in turns if t.id is not None])
    return batch
