"""LLM extraction: facts from a language model's structured output, another extractor as fallback."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import msgspec

from jyntrix_domain.errors import Invalid, Unavailable, Unsupported
from jyntrix_domain.fact_candidates import FactCandidate, merge_fact_candidates
from jyntrix_domain.model import Memory, MemoryType, Message, Relation, Role
from jyntrix_domain.ports import Extractor, LanguageModel
from jyntrix_domain.prompts import ChatTurn, Prompt

log = logging.getLogger(__name__)


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
                    "op": {"type": "string", "enum": ["add", "replace", "end"]},
                    "replaces": {"type": "array", "items": {"type": "string"}},
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
    'Return {"memories": []} when there is nothing worth remembering.\n'
    "You are given the user's current facts, each with its id. When a message changes one (the user moved, "
    'changed jobs, switched apps, stopped a hobby, broke up...), give op "replace" with the new fact and '
    '"replaces": [the ids it makes untrue]; when it only ends one, op "end" with a short statement that it '
    'ended (e.g. "The user no longer trains for the half marathon") and "replaces": [its id]. Otherwise op '
    '"add". Never repeat a current fact unchanged.'
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
    op: str = "add"
    replaces: list[str] = msgspec.field(default_factory=list)


class _LLMOutput(msgspec.Struct, frozen=True):
    memories: list[_LLMMemory]


class LLMExtractor:
    """A language model's structured output; the `fallback` extractor (rules) when the model cannot give it.

    Falls back when the model raises Unsupported or Unavailable, or answers something that is
    not the schema's JSON. Only the user's messages are shown to the model.
    """

    name = "llm"
    reads_known = True

    def __init__(self, llm: LanguageModel, fallback: Extractor) -> None:
        self._llm = llm
        self._fallback = fallback

    async def extract(self, messages: Sequence[Message], known: Sequence[Memory] = ()) -> list[FactCandidate]:
        said = [m for m in messages if m.role is Role.USER]
        if not said:
            return []
        transcript = "\n".join(f"[{m.created_at.date().isoformat()}] {m.content}" for m in said)
        facts = "\n".join(f"[{m.id}] ({m.slot or 'no slot'}) {m.content}" for m in known)
        asked = f"Current facts:\n{facts or '(none)'}\n\nMessages:\n{transcript}"
        prompt = Prompt(system=EXTRACTION_PROMPT, messages=(ChatTurn(role=Role.USER, content=asked),))
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
            log.info("structured extraction unavailable (%s); using the %s extractor", exc, self._fallback.name)
            return await self._fallback.extract(messages, known)
        sources = tuple(m.id for m in said)
        at = said[-1].created_at
        # Only ids it was given: a model cannot end what it was not shown (or another user's memory).
        shown = {m.id for m in known}
        out = []
        for item in output.memories:
            content = item.content.strip()
            if not content:
                continue
            out.append(
                FactCandidate(
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
                    replaces=tuple(i for i in item.replaces if i in shown) if item.op in ("replace", "end") else (),
                    source_message_ids=sources,
                    created_at=at,
                    metadata={"extractor": self.name},
                )
            )
        return merge_fact_candidates(out)


def _decode_output(raw: Any) -> _LLMOutput:
    if isinstance(raw, (str, bytes)):
        return msgspec.json.decode(raw, type=_LLMOutput)
    return msgspec.convert(raw, _LLMOutput)
