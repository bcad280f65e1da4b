"""ExtractionService: a batch of a user's new messages in, consolidated memories out; safe to run twice.

The parts, each usable alone: an `Extractor` (jyntrix_domain.ports; `LLMExtractor` in
`jyntrix_domain.llm_extraction`, or the English rules in `jyntrix_adapters.english`), `Consolidator`
(`jyntrix_domain.consolidation`, which also holds the slot table and the consolidation rules) and the
session summaries (`jyntrix_domain.summaries`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

import msgspec

from jyntrix_domain.consolidation import Consolidator, Decision, Operation
from jyntrix_domain.currency import ChangeConfig, ChangeRule, end_spent_turns
from jyntrix_domain.errors import NotFound
from jyntrix_domain.fact_candidates import FactCandidate
from jyntrix_domain.memories import MemoryService, NewMemory
from jyntrix_domain.model import (
    Memory,
    MemoryFilter,
    MemoryId,
    MemoryKind,
    MemoryType,
    Message,
    Place,
    Role,
    UserId,
    form_aspect,
    stable_id,
)
from jyntrix_domain.ports import ConversationPorts, Extractor, LanguageModel
from jyntrix_domain.profiles import ProfileService
from jyntrix_domain.summaries import summary_text
from jyntrix_domain.tasks import extraction_key
from jyntrix_domain.turns import is_evidence, remember_turns, restates

log = logging.getLogger(__name__)


class ExtractionReport(msgspec.Struct, kw_only=True):
    """What one batch did: counts per operation and the memories written."""

    user_id: UserId
    conversation_id: str
    message_ids: tuple[str, ...]
    extractor: str = "none"
    added: int = 0
    updated: int = 0
    superseded: int = 0
    ignored: int = 0
    # Statements that a later statement of change ended (jyntrix_domain.currency.ChangeRule).
    ended: int = 0
    already_done: bool = False
    memory_ids: list[MemoryId] = msgspec.field(default_factory=list)
    decisions: list[Decision] = msgspec.field(default_factory=list)

    def count(self, decision: Decision) -> None:
        self.decisions.append(decision)
        match decision.operation:
            case Operation.ADD:
                self.added += 1
            case Operation.UPDATE:
                self.updated += 1
            case Operation.SUPERSEDE:
                self.superseded += 1
            case Operation.IGNORE:
                self.ignored += 1
        if decision.memory_id and decision.operation is not Operation.IGNORE:
            self.memory_ids.append(decision.memory_id)

    @property
    def created_ids(self) -> list[MemoryId]:
        """The memories this batch added: new facts and the successors of those it superseded."""
        made = (Operation.ADD, Operation.SUPERSEDE)
        return [d.memory_id for d in self.decisions if d.memory_id and d.operation in made]


_SUMMARY_MAX_MESSAGES = 200
# How many of the user's current facts an extractor is shown with a batch.
_KNOWN_LIMIT = 40
_FACTS = frozenset({MemoryKind.FACT})
# The slot of the user's own name, which the profile's display name follows.
NAME_SLOT = "name"


def without_authority(candidate: FactCandidate) -> FactCandidate:
    """A procedural candidate that is not a typed preference about the form of answers (`FormAspect`) is what
    the user asked, kept as an episodic memory with no authority over how the assistant behaves."""
    if candidate.type is not MemoryType.PROCEDURAL or form_aspect(candidate.type, candidate.slot) is not None:
        return candidate
    return msgspec.structs.replace(candidate, type=MemoryType.EPISODIC, slot=None, value=None)


def _restated(answer: Message) -> bool:
    """An answer its model marked as restating its context only (`LanguageModel.restates_only`)."""
    return answer.metadata.get("restates") is True


def batch_key(conversation_id: str, message_ids: Sequence[str]) -> str:
    """The idempotency key of one extraction batch (the ExtractMemories task's key)."""
    return extraction_key(conversation_id, message_ids)


class ExtractionService:
    """Extracts memories from a batch of messages and consolidates them; safe to run twice.

    Memory ids derive from (user, source message, slot or content), so a retried, duplicated or
    concurrently running batch writes each memory once (the store's add is insert-if-absent).
    A finished batch is claimed in the TaskLedger afterwards, never before, so a batch that
    failed half-way is done again, adding only what is missing.
    """

    def __init__(
        self,
        conversations: ConversationPorts,
        *,
        memories: MemoryService,
        extractor: Extractor,
        rules: Extractor | None = None,
        llm: LanguageModel | None = None,
        consolidator: Consolidator | None = None,
        change: ChangeConfig | None = None,
        profiles: ProfileService | None = None,
    ) -> None:
        self._ports = conversations
        self._memories = memories
        self._extractor = extractor
        # An extractor that needs no model: a session the model cannot summarise is told by its statements.
        self._rules = rules or extractor
        self._llm = llm
        self._consolidator = consolidator or Consolidator(memories, conversations.language)
        self._change = ChangeRule(memories, conversations.language, change)
        self._profiles = profiles

    async def extract(
        self, user_id: UserId, conversation_id: str, message_ids: Sequence[str], *, now: datetime | None = None
    ) -> ExtractionReport:
        """Extract and consolidate one batch; `now` dates what the extractor found no time for.

        The extractors read each message's time phrases against the message's own `created_at`
        (an imported transcript's time, not today); `now` (the task's, else the clock's) is the time
        of a fact that carries none, so an imported batch never lands on the day it was imported.
        """
        ids = tuple(dict.fromkeys(message_ids))
        report = ExtractionReport(user_id=user_id, conversation_id=conversation_id, message_ids=ids)
        key = batch_key(conversation_id, ids)
        if await self._ports.ledger.claimed(user_id, key):
            # Finished before (a redelivered task): skip it without paying for the model again.
            report.already_done = True
            return report
        messages = await self._ports.conversations.get_messages(user_id, ids)
        messages = sorted(
            (m for m in messages if m.conversation_id == conversation_id), key=lambda m: (m.created_at, m.id)
        )
        if ids and not messages:
            raise NotFound(f"no messages {list(ids)} in conversation {conversation_id}")
        await self._remember_answers(user_id, messages)
        known = await self._known(user_id, messages) if self._extractor.reads_known else []
        candidates = await self._extractor.extract(messages, known)
        at = now or self._ports.clock.now()
        candidates = [c if c.created_at is not None else msgspec.structs.replace(c, created_at=at) for c in candidates]
        # Per candidate, not per extractor: an LLM extractor may have fallen back to the rules for this batch.
        report.extractor = str(candidates[0].metadata.get("extractor", self._extractor.name)) if candidates else "none"
        for candidate in candidates:
            candidate = without_authority(candidate)
            decision = await self._consolidator.decide(user_id, candidate)
            decision = await self._consolidator.apply(user_id, decision)
            report.count(decision)
            await self._display_name(user_id, decision)
            if decision.operation is Operation.SUPERSEDE and decision.memory_id is not None:
                speakers = {m.name for m in messages if m.id in candidate.source_message_ids}
                speaker = speakers.pop() if len(speakers) == 1 else None
                await self._end_turns_of(user_id, decision, candidate.created_at or at, speaker)
        for message in messages:
            report.ended += len(await self._change.apply(user_id, message))
        report.already_done = not await self._ports.ledger.claim(user_id, key)
        return report

    async def _display_name(self, user_id: UserId, decision: Decision) -> None:
        """A name the user gave that became their current name is shown as their display name too."""
        candidate = decision.candidate
        made = decision.operation in (Operation.ADD, Operation.SUPERSEDE)
        if self._profiles is None or not made or candidate.slot != NAME_SLOT or not candidate.value:
            return
        replaced = await self._memories.get_many(user_id, decision.replaced) if decision.replaced else []
        await self._profiles.name_said(user_id, candidate.value, [m.value for m in replaced if m.value])

    async def _known(self, user_id: UserId, messages: Sequence[Message]) -> list[Memory]:
        """The user's current facts a batch may change: those holding a slot, and those sharing its words."""
        slotted = [
            m
            for m in await self._memories.list(user_id, MemoryFilter(kinds=_FACTS, limit=_KNOWN_LIMIT))
            if m.slot is not None
        ]
        said = " ".join(m.content for m in messages if m.role is Role.USER)
        near = await self._memories.word_matches(user_id, said, limit=_KNOWN_LIMIT) if said.strip() else []
        facts = {m.id: m for m in (*slotted, *near) if m.kind is MemoryKind.FACT}
        return list(facts.values())[:_KNOWN_LIMIT]

    async def _end_turns_of(self, user_id: UserId, decision: Decision, at: datetime, speaker: str | None) -> None:
        """The turns that said what the superseded facts said end with them (jyntrix_domain.currency)."""
        assert decision.memory_id is not None
        replaced = await self._memories.get_many(user_id, decision.replaced)
        sources = [m for r in replaced for m in r.source_message_ids]
        await end_spent_turns(self._memories, user_id, sources, by=decision.memory_id, at=at, speaker=speaker)

    async def _remember_answers(self, user_id: UserId, messages: Sequence[Message]) -> None:
        """The batch's assistant answers that say something new become turns: evidence of what the assistant
        said. One that only restates the memories it was given and the user's words adds nothing."""
        answers = [
            m
            for m in messages
            if m.role is Role.ASSISTANT
            and is_evidence(m, self._ports.language)
            and m.metadata.get("restates") is not True
        ]
        if not answers:
            return
        said = [m.content for m in messages if m.role is Role.USER]
        cited_ids = [i for a in answers for i in a.metadata.get("memories", ()) if isinstance(i, str)]
        cited = [m.content for m in await self._memories.get_many(user_id, cited_ids)]
        new = [a for a in answers if not restates(a.content, [*said, *cited], self._ports.language)]
        if new:
            await remember_turns(self._memories, user_id, new, language=self._ports.language)

    async def summarise_session(self, user_id: UserId, conversation_id: str) -> Memory | None:
        """An episodic memory summarising the conversation so far; None when it has no user message.

        The id is stable per (conversation, last message), so summarising again adds nothing;
        a newer summary of a conversation that went on supersedes the older one.
        """
        conversation = await self._ports.conversations.get(user_id, conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        messages = await self._ports.conversations.messages(user_id, conversation_id, limit=_SUMMARY_MAX_MESSAGES)
        said = [m for m in messages if m.role is Role.USER]
        if not said:
            return None
        last = messages[-1]
        memory_id = stable_id(user_id, "session-summary", conversation_id, last.id)
        try:
            return await self._memories.get(user_id, memory_id)
        except NotFound:
            pass
        day = last.created_at.date().isoformat()
        language = self._ports.language
        content = await summary_text(self._llm, self._rules, language, messages, day)
        new = NewMemory(
            id=memory_id,
            content=content,
            type=MemoryType.EPISODIC,
            kind=MemoryKind.SUMMARY,
            reliability=0.7,
            created_at=last.created_at,
            entities=tuple(dict.fromkeys(n for m in said for n in language.names_in(m.content)))[:20],
            source_message_ids=tuple(m.id for m in messages),
            place=Place(conversation_id=conversation_id, message_id=last.id),
        )
        earlier = await self._memories.list(
            user_id,
            MemoryFilter(
                types=frozenset({MemoryType.EPISODIC}),
                kinds=frozenset({MemoryKind.SUMMARY}),
                created_after=conversation.created_at,
                limit=200,
            ),
        )
        previous = [m for m in earlier if m.place is not None and m.place.conversation_id == conversation_id]
        if previous:
            successor: Memory | None = None
            for old in previous:
                # The newer summary tells all the older one did: the older one leaves search.
                successor = await self._memories.supersede(user_id, old.id, new, keep_findable=False)
            return successor
        return await self._memories.create(user_id, new)
