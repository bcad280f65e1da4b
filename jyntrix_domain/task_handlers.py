"""Task handlers: plain async functions over the domain services, one per task type.

The dramatiq actors (a separate worker) and the in-process queue (the embedded deployment) call the
same handlers. Every handler is idempotent, so at-least-once delivery never adds anything twice.
A task's fields are checked when it is built or decoded (jyntrix_domain.tasks), so a malformed one
is Invalid before any handler runs, and is dead-lettered at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from jyntrix_domain.analytics import AnalyticsService
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.in_flight import still_there
from jyntrix_domain.memories import MemoryService
from jyntrix_domain.ports import ConversationPorts, TaskQueue
from jyntrix_domain.tasks import (
    ExtractMemories,
    PurgeAnalytics,
    ReindexUser,
    SummariseSession,
    TaskHandler,
    TaskMessage,
)
from jyntrix_domain.turn_recovery import finish_turns

log = logging.getLogger(__name__)

PURGE_HOUR = time(3, 0)


def build_handlers(
    ports: ConversationPorts,
    *,
    memories: MemoryService,
    extraction: ExtractionService,
    analytics: AnalyticsService | None = None,
    tasks: TaskQueue | None = None,
    summary_idle_s: float = 0.0,
) -> dict[type[TaskMessage], TaskHandler]:
    """The handlers by task type.

    With `tasks` and `summary_idle_s` > 0, each extraction schedules a summary of its conversation
    that runs only if the conversation stayed idle that long; with `tasks`, the retention purge
    schedules the next day's.
    """
    conversations, clock = ports.conversations, ports.clock

    async def extract_memories(task: ExtractMemories) -> None:
        user_id, conversation_id = task.user_id, task.conversation_id
        if await conversations.get(user_id, conversation_id) is None:
            log.info("extract %s: conversation %s is gone; nothing to do", task.key, conversation_id)
            return
        now = task.now
        if task.recovered:
            batch = await finish_turns(
                conversations, memories, user_id, conversation_id, task.message_ids, ports.language
            )
            # A recovered task knows no time of its batch: it is the batch's own, not the recovery's.
            now = now or max((m.created_at for m in batch), default=None)
        report = await extraction.extract(user_id, conversation_id, task.message_ids, now=now)
        if not await still_there(conversations, memories, user_id, conversation_id, report.created_ids):
            return  # deleted while extracting: what it added is forgotten (jyntrix_domain.in_flight)
        log.info(
            "extract %s: added=%d updated=%d superseded=%d ignored=%d via %s%s",
            task.key,
            report.added,
            report.updated,
            report.superseded,
            report.ignored,
            report.extractor,
            " (batch was already done)" if report.already_done else "",
        )
        if tasks is not None and summary_idle_s > 0:
            recent = await conversations.messages(user_id, conversation_id, limit=1)
            if recent:
                follow_up = SummariseSession(
                    user_id=user_id, conversation_id=conversation_id, if_last_message_id=recent[-1].id
                )
                await tasks.enqueue(follow_up, delay_s=summary_idle_s)

    async def summarise_session(task: SummariseSession) -> None:
        user_id, conversation_id = task.user_id, task.conversation_id
        if await conversations.get(user_id, conversation_id) is None:
            log.info("summarise %s: conversation %s is gone; nothing to do", task.key, conversation_id)
            return
        if task.if_last_message_id is not None:
            recent = await conversations.messages(user_id, conversation_id, limit=1)
            if not recent or recent[-1].id != task.if_last_message_id:
                log.debug("summarise %s: the conversation went on; a later task summarises it", task.key)
                return
        summary = await extraction.summarise_session(user_id, conversation_id)
        written = [summary.id] if summary is not None else []
        if not await still_there(conversations, memories, user_id, conversation_id, written):
            return
        log.info("summarise %s: %s", task.key, summary.id if summary else "no user messages")

    async def reindex_user(task: ReindexUser) -> None:
        count = await memories.reindex(task.user_id)
        log.info("reindex %s: %d memories", task.key, count)

    async def purge_analytics(task: PurgeAnalytics) -> None:
        if analytics is None:
            log.warning("purge %s: no analytics service wired; nothing purged", task.key)
            return
        removed = await analytics.purge_expired()
        log.info("purge %s: %d spans past retention removed", task.key, removed)
        if tasks is not None:
            await schedule_next_purge(tasks, clock.now())

    return {
        ExtractMemories: extract_memories,
        SummariseSession: summarise_session,
        ReindexUser: reindex_user,
        PurgeAnalytics: purge_analytics,
    }


async def schedule_next_purge(tasks: TaskQueue, now: datetime) -> None:
    """Enqueue tomorrow's retention purge, to run at PURGE_HOUR."""
    tomorrow = datetime.combine(now.date() + timedelta(days=1), PURGE_HOUR, now.tzinfo)
    await tasks.enqueue(PurgeAnalytics.of(tomorrow), delay_s=(tomorrow - now).total_seconds())
