"""What the extraction tests share: a kit at a fixed date, a conversation told to it, the services."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.llm_extraction import LLMExtractor
from jyntrix_domain.model import (
    Conversation,
    Memory,
    MemoryFilter,
    MemoryKind,
    MemoryType,
    Message,
    Role,
)
from jyntrix_domain.ports import ConversationPorts, LanguageModel, TaskLedger
from tests.domain.kit import Kit

USER = "user-1"
# A Wednesday: "on Friday" is 2025-01-10, "next week" the week of 2025-01-13.
NOW = datetime(2025, 1, 8, 12, 0, tzinfo=UTC)

# The memory types by their initials, as the cases write them.
P, S, E, R = MemoryType.PROFILE, MemoryType.SEMANTIC, MemoryType.EPISODIC, MemoryType.PROCEDURAL

Said = str | tuple[str, str]  # a user message, or (role, text)


async def conversation_with(kit: Kit, said: list[Said], conversation_id: str = "c1") -> list[str]:
    if await kit.conversations.get(USER, conversation_id) is None:
        now = kit.clock.now()
        await kit.conversations.create(Conversation(id=conversation_id, user_id=USER, created_at=now, updated_at=now))
    ids = []
    for item in said:
        role, text = (Role.USER, item) if isinstance(item, str) else (Role(item[0]), item[1])
        kit.clock.advance(1)
        message = await kit.conversations.add_message(
            Message(
                id=f"{conversation_id}-m{len(ids)}-{kit.clock.now().timestamp():.0f}",
                conversation_id=conversation_id,
                user_id=USER,
                role=role,
                content=text,
                created_at=kit.clock.now(),
            )
        )
        ids.append(message.id)
    return ids


def new_kit() -> Kit:
    kit = Kit()
    kit.clock.set(NOW)
    return kit


def service(kit: Kit, llm: LanguageModel | None = None) -> ExtractionService:
    rules = DeterministicExtractor()
    extractor = LLMExtractor(llm, rules) if llm is not None else rules
    return ExtractionService(kit.conversation_ports, memories=kit.memories, extractor=extractor, rules=rules, llm=llm)


class ForgetfulClaims:
    """The task ledger as a worker sees it that died after writing memories, before claiming the batch."""

    def __init__(self, inner: TaskLedger) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def claimed(self, user_id: str, key: str) -> bool:
        return False

    async def claim(self, user_id: str, key: str) -> bool:
        return True


def unclaimed_service(kit: Kit) -> ExtractionService:
    """Runs a batch again as if it had never been finished, so its memories are met a second time."""
    ledger: Any = ForgetfulClaims(kit.ledger)
    return ExtractionService(
        ConversationPorts(conversations=kit.conversations, ledger=ledger, clock=kit.clock, language=EnglishLanguage()),
        memories=kit.memories,
        extractor=DeterministicExtractor(),
    )


async def current(kit: Kit) -> list[Memory]:
    """The current facts (what was said, turns, is not extraction's)."""
    return await kit.memories.list(USER, MemoryFilter(kinds=frozenset({MemoryKind.FACT}), limit=500))
