"""Session summaries: a conversation condensed into one episodic memory, by a model or by the rules."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import msgspec

from jyntrix_domain.errors import Invalid, Unavailable, Unsupported
from jyntrix_domain.model import Message, Role
from jyntrix_domain.ports import Extractor, Language, LanguageModel
from jyntrix_domain.prompts import ChatTurn, Prompt

log = logging.getLogger(__name__)

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


class _Summary(msgspec.Struct, frozen=True):
    summary: str


async def summary_text(
    llm: LanguageModel | None, rules: Extractor, language: Language, messages: Sequence[Message], day: str
) -> str:
    """The model's summary of the conversation on `day`, or the deterministic one (the statements `rules`
    reads, else the names `language` finds) when the model gives none."""
    # Structured output, not complete(): a chat-only model (the offline responder) would
    # answer the transcript instead of summarising it; such models raise Unsupported here.
    if llm is not None:
        transcript = "\n".join(f"{m.role.value}: {m.content}" for m in messages)
        prompt = Prompt(
            system=SUMMARY_PROMPT,
            messages=(ChatTurn(role=Role.USER, content=f"Date: {day}\n\n{transcript}"),),
        )
        try:
            raw = await llm.structured(prompt, SUMMARY_SCHEMA)
            if isinstance(raw, (str, bytes)):
                text = msgspec.json.decode(raw, type=_Summary).summary.strip()
            else:
                text = msgspec.convert(raw, _Summary).summary.strip()
            if text:
                return text
        except (Unsupported, Unavailable, Invalid, msgspec.ValidationError, msgspec.DecodeError) as exc:
            log.info("no session summary from the model (%s); using the deterministic summary", exc)
    return await deterministic_summary(rules, language, messages, day)


async def deterministic_summary(rules: Extractor, language: Language, messages: Sequence[Message], day: str) -> str:
    """The user's main statements (what `rules` reads in them), or else the topics they raised (the names
    `language` finds in them), with the date."""
    said = [m for m in messages if m.role is Role.USER]
    statements: list[str] = []
    for message in said:
        for candidate in await rules.extract([message]):
            if candidate.content not in statements:
                statements.append(candidate.content)
    if statements:
        return f"Conversation on {day}. " + " ".join(f"{s}." for s in statements[:8])
    topics: list[str] = []
    for message in said:
        for name in language.names_in(message.content):
            if name not in topics:
                topics.append(name)
    first = " ".join(said[0].content.split())[:160]
    about = f" about {', '.join(topics[:6])}" if topics else ""
    return f'Conversation on {day}{about}. The user began with: "{first}"'
