"""Work in flight when its conversation is deleted leaves nothing of it behind.

A chat turn, a transcript import, an extraction or a summary may still be writing when its conversation
goes (a delete-all, or that conversation's own deletion). Such work checks, once it has written, that
the conversation is still there, and forgets what it wrote when it is not. ForgetService deletes the
conversations first, so whatever the work wrote before that check is forgotten by the deletion, and
whatever after it by the work itself: nothing remains, whichever comes first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from jyntrix_domain.memories import MemoryService
from jyntrix_domain.model import MemoryId, UserId
from jyntrix_domain.ports import ConversationStore

log = logging.getLogger(__name__)


async def still_there(
    conversations: ConversationStore,
    memories: MemoryService,
    user_id: UserId,
    conversation_id: str,
    written: Sequence[MemoryId],
) -> bool:
    """Whether the conversation is still there; when it is not, the memories `written` are forgotten first."""
    if await conversations.get(user_id, conversation_id) is not None:
        return True
    if written:
        forgotten = await memories.forget(user_id, written)
        log.info("conversation %s went while writing: %d memories it wrote forgotten", conversation_id, forgotten)
    return False
