"""The default LanguageModel when no API key is set: a grounded, extractive responder.

It answers only from the memories placed in the prompt (`prompt.context_items`): it restates the
best one or two that the domain marked `relevant` (from retrieval's signals; it decides nothing about
relevance itself) in the second person, cites them by their reference numbers, says plainly when none
is relevant, and acknowledges what the user states, so the product works end to end without any model service.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from jyntrix_domain.errors import Unsupported
from jyntrix_domain.language.person import addressed, restate, used_to
from jyntrix_domain.language.stopwords import ANSWER_STOPWORDS
from jyntrix_domain.language.time_phrases import time_phrase_span
from jyntrix_domain.model import Chunk, Completion, ContextItem, Period, Prompt, Role, Usage

NOTHING_REMEMBERED = "I don't have anything remembered about that yet."

_WORD = re.compile(r"[\w']+", re.UNICODE)
_PIECE = re.compile(r"\S+\s*|\s+")
_QUESTION_TEXT = """what where who whom whose when why how which do does did is are was were can could will would
    should have has tell remind recall any"""
_QUESTION_START = frozenset(_QUESTION_TEXT.split())
_GREETING_TEXT = "hi hello hey hallo hola morning evening thanks thank"
_GREETINGS = frozenset(_GREETING_TEXT.split())
_SELF_ACCOUNT = frozenset({"me", "myself", "i"})


def stem(word: str) -> str:
    """A light suffix stripper: enough for "lives"/"living"/"lived" to meet "live"."""
    word = word.casefold().removesuffix("'s").strip("'")
    for suffix, keep in (("ies", 3), ("ing", 4), ("ed", 3), ("es", 4), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep and not word.endswith("ss"):
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


def content_terms(text: str) -> set[str]:
    return {stem(w) for w in _WORD.findall(text.casefold()) if w not in ANSWER_STOPWORDS and len(w) > 1}


def question_terms(message: str) -> set[str]:
    """The terms a message is matched to memories on; its time phrase's words only when nothing else is left.

    Retrieval has already kept the memories of the time a message names ("last week"), so those
    words would only match memories that happen to say "week".
    """
    terms = content_terms(message)
    span = time_phrase_span(message)
    if span is None:
        return terms
    return content_terms(message[: span[0]] + " " + message[span[1] :]) or terms


def is_question(text: str) -> bool:
    words = _WORD.findall(text.casefold())
    return text.rstrip().endswith("?") or (bool(words) and words[0] in _QUESTION_START)


# "Caroline: I went…": a turn someone else said, restated as said.
_SPEAKER = re.compile(r"^[\w][\w .'-]{0,60}:\s")


_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def when_said(period: Period) -> str:
    """A time in words: "on 14 June 2023", "in March 2023", "in 2023", or "between ... and ..."."""
    start, days = period.start, (period.end - period.start).days
    if days <= 1:
        return f"on {_day(start)}"
    if start.day == 1 and 28 <= days <= 31:
        return f"in {_MONTHS[start.month - 1]} {start.year}"
    if start.month == 1 and start.day == 1 and days in (365, 366):
        return f"in {start.year}"
    last = period.end - timedelta(days=1)
    return f"between {_day(start)} and {_day(last)}"


def _day(at: datetime) -> str:
    return f"{at.day} {_MONTHS[at.month - 1]} {at.year}"


def _as_sentence(item: ContextItem, *, asks_when: bool = False) -> str:
    """A memory spoken to the user: facts about "the user" and the user's own words, in the second person;
    one that is no longer true in the past, with when it ended; when asked, when it happened."""
    content = " ".join(item.content.split()).rstrip(".!;, ")
    if not item.current:
        content = used_to(content)
    content = addressed(content)
    if not _SPEAKER.match(content):
        content = restate(content)
    if not item.current and item.valid_until is not None:
        content += f" (until {_MONTHS[item.valid_until.month - 1]} {item.valid_until.year})"
    if asks_when and item.occurred is not None:
        when = when_said(item.occurred)
        if when.split(" ", 1)[1].casefold() not in content.casefold():
            content += f" ({when})"
    return content[:1].upper() + content[1:]


def _best(items: Sequence[ContextItem], count: int) -> list[ContextItem]:
    """The `count` best-scored items, in the order of their reference numbers."""
    chosen = sorted(items, key=lambda i: (-i.score, i.ref))[:count]
    return sorted(chosen, key=lambda i: i.ref)


class OfflineLanguageModel:
    """Deterministic and grounded: the same prompt always gets the same answer, built from the prompt's memories.

    Streams its answer word by word; `per_token_delay_s` paces the stream like a real model.
    Structured output is unsupported, so extraction uses the deterministic extractor.
    """

    def __init__(self, per_token_delay_s: float = 0.0, max_cited: int = 2) -> None:
        self._delay = per_token_delay_s
        self._max_cited = max_cited

    @property
    def name(self) -> str:
        return "offline"

    @property
    def restates_only(self) -> bool:
        """Extractive: it only restates the memories and messages in its prompt."""
        return True

    async def stream(self, prompt: Prompt) -> AsyncIterator[Chunk]:
        text = self.answer(prompt)
        for piece in _PIECE.findall(text):
            await asyncio.sleep(self._delay)
            yield Chunk(text=piece)
        yield Chunk(usage=self._usage(prompt, text))

    async def complete(self, prompt: Prompt) -> Completion:
        text = self.answer(prompt)
        return Completion(text=text, usage=self._usage(prompt, text))

    async def structured(self, prompt: Prompt, schema: Mapping[str, Any]) -> Any:
        raise Unsupported("the offline responder has no structured output; use the deterministic extractor")

    def answer(self, prompt: Prompt) -> str:
        """The whole answer to `prompt`, as stream() and complete() give it, ended at its first stop sequence."""
        return prompt.until_stop(self._reply(prompt))

    def _reply(self, prompt: Prompt) -> str:
        message = next((t.content for t in reversed(prompt.messages) if t.role == Role.USER), "").strip()
        if not message:
            return "I'm here. Tell me something about yourself, or ask me what I remember."
        question = is_question(message)
        terms = question_terms(message)
        words = {w.casefold() for w in _WORD.findall(message)}
        if words and words <= _GREETINGS | {"there", "you"}:
            return "Hello! Tell me something about yourself and I'll remember it."
        if not terms and words & _SELF_ACCOUNT and question:
            # "what do you know about me?": everything in context is relevant
            cited = _best(prompt.context_items, 3)
        else:
            cited = _best([i for i in prompt.context_items if i.relevant], self._max_cited)
        parts: list[str] = []
        if not question:
            parts.append(f"Noted: {restate(message)}.")
        if cited:
            lead = "Here is what I remember:" if question else "Related to that, I remember:"
            asks_when = bool(re.match(r"(?i)\s*when\b", message))
            said: dict[str, str] = {}
            for item in cited:
                sentence = _as_sentence(item, asks_when=asks_when)
                # Two memories that read the same are said once.
                said.setdefault(sentence.casefold(), f"{sentence} [{item.ref}].")
            facts = " ".join(said.values())
            parts.append(f"{lead} {facts}")
        elif question:
            parts.append(NOTHING_REMEMBERED)
        return " ".join(parts)

    @staticmethod
    def _usage(prompt: Prompt, text: str) -> Usage:
        words_in = len(prompt.render_system().split()) + sum(len(t.content.split()) for t in prompt.messages)
        return Usage(input_tokens=words_in, output_tokens=len(text.split()))
