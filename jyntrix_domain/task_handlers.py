"""Task handlers: plain async functions over the domain services.

The dramatiq actors (services profile) and the in-process runner (embedded profile) call the
same handlers. Every handler is idempotent, so at-least-once delivery never adds anything twice.
A payload that cannot be a task raises Invalid: retrying would not help, so it is dead-lettered
at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, time, timedelta
from typing import Any

from jyntrix_domain.analytics import AnalyticsService
from jyntrix_domain.chat import EXTRACT_TASK
from jyntrix_domain.errors import Invalid
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.memories import MemoryService
from jyntrix_domain.model import Task
from jyntrix_domain.ports import Clock, ConversationStore, LanguageModel, TaskHandler, TaskLedger, TaskQueue

log = logging.getLogger(__name__)

EXTRACT_MEMORIES = EXTRACT_TASK
SUMMARISE_SESSION = "summarise_session"
REINDEX_USER = "reindex_user"
PURGE_ANALYTICS = "purge_analytics"
TASK_NAMES = (EXTRACT_MEMORIES, SUMMARISE_SESSION, REINDEX_USER, PURGE_ANALYTICS)


def summarise_task(user_id: str, conversation_id: str, if_last_message_id: str | None = None) -> Task:
    """Summarise a conversation; with `if_last_message_id`, only if nothing was said after that message."""
    payload: dict[str, Any] = {"user_id": user_id, "conversation_id": conversation_id}
    if if_last_message_id:
        payload["if_last_message_id"] = if_last_message_id
    return Task(name=SUMMARISE_SESSION, payload=payload, key=f"summarise:{conversation_id}:{if_last_message_id or ''}")


def purge_task(day: datetime) -> Task:
    """The retention purge of one day; the key makes it once per day however many workers start."""
    return Task(name=PURGE_ANALYTICS, payload={}, key=f"purge_analytics:{day.date().isoformat()}")


def build_handlers(
    *,
    memories: MemoryService,
    conversations: ConversationStore,
    ledger: TaskLedger,
    clock: Clock,
    llm: LanguageModel | None = None,
    analytics: AnalyticsService | None = None,
    extraction: ExtractionService | None = None,
    tasks: TaskQueue | None = None,
    summary_idle_s: float = 0.0,
    settings: object | None = None,
) -> dict[str, TaskHandler]:
    """The handlers by task name.

    With `tasks` and `summary_idle_s` > 0, each extraction schedules a summary of its conversation
    that runs only if the conversation stayed idle that long; with `tasks`, the retention purge
    schedules the next day's. (`settings` is accepted for the wiring's convenience and unused.)
    """
    extractor = extraction or ExtractionService(
        conversations=conversations, ledger=ledger, memories=memories, clock=clock, llm=llm
    )

    async def extract_memories(task: Task) -> None:
        user_id = _text(task.payload, "user_id")
        conversation_id = _text(task.payload, "conversation_id")
        message_ids = _ids(task.payload, "message_ids")
        if await conversations.get(user_id, conversation_id) is None:
            log.info("extract %s: conversation %s is gone; nothing to do", task.key, conversation_id)
            return
        report = await extractor.extract(user_id, conversation_id, message_ids)
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
                await tasks.enqueue(summarise_task(user_id, conversation_id, recent[-1].id), delay_s=summary_idle_s)

    async def summarise_session(task: Task) -> None:
        user_id = _text(task.payload, "user_id")
        conversation_id = _text(task.payload, "conversation_id")
        if await conversations.get(user_id, conversation_id) is None:
            log.info("summarise %s: conversation %s is gone; nothing to do", task.key, conversation_id)
            return
        expected = task.payload.get("if_last_message_id")
        if expected is not None:
            recent = await conversations.messages(user_id, conversation_id, limit=1)
            if not recent or recent[-1].id != expected:
                log.debug("summarise %s: the conversation went on; a later task summarises it", task.key)
                return
        summary = await extractor.summarise_session(user_id, conversation_id)
        log.info("summarise %s: %s", task.key, summary.id if summary else "no user messages")

    async def reindex_user(task: Task) -> None:
        user_id = _text(task.payload, "user_id")
        count = await memories.reindex(user_id)
        log.info("reindex %s: %d memories", task.key, count)

    async def purge_analytics(task: Task) -> None:
        if analytics is None:
            log.warning("purge %s: no analytics service wired; nothing purged", task.key)
            return
        removed = await analytics.purge_expired()
        log.info("purge %s: %d spans past retention removed", task.key, removed)
        if tasks is not None:
            now = clock.now()
            tomorrow = datetime.combine(now.date() + timedelta(days=1), time(3, 0), now.tzinfo)
            await tasks.enqueue(purge_task(tomorrow), delay_s=(tomorrow - now).total_seconds())

    return {
        EXTRACT_MEMORIES: extract_memories,
        SUMMARISE_SESSION: summarise_session,
        REINDEX_USER: reindex_user,
        PURGE_ANALYTICS: purge_analytics,
    }


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise Invalid(f"task payload needs a non-empty string {name!r}")
    return value


def _ids(payload: Mapping[str, Any], name: str) -> list[str]:
    value = payload.get(name)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise Invalid(f"task payload needs a non-empty list of ids {name!r}")
    return value
