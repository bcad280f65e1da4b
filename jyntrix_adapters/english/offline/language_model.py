"""The default LanguageModel when no API key is set: a grounded, extractive responder.

It answers only from what its prompt holds: the memories placed in it (`prompt.context_items`) and what the
user said earlier in the conversation or request (`prompt.messages`), read as `Evidence`
(jyntrix_adapters.english.offline.evidence). It restates, in the second person, the pieces that answer the question:
those that name its words or its attribute first, else those the domain marked `relevant` (from retrieval's
signals); every piece of a set asked about whole ("what pets do I have?"); what holds now, for a question
about now, when anything found does; what held before, for a question about before, where what the question
is relative to ("before Amsterdam") does not count as naming it. It cites memories by their reference
numbers, says plainly when nothing answers, and acknowledges what the user states, adding a remembered note
only when it shares a word with the statement.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from jyntrix_adapters.english.offline.evidence import (
    Evidence,
    attributes,
    best,
    from_item,
    headed,
    is_question,
    others_terms,
    owned_terms,
    question_terms,
    said_earlier,
    shared_terms,
)
from jyntrix_adapters.english.offline.phrasing import as_sentence, held_before, tells_of_the_past, without_opening
from jyntrix_adapters.english.person import addressed, restate
from jyntrix_adapters.english.speech_acts import asks_history, befores
from jyntrix_adapters.english.tense import Tense, tense_of
from jyntrix_domain.english_time_phrases import time_phrase_span
from jyntrix_domain.errors import Unsupported
from jyntrix_domain.model import Role
from jyntrix_domain.prompts import Chunk, Completion, Prompt, Usage
from jyntrix_domain.terms import word_tokens

__all__ = ["NOTHING_REMEMBERED", "OfflineLanguageModel", "addressed"]

NOTHING_REMEMBERED = "I don't have anything remembered about that yet."

_PIECE = re.compile(r"\S+\s*|\s+")
_GREETING_TEXT = "hi hello hey hallo hola morning evening thanks thank"
_GREETINGS = frozenset(_GREETING_TEXT.split())
_SELF_ACCOUNT = frozenset({"me", "myself", "i"})
# "what pets…", "which animals…", "who is in my family": a question about every member of a set.
_SET_QUESTION = re.compile(r"(?i)^\s*(?:what|which)\s+(?:kinds? of\s+)?(\w+s)\b|\b(?:all|every|each)\s+(?:of\s+)?my\b")
_COLLECTIVE = frozenset({"family"})
_MAX_SET = 8
_ONLY_PAST = re.compile(r"(?i)\b(?:previous(?:ly)?|former(?:ly)?|used to|ex)\b")


def _asks_when(message: str) -> bool:
    return re.match(r"(?i)\s*(?:when|what date|which date)\b", message) is not None


def asked_sets(message: str, terms: set[str]) -> set[str]:
    """The attribute groups a question asks about whole: a plural after "what"/"which", or a collective noun."""
    asked = set()
    m = _SET_QUESTION.search(message)
    if m is not None:
        asked |= attributes(question_terms(m.group(1) or "")) if m.group(1) else attributes(terms)
    # A collective asked by its own name ("who is in my family?"); a member ("my daughter") asks about that one.
    return asked | (headed(terms) & _COLLECTIVE)


def asks_before(message: str) -> bool:
    """A question about what held before: "before" in a question told in the past ("what did I … before?",
    "what job did I have before I became a nurse?": what held until the speaker's own change), or words that
    only mean the past ("my previous job"); "before my fortieth birthday" is a deadline. "before" is read once,
    by `befores`, as the domain's `asks_history` reads it."""
    past = tense_of(message) is Tense.PAST
    if any(b.own for b in befores(message)):
        return past
    return asks_history(message) and (past or _ONLY_PAST.search(message) is not None)


def before_anchor(message: str) -> set[str]:
    """The terms of what a question about before is relative to: "Amsterdam" in "where did I live before
    Amsterdam?", "I came to London" in "…before I came to London?"."""
    anchor = next((b.anchor for b in befores(message) if b.anchor is not None), None)
    return question_terms(anchor) if anchor is not None else set()


def choose(
    found: Sequence[Evidence],
    terms: set[str],
    count: int,
    *,
    before: bool,
    now: bool,
    when: bool,
    anchor: frozenset[str] | set[str] = frozenset(),
    mine: frozenset[str] | set[str] = frozenset(),
) -> list[Evidence]:
    """The pieces that answer: the most points, two for each word of the question a piece names, one for
    being relevant (retrieval's signals), one for having a date when asked when, one less for what held only
    before when asked about now (`now`), and what holds now first among equals. For a question about before,
    what held before, when something does; for one about when, what says when (`dated`), when something does.
    A piece whose words another chosen piece all says (a fact and the turn it was drawn from) is said once.
    What the question calls the user's own (`mine`: "my wedding") is not named by a piece that says it is
    someone else's ("Chloe's wedding")."""

    def asked(e: Evidence) -> set[str]:
        # What a question about before is relative to ("before Amsterdam") answers only in a piece that tells
        # what held before it ("I was a paramedic before I retrained as a nurse").
        own = terms if held_before(e) else terms - anchor
        return own - (mine & others_terms(e.content)) if mine else own

    points = {
        id(e): 2 * e.matches(asked(e)) + e.relevant + (when and dated(e)) - (now and held_before(e)) for e in found
    }
    pool = [e for e in found if e.relevant or e.matches(asked(e))]
    if when:
        # "When did we get Pepper?" is answered by what says when, when anything found does.
        pool = [e for e in pool if dated(e)] or pool
    if now:
        # A question about now is answered from what holds now, when anything found does.
        pool = [e for e in pool if e.current] or pool
    if before:
        pool = [e for e in pool if tells_of_the_past(e) and (e.matches(asked(e)) or not e.current)] or pool
    top = max((points[id(e)] for e in pool), default=0)
    tied = [e for e in pool if points[id(e)] == top]
    # Among equals, what says the question's own words over what only names their kind ("lives in" over "moved").
    said_as_asked = max((len(asked(e) & e.terms) for e in tied), default=0)
    ranked = sorted(
        (e for e in tied if len(asked(e) & e.terms) == said_as_asked),
        key=lambda e: (now and held_before(e), not e.relevant, -e.score),
    )
    # Said whole by another tied piece (the turn a fact was drawn from): left to that one.
    said = [
        e for n, e in enumerate(ranked) if not any(_covers(o, e, m < n) for m, o in enumerate(ranked) if o is not e)
    ]
    return sorted(said[:count], key=lambda e: e.ref or 0)


def dated(e: Evidence) -> bool:
    """Whether a piece says when what it tells of happened: a date stored with it, or a time in its words."""
    return e.occurred is not None or time_phrase_span(e.content) is not None


def _covers(other: Evidence, piece: Evidence, ranked_before: bool) -> bool:
    """Whether `other` says all `piece` says: more words, or the same ones and ranked before it."""
    return piece.terms < other.terms or (piece.terms == other.terms and ranked_before)


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
        words = {w.casefold() for w in word_tokens(message)}
        if words and words <= _GREETINGS | {"there", "you"}:
            return "Hello! Tell me something about yourself and I'll remember it."
        items = [from_item(i) for i in prompt.context_items]
        if not question:
            # A remembered note on a statement only when it shares a word with what was said.
            related = [e for e in items if e.relevant and shared_terms(e.content, message)]
            notes = self._say(best(related, self._max_cited), message)
            said = without_opening(message)
            lead = f"Noted: {restate(said[:1].upper() + said[1:])}."
            return f"{lead} Related to that, I remember: {notes}" if notes else lead
        if not terms and words & _SELF_ACCOUNT:
            # "what do you know about me?": everything in context is relevant
            return self._answer(best(items, 3), [], message)
        sets = asked_sets(message, terms)
        if sets:
            # Every member, named by a word of the set's kind ("kitten", "sister"); none: what retrieval found.
            members = [e for e in items if attributes(e.terms) & sets]
            cited = best(members, _MAX_SET) if members else best([e for e in items if e.relevant], self._max_cited)
        else:
            before = asks_before(message)
            now = not before and tense_of(message) is not Tense.PAST
            # "before Amsterdam": what came before it is asked, so naming Amsterdam does not answer.
            anchor = before_anchor(message) if before else set()
            cited = choose(
                items,
                terms,
                self._max_cited,
                before=before,
                now=now,
                when=_asks_when(message),
                anchor=anchor,
                mine=owned_terms(message),
            )
        told = [e for e in said_earlier(prompt) if e.matches(terms)]
        return self._answer(cited, told[: self._max_cited], message)

    def _answer(self, cited: Sequence[Evidence], told: Sequence[Evidence], message: str) -> str:
        parts = []
        if told:
            parts.append("You told me: " + " ".join(f"{as_sentence(e)}." for e in told))
        if cited:
            parts.append(f"Here is what I remember: {self._say(cited, message)}")
        return " ".join(parts) if parts else NOTHING_REMEMBERED

    @staticmethod
    def _say(cited: Sequence[Evidence], message: str) -> str:
        asks_when = _asks_when(message)
        said: dict[str, str] = {}
        for e in cited:
            sentence = as_sentence(e, asks_when=asks_when)
            # Two memories that read the same are said once.
            said.setdefault(sentence.casefold(), f"{sentence} [{e.ref}]." if e.ref is not None else f"{sentence}.")
        return " ".join(said.values())

    @staticmethod
    def _usage(prompt: Prompt, text: str) -> Usage:
        words_in = len(prompt.render_system().split()) + sum(len(t.content.split()) for t in prompt.messages)
        return Usage(input_tokens=words_in, output_tokens=len(text.split()))
