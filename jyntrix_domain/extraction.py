"""Extraction: turn a user's new messages into memory operations (add / update / supersede / ignore).

Three parts, each usable alone:

- `DeterministicExtractor`: rules for common first-person statements; no model needed.
- `LLMExtractor`: a language model's structured output, falling back to the rules.
- `Consolidator`: decides, per candidate, what to do against the user's current memories.

`ExtractionService` ties them to the stores and makes a batch idempotent: every memory id is
derived from (user, source message, slot or content), so a retried or duplicated task, even two
workers racing on the same batch, writes each memory once.

Slots
-----
A slot names a fact that has one current value per user. A candidate carries ``slot`` and
``value``; its memory keeps them in ``metadata`` so later candidates can find it:

==========================  ==========================================================
slot                        meaning (value)
==========================  ==========================================================
name, age, nationality      identity (the name, the age, the nationality)
location, hometown,         where the user lives / comes from / was born (the place)
birthplace
job, employer, school,      work and study (job title, organisation, subject)
studies
birthday                    the birthday as said
diet                        vegetarian, vegan, ..., or "not vegetarian"
habit:<verb> <thing>        a habit ("yes") or its absence ("no"): "habit:drink coffee",
                            "habit:smoke"; how often is left out of the slot
relation:<r>                single-valued relations: wife, husband, partner, boss,
                            mother, father, ... (the person's name)
relation:<r>:<name>         multi-valued relations: sister, friend, dog, ... (the name);
                            one slot per person, so a second sister never replaces the first;
                            relation:met:<name> for someone the user met
preference:<thing>          like or dislike of a thing ("positive" / "negative")
favourite:<category>        the favourite thing of a category
allergy:<thing>             an allergy ("allergic")
children                    how many children
rule:language               the language answers should be in
==========================  ==========================================================

Consolidation rules, in order (the first that applies wins):

1. The candidate's own stable id is already stored: ``ignore`` (a retried batch).
2. The candidate contradicts other slots' values (its ``contradicts``: "The user doesn't drink
   coffee" ends "The user loves coffee", "The user eats meat" ends "The user is vegetarian") and
   current memories hold them: ``supersede`` those, with the candidate's own slot holders and
   same-content memories, so the restated fact is again the newest.
3. A current memory of the same type has the same normalised content, or a token overlap
   (Jaccard) of at least 0.9: ``ignore``.
4. The candidate has a slot and a current memory holds that slot:
   same value and same content: ``ignore``; same value, other wording: ``update``;
   a new value that extends the old one (all old value tokens kept, e.g. "Berlin" then
   "Berlin, Germany"): ``update``; any other value: ``supersede`` every holder of the slot.
5. No slot: a current memory whose content words (at least two) are a strict subset of the
   candidate's, covering at least half of them, is a less specific statement of the same fact:
   ``update`` it.
6. Otherwise: ``add``.

Memories of the same type are looked up by a search with the candidate's content and, for
slotted candidates, by listing memories whose content contains the slot's fixed wording
(``anchor``), so a slot holder is found even when search ranks it low.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Sequence
from typing import Any, Protocol

import msgspec

from jyntrix_domain.errors import Invalid, NotFound, Unavailable, Unsupported
from jyntrix_domain.fact_rules import (
    USER,
    Candidate,
    DeterministicExtractor,
    content_words,
    jaccard,
    merge_candidates,
    normalise,
)
from jyntrix_domain.language.names import capitalised_names
from jyntrix_domain.language.person import third_person
from jyntrix_domain.language.time_phrases import resolve_date
from jyntrix_domain.memories import MemoryService, NewMemory
from jyntrix_domain.model import (
    ChatTurn,
    Memory,
    MemoryFilter,
    MemoryId,
    MemoryType,
    Message,
    Prompt,
    Relation,
    Role,
    UserId,
    stable_id,
)
from jyntrix_domain.ports import Clock, ConversationStore, LanguageModel

log = logging.getLogger(__name__)


class Operation(enum.StrEnum):
    ADD = "add"
    UPDATE = "update"
    SUPERSEDE = "supersede"
    IGNORE = "ignore"


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    operation: Operation
    candidate: Candidate
    memory_id: MemoryId | None = None
    replaced: tuple[MemoryId, ...] = ()
    reason: str = ""


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


class Extractor(Protocol):
    name: str

    async def extract(self, messages: Sequence[Message]) -> list[Candidate]: ...


# --------------------------------------------------------------------------- LLM extraction

EXTRACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "memories": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": [t.value for t in MemoryType]},
                    "content": {"type": "string"},
                    "reliability": {"type": "number", "minimum": 0, "maximum": 1},
                    "entities": {"type": "array", "items": {"type": "string"}},
                    "relations": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "source": {"type": "string"},
                                "predicate": {"type": "string"},
                                "target": {"type": "string"},
                            },
                            "required": ["source", "predicate", "target"],
                        },
                    },
                    "slot": {"type": "string"},
                    "value": {"type": "string"},
                },
                "required": ["type", "content"],
            },
        }
    },
    "required": ["memories"],
}

EXTRACTION_PROMPT = (
    "You extract long-term memories about the user from the user's own messages.\n"
    'Return JSON: {"memories": [...]}, each with type (profile: identity such as name, age, location, job; '
    "semantic: preferences, relations, facts; procedural: how the user wants you to answer; episodic: dated "
    'events and plans), content (one short sentence in the third person about "the user", e.g. '
    '"The user lives in Berlin"), reliability 0..1, entities (proper names), relations '
    '[{source, predicate, target}] with source "user" for the user, and optionally slot and value for facts '
    "that have one current value (slots: name, age, location, job, employer, relation:<relation>, "
    "preference:<thing>, rule:language).\n"
    "Only what the user states about themselves or their world; nothing from assistant messages; "
    "no small talk, no questions; resolve relative dates to absolute ones when given the message date. "
    'Return {"memories": []} when there is nothing worth remembering.'
)


class _LLMRelation(msgspec.Struct, frozen=True):
    source: str
    predicate: str
    target: str


class _LLMMemory(msgspec.Struct, frozen=True):
    type: MemoryType
    content: str
    reliability: float = 0.8
    entities: list[str] = msgspec.field(default_factory=list)
    relations: list[_LLMRelation] = msgspec.field(default_factory=list)
    slot: str | None = None
    value: str | None = None


class _LLMOutput(msgspec.Struct, frozen=True):
    memories: list[_LLMMemory]


class LLMExtractor:
    """A language model's structured output; the deterministic rules when the model cannot give it.

    Falls back when the model raises Unsupported or Unavailable, or answers something that is
    not the schema's JSON. Only the user's messages are shown to the model.
    """

    name = "llm"

    def __init__(self, llm: LanguageModel, fallback: DeterministicExtractor | None = None) -> None:
        self._llm = llm
        self._fallback = fallback or DeterministicExtractor()

    async def extract(self, messages: Sequence[Message]) -> list[Candidate]:
        said = [m for m in messages if m.role is Role.USER]
        if not said:
            return []
        transcript = "\n".join(f"[{m.created_at.date().isoformat()}] {m.content}" for m in said)
        prompt = Prompt(system=EXTRACTION_PROMPT, messages=(ChatTurn(role=Role.USER, content=transcript),))
        try:
            raw = await self._llm.structured(prompt, EXTRACTION_SCHEMA)
            output = _decode_output(raw)
        except (
            Unsupported,
            Unavailable,
            Invalid,
            msgspec.ValidationError,
            msgspec.DecodeError,
            TypeError,
            ValueError,
        ) as exc:
            log.info("structured extraction unavailable (%s); using the deterministic rules", exc)
            return await self._fallback.extract(messages)
        sources = tuple(m.id for m in said)
        at = said[-1].created_at
        out = []
        for item in output.memories:
            content = item.content.strip()
            if not content:
                continue
            out.append(
                Candidate(
                    type=item.type,
                    content=content,
                    reliability=min(1.0, max(0.0, item.reliability)),
                    entities=tuple(e.strip() for e in item.entities if e.strip()),
                    relations=tuple(
                        Relation(source=r.source, predicate=r.predicate.replace(" ", "_"), target=r.target)
                        for r in item.relations
                        if r.source.strip() and r.predicate.strip() and r.target.strip()
                    ),
                    slot=item.slot or None,
                    value=item.value or None,
                    source_message_ids=sources,
                    created_at=at,
                    metadata={"extractor": self.name},
                )
            )
        return merge_candidates(out)


def _decode_output(raw: Any) -> _LLMOutput:
    if isinstance(raw, (str, bytes)):
        return msgspec.json.decode(raw, type=_LLMOutput)
    return msgspec.convert(raw, _LLMOutput)


# --------------------------------------------------------------------------- consolidation

_SEARCH_LIMIT = 10
_ANCHOR_LIMIT = 50


def candidate_id(user_id: UserId, candidate: Candidate) -> MemoryId:
    """The stable id of the memory a candidate would become: same batch, same id."""
    source = candidate.source_message_ids[0] if candidate.source_message_ids else ""
    what = f"slot={candidate.slot}" if candidate.slot else f"content={normalise(candidate.content)}"
    return stable_id(user_id, source, candidate.type.value, what)


def _extends(old: str, new: str) -> bool:
    old_t, new_t = content_words(old), content_words(new)
    return bool(old_t) and old_t < new_t


class Consolidator:
    """Decides add / update / supersede / ignore for each candidate against the user's current memories.

    The rules are in this module's docstring; `apply` carries the decision out through MemoryService.
    """

    def __init__(self, memories: MemoryService) -> None:
        self._memories = memories

    async def similar(self, user_id: UserId, candidate: Candidate) -> list[Memory]:
        """The user's current memories of the candidate's type that may state the same fact."""
        types = frozenset({candidate.type})
        found: dict[MemoryId, Memory] = {}
        try:
            # A lookup, not a user's search: kept out of the strategy analytics.
            similar = await self._memories.search(
                user_id, candidate.content, limit=_SEARCH_LIMIT, types=types, record=False
            )
            for ranked in similar:
                found[ranked.memory.id] = ranked.memory
        except Invalid:
            pass
        if candidate.anchor:
            listed = await self._memories.list(
                user_id, MemoryFilter(types=types, contains=candidate.anchor, limit=_ANCHOR_LIMIT)
            )
            for memory in listed:
                found.setdefault(memory.id, memory)
        return [m for m in found.values() if m.is_current and m.type is candidate.type]

    async def contradicted(self, user_id: UserId, candidate: Candidate) -> list[Memory]:
        """The user's current memories holding a slot value the candidate makes false."""
        found: dict[MemoryId, Memory] = {}
        for c in candidate.contradicts:
            # Of the candidate's type, like `similar`: a contradiction is between facts of one kind.
            listed = await self._memories.list(
                user_id, MemoryFilter(types=frozenset({candidate.type}), contains=c.anchor, limit=_ANCHOR_LIMIT)
            )
            values = {v.casefold() for v in c.values}
            for memory in listed:
                value = str(memory.metadata.get("value") or "").casefold()
                if memory.is_current and memory.metadata.get("slot") == c.slot and value in values:
                    found[memory.id] = memory
        return list(found.values())

    async def decide(self, user_id: UserId, candidate: Candidate) -> Decision:
        own_id = candidate_id(user_id, candidate)
        try:
            await self._memories.get(user_id, own_id)
            return Decision(operation=Operation.IGNORE, candidate=candidate, memory_id=own_id, reason="already stored")
        except NotFound:
            pass
        existing = await self.similar(user_id, candidate)
        content = normalise(candidate.content)
        tokens = content_words(candidate.content)
        contradicted = await self.contradicted(user_id, candidate)
        if contradicted:
            same = [
                m
                for m in existing
                if (candidate.slot and m.metadata.get("slot") == candidate.slot) or normalise(m.content) == content
            ]
            replaced = {m.id: m for m in (*same, *contradicted)}
            return Decision(
                operation=Operation.SUPERSEDE,
                candidate=candidate,
                replaced=tuple(m.id for m in sorted(replaced.values(), key=lambda m: (m.created_at, m.id))),
                reason="contradicts " + ", ".join(sorted({str(m.metadata.get("slot")) for m in contradicted})),
            )
        for memory in existing:
            if normalise(memory.content) == content or jaccard(content_words(memory.content), tokens) >= 0.9:
                return Decision(
                    operation=Operation.IGNORE, candidate=candidate, memory_id=memory.id, reason="same content"
                )
        if candidate.slot:
            holders = [m for m in existing if m.metadata.get("slot") == candidate.slot]
            if holders:
                newest = max(holders, key=lambda m: m.created_at)
                old_value = str(newest.metadata.get("value") or "")
                new_value = candidate.value or ""
                if old_value.casefold() == new_value.casefold():
                    return Decision(
                        operation=Operation.UPDATE, candidate=candidate, memory_id=newest.id, reason="reworded"
                    )
                if old_value and _extends(old_value, new_value):
                    return Decision(
                        operation=Operation.UPDATE, candidate=candidate, memory_id=newest.id, reason="more specific"
                    )
                return Decision(
                    operation=Operation.SUPERSEDE,
                    candidate=candidate,
                    replaced=tuple(m.id for m in sorted(holders, key=lambda m: m.created_at)),
                    reason=f"new value for {candidate.slot}",
                )
        else:
            for memory in existing:
                old = content_words(memory.content)
                if memory.metadata.get("slot") is None and old < tokens and 2 <= len(old) >= len(tokens) / 2:
                    return Decision(
                        operation=Operation.UPDATE, candidate=candidate, memory_id=memory.id, reason="more specific"
                    )
        return Decision(operation=Operation.ADD, candidate=candidate, reason="new")

    async def apply(self, user_id: UserId, decision: Decision) -> Decision:
        """Carry the decision out; returns it with the id of the memory written."""
        candidate = decision.candidate
        match decision.operation:
            case Operation.IGNORE:
                return decision
            case Operation.ADD:
                memory = await self._memories.create(user_id, self._new(user_id, candidate))
                return msgspec.structs.replace(decision, memory_id=memory.id)
            case Operation.UPDATE:
                assert decision.memory_id is not None
                current = await self._memories.get(user_id, decision.memory_id)
                metadata = dict(current.metadata)
                metadata.update(self._metadata(candidate))
                await self._memories.update(
                    user_id,
                    decision.memory_id,
                    content=candidate.content,
                    reliability=max(current.reliability, candidate.reliability),
                    entities=tuple(dict.fromkeys((*current.entities, *candidate.entities))),
                    metadata=metadata,
                    source_message_ids=candidate.source_message_ids,
                )
                return decision
            case Operation.SUPERSEDE:
                new = self._new(user_id, candidate)
                successor: Memory | None = None
                for old_id in decision.replaced:
                    successor = await self._memories.supersede(user_id, old_id, new)
                assert successor is not None
                return msgspec.structs.replace(decision, memory_id=successor.id)
        raise AssertionError(decision.operation)  # pragma: no cover

    @staticmethod
    def _metadata(candidate: Candidate) -> dict[str, Any]:
        metadata = dict(candidate.metadata)
        if candidate.slot:
            metadata["slot"] = candidate.slot
            metadata["value"] = candidate.value
        return metadata

    def _new(self, user_id: UserId, candidate: Candidate) -> NewMemory:
        return NewMemory(
            id=candidate_id(user_id, candidate),
            content=candidate.content,
            type=candidate.type,
            reliability=candidate.reliability,
            created_at=candidate.created_at,
            entities=candidate.entities,
            relations=candidate.relations,
            source_message_ids=candidate.source_message_ids,
            metadata={"extracted": True, **self._metadata(candidate)},
        )


# --------------------------------------------------------------------------- the service

SUMMARY_PROMPT = (
    "Summarise this conversation for the assistant's long-term memory in two or three sentences, "
    'in the third person about "the user": what the user said about themselves, asked for, decided '
    "or planned. Start with the date given."
)
SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"summary": {"type": "string"}},
    "required": ["summary"],
}
_SUMMARY_MAX_MESSAGES = 200


class _Summary(msgspec.Struct, frozen=True):
    summary: str


def batch_key(conversation_id: str, message_ids: Sequence[str]) -> str:
    """The idempotency key of one extraction batch."""
    return f"extracted:{conversation_id}:{','.join(message_ids)}"


class ExtractionService:
    """Extracts memories from a batch of messages and consolidates them; safe to run twice.

    Memory ids derive from (user, source message, slot or content), so a retried, duplicated or
    concurrently running batch writes each memory once (the store's add is insert-if-absent).
    A finished batch is claimed in the ConversationStore afterwards, never before, so a batch
    that failed half-way is done again, adding only what is missing.
    """

    def __init__(
        self,
        *,
        conversations: ConversationStore,
        memories: MemoryService,
        clock: Clock,
        extractor: Extractor | None = None,
        llm: LanguageModel | None = None,
        consolidator: Consolidator | None = None,
    ) -> None:
        self._conversations = conversations
        self._memories = memories
        self._clock = clock
        self._extractor: Extractor = extractor or (LLMExtractor(llm) if llm is not None else DeterministicExtractor())
        self._llm = llm
        self._consolidator = consolidator or Consolidator(memories)

    async def extract(self, user_id: UserId, conversation_id: str, message_ids: Sequence[str]) -> ExtractionReport:
        ids = tuple(dict.fromkeys(message_ids))
        report = ExtractionReport(user_id=user_id, conversation_id=conversation_id, message_ids=ids)
        key = batch_key(conversation_id, ids)
        if await self._conversations.claimed(user_id, key):
            # Finished before (a redelivered task): skip it without paying for the model again.
            report.already_done = True
            return report
        messages = await self._conversations.get_messages(user_id, ids)
        messages = sorted(
            (m for m in messages if m.conversation_id == conversation_id), key=lambda m: (m.created_at, m.id)
        )
        if ids and not messages:
            raise NotFound(f"no messages {list(ids)} in conversation {conversation_id}")
        candidates = await self._extractor.extract(messages)
        # Per candidate, not per extractor: an LLM extractor may have fallen back to the rules for this batch.
        report.extractor = str(candidates[0].metadata.get("extractor", self._extractor.name)) if candidates else "none"
        for candidate in candidates:
            decision = await self._consolidator.decide(user_id, candidate)
            report.count(await self._consolidator.apply(user_id, decision))
        report.already_done = not await self._conversations.claim(user_id, key)
        return report

    async def summarise_session(self, user_id: UserId, conversation_id: str) -> Memory | None:
        """An episodic memory summarising the conversation so far; None when it has no user message.

        The id is stable per (conversation, last message), so summarising again adds nothing;
        a newer summary of a conversation that went on supersedes the older one.
        """
        conversation = await self._conversations.get(user_id, conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        messages = await self._conversations.messages(user_id, conversation_id, limit=_SUMMARY_MAX_MESSAGES)
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
        content = await self._summary_text(messages, day)
        new = NewMemory(
            id=memory_id,
            content=content,
            type=MemoryType.EPISODIC,
            reliability=0.7,
            created_at=last.created_at,
            entities=tuple(dict.fromkeys(n for m in said for n in capitalised_names(m.content)))[:20],
            source_message_ids=tuple(m.id for m in messages),
            metadata={"kind": "session_summary", "conversation_id": conversation_id, "last_message_id": last.id},
        )
        earlier = await self._memories.list(
            user_id,
            MemoryFilter(types=frozenset({MemoryType.EPISODIC}), created_after=conversation.created_at, limit=200),
        )
        previous = [
            m
            for m in earlier
            if m.metadata.get("kind") == "session_summary" and m.metadata.get("conversation_id") == conversation_id
        ]
        if previous:
            successor: Memory | None = None
            for old in previous:
                successor = await self._memories.supersede(user_id, old.id, new)
            return successor
        return await self._memories.create(user_id, new)

    async def _summary_text(self, messages: Sequence[Message], day: str) -> str:
        # Structured output, not complete(): a chat-only model (the offline responder) would
        # answer the transcript instead of summarising it; such models raise Unsupported here.
        if self._llm is not None:
            transcript = "\n".join(f"{m.role.value}: {m.content}" for m in messages)
            prompt = Prompt(
                system=SUMMARY_PROMPT,
                messages=(ChatTurn(role=Role.USER, content=f"Date: {day}\n\n{transcript}"),),
            )
            try:
                raw = await self._llm.structured(prompt, SUMMARY_SCHEMA)
                if isinstance(raw, (str, bytes)):
                    text = msgspec.json.decode(raw, type=_Summary).summary.strip()
                else:
                    text = msgspec.convert(raw, _Summary).summary.strip()
                if text:
                    return text
            except (Unsupported, Unavailable, Invalid, msgspec.ValidationError, msgspec.DecodeError) as exc:
                log.info("no session summary from the model (%s); using the deterministic summary", exc)
        return deterministic_summary(messages, day)


def deterministic_summary(messages: Sequence[Message], day: str) -> str:
    """The user's main statements, or else the topics they raised, with the date."""
    said = [m for m in messages if m.role is Role.USER]
    extractor = DeterministicExtractor()
    statements: list[str] = []
    for message in said:
        for candidate in extractor.extract_text(message.content, message.created_at):
            if candidate.content not in statements:
                statements.append(candidate.content)
    if statements:
        return f"Conversation on {day}. " + " ".join(f"{s}." for s in statements[:8])
    topics: list[str] = []
    for message in said:
        for name in capitalised_names(message.content):
            if name not in topics:
                topics.append(name)
    first = " ".join(said[0].content.split())[:160]
    about = f" about {', '.join(topics[:6])}" if topics else ""
    return f'Conversation on {day}{about}. The user began with: "{first}"'


__all__ = [
    "EXTRACTION_SCHEMA",
    "USER",
    "Candidate",
    "Consolidator",
    "Decision",
    "DeterministicExtractor",
    "ExtractionReport",
    "ExtractionService",
    "Extractor",
    "LLMExtractor",
    "Operation",
    "batch_key",
    "candidate_id",
    "deterministic_summary",
    "resolve_date",
    "third_person",
]
