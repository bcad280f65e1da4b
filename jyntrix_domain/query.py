"""Query analysis: what a message asks for, which words and names matter, which time it means.

Everything here is deterministic rules over the text and a given `now`, so the same message
always gets the same analysis and no language model is needed. The message's words are read by the
`Language` port (its intent, names, keywords, tense, whether it is small talk, about the speaker or about
now); time phrases by `jyntrix_domain.english_time_phrases` (the table of what each means is there), in the
tense the language reads, back in time unless the message states a plan.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from jyntrix_domain.english_time_phrases import TimeRange, resolve_time
from jyntrix_domain.intents import Intent
from jyntrix_domain.ports import Language
from jyntrix_domain.terms import plain

__all__ = ["Intent", "QueryAnalysis", "QueryAnalyzer", "TimeRange"]


class QueryAnalysis(msgspec.Struct, frozen=True, kw_only=True):
    """What retrieval needs to know about a message.

    `asks_history` and `about_assistant` are read by the `Language` port.
    `requires_memory` is False for small talk ("hi", "thanks", "ok") and for impersonal remarks;
    True for recall, for anything naming an entity or a time, for anything about the user ("my",
    "I", "me"...), and for questions and commands with content words. `personal` says whether
    the message refers to the user; `small_talk` whether it is only greetings and fillers.
    """

    text: str
    intent: Intent
    keywords: tuple[str, ...]
    entities: tuple[str, ...]
    time_range: TimeRange | None
    requires_memory: bool
    small_talk: bool = False
    personal: bool = False
    # Asks what was true before ("where did I live before Amsterdam?"): ended memories answer it.
    asks_history: bool = False
    # Asks about what the assistant said ("the recipe you gave me"): the assistant's turns answer it.
    about_assistant: bool = False
    # Asks what is true now ("where do I live?", "who do I work for these days?"): current memories answer it.
    # Neither this nor `asks_history` for a question about an event in the past ("when did I move to Berlin?",
    # "which city did my husband get a job in?"), which what has since ended answers as well as what holds.
    asks_now: bool = True
    # The relations it names from the user ("my husband"): retrieval resolves them to names through the graph.
    kin: tuple[str, ...] = ()
    # The words naming those relations ("dog", "puppy"): a memory using one is about them.
    kin_words: tuple[str, ...] = ()
    # The attributes of the user it asks about, as slot families ("what was my previous job?": work), when it
    # names no one else (`jyntrix_domain.attributes`; read by the `Language` port).
    attributes: tuple[str, ...] = ()


class QueryAnalyzer:
    """Rule-based, deterministic analysis of one user message; its words (what it does, names, asks of the past,
    of the present or of the assistant, which relations and attributes of the user it names) are read by
    `language`."""

    def __init__(self, language: Language) -> None:
        self._language = language

    @property
    def language(self) -> Language:
        """The language queries are read in."""
        return self._language

    def analyze(self, text: str, now: datetime) -> QueryAnalysis:
        language = self._language
        original, text = text, plain(text)
        resolved = resolve_time(text, now, language.tense_of(text))
        time_range, span = (resolved[0], resolved[1]) if resolved else (None, None)
        entities = language.entities_of(text, skip=span)
        content = text if span is None else text[: span[0]] + " " + text[span[1] :]
        keywords = language.keywords_of(content, entities)
        intent = language.intent_of(text)
        small_talk = language.is_small_talk(text)
        personal = language.is_personal(text)
        about_assistant = self._language.asks_about_assistant(text)
        history = self._language.asks_history(text)
        kin = self._language.kin_of(text)
        requires_memory = (
            intent is Intent.RECALL
            or about_assistant
            or time_range is not None
            or bool(entities)
            or (not small_talk and (personal or (intent in (Intent.QUESTION, Intent.COMMAND) and bool(keywords))))
        )
        return QueryAnalysis(
            text=original,
            intent=intent,
            keywords=keywords,
            entities=entities,
            time_range=time_range,
            requires_memory=requires_memory,
            small_talk=small_talk,
            personal=personal,
            asks_history=history,
            asks_now=not history and language.asks_about_now(text),
            about_assistant=about_assistant,
            kin=kin,
            kin_words=tuple(sorted({w for rel in kin for w in self._language.kin_words(rel)})),
            attributes=self._language.attributes_of(text) if personal and not kin else (),
        )
