"""Extraction that survives a crash: batches a dead process left pending are enqueued again.

A batch is pending from the write that stored its messages until its extraction is claimed, so a
process killed in between leaves it in the TaskLedger. The API (in-process queue) and the worker run
`requeue_unfinished` at start-up and periodically; the extraction's idempotency (stable memory ids,
the claimed check) makes a batch enqueued twice, or still running elsewhere, add nothing. A recovered
batch's task writes the turn memories the crash may have left unwritten first
(jyntrix_domain.turn_recovery), so a batch is finished only with its turns and its facts.
"""

from __future__ import annotations

import logging
from datetime import datetime

from jyntrix_domain.ports import TaskLedger, TaskQueue
from jyntrix_domain.tasks import ExtractMemories, extraction_key

log = logging.getLogger(__name__)

RECOVERY_PAGE = 500


async def requeue_unfinished(ledger: TaskLedger, tasks: TaskQueue, older_than: datetime) -> int:
    """Enqueue an ExtractMemories task for every extraction batch pending since before `older_than`."""
    batches = await ledger.unfinished(older_than, limit=RECOVERY_PAGE)
    count = 0
    for batch in batches:
        if batch.key != extraction_key(batch.conversation_id, batch.message_ids):
            continue  # not an extraction batch: some other kind of pending work
        task = ExtractMemories(
            user_id=batch.user_id, conversation_id=batch.conversation_id, message_ids=batch.message_ids, recovered=True
        )
        await tasks.enqueue(task)
        count += 1
    if count:
        log.info("re-enqueued %d unfinished extraction batches", count)
    return count
