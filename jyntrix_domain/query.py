"""Query analysis: what a message asks for, which words and names matter, which time it means.

Everything here is deterministic rules over the text and a given `now`, so the same message
always gets the same analysis and no language model is needed. Time phrases are read by
`jyntrix_domain.language.time_phrases` (the table of what each means is there), names and
keywords by `jyntrix_domain.language.names`; a message reads back in time unless it states a plan.
"""

from __future__ import annotations

import enum
import re
from datetime import datetime

import msgspec

from jyntrix_domain.language.names import WORD, extract_entities, extract_keywords, fold_plural, plain, words
from jyntrix_domain.language.tense import Tense, tense_of
from jyntrix_domain.language.time_phrases import TimeRange, resolve_time
from jyntrix_domain.language.vocabulary import (
    ASK_VERBS,
    AUX_WORDS,
    COMMAND_VERBS,
    PERSONAL_WORDS,
    SMALL_TALK_WORDS,
    WH_WORDS,
)
from jyntrix_domain.ports import Language

__all__ = ["Intent", "QueryAnalysis", "QueryAnalyzer", "TimeRange", "classify_intent", "fold_plural", "resolve_time"]


# ---------------------------------------------------------------- intent


class Intent(enum.StrEnum):
    """What a message does: chats, asks, asks about the past, or tells the assistant what to do."""

    CONVERSATION = "conversation"
    QUESTION = "question"
    RECALL = "recall"
    COMMAND = "command"


_RECALL_PATTERNS = re.compile(
    r"\b(?:do|did|can|could) you (?:still )?(?:remember|recall)\b"
    r"|\bremember when\b"
    r"|\bwhat (?:did|have) (?:i|we) (?:tell|told|say|said|mention|mentioned|talk|talked|discuss|discussed)\b"
    r"|\bwhat was (?:it|that) (?:i|we)\b"
    r"|\bremind me\b"
    r"|\b(?:did|have) i (?:ever )?(?:tell|told|say|said|mention|mentioned)\b"
    r"|\bwhat do you (?:know|remember) about\b"
    r"|\blast time we\b"
    r"|\bwe (?:talked|spoke|chatted) about\b"
    r"|\bwhen (?:did|have) (?:we|i) (?:last )?(?:talk|talked|discuss|discussed|speak|spoke)\b"
    r"|^\s*recall\b",
    re.IGNORECASE,
)

# A rule for the future, anywhere in the message.
_COMMAND_PATTERNS = re.compile(
    r"\bfrom now on\b|\bgoing forward\b|\bin (?:the )?future,|\bkeep in mind\b|\bmake a note\b|\bbear in mind\b"
    r"|\bplease (?:remember|forget|note|stop|always|never|don't|do not|call me)\b"
    r"|^\s*(?:please\s+)?(?:remember|note) (?:that|this)\b"
    r"|\bdon't forget\b",
    re.IGNORECASE,
)

_QUESTION_PHRASES = re.compile(r"\b(?:do i|am i|did i|have i|was i|can you tell|i wonder|any idea)\b", re.IGNORECASE)


def _first_words(text: str) -> list[str]:
    words = [w.lower() for w in (m.group(0) for m in WORD.finditer(text))]
    while words and words[0] in ("please", "ok", "okay", "so", "hey", "and", "also", "oh", "well", "now", "pls"):
        words = words[1:]
    return words


def is_small_talk(text: str) -> bool:
    """Only greetings and fillers, six words at most ("hi", "ok thanks a lot")."""
    said = words(text)
    return 0 < len(said) <= 6 and all(w in SMALL_TALK_WORDS for w in said)


def classify_intent(text: str) -> Intent:
    """recall, then rules for the future, then questions, then other imperatives; else conversation."""
    stripped = text.strip()
    if _RECALL_PATTERNS.search(stripped):
        return Intent.RECALL
    if _COMMAND_PATTERNS.search(stripped):
        return Intent.COMMAND
    first = _first_words(stripped)
    head = first[0] if first else ""
    negative_imperative = head in ("don't", "dont") or first[:2] == ["do", "not"]
    if negative_imperative and not stripped.endswith("?"):
        return Intent.COMMAND
    if (
        stripped.endswith("?")
        or head in WH_WORDS
        or head in AUX_WORDS
        or head in ASK_VERBS
        or _QUESTION_PHRASES.match(stripped)
    ):
        return Intent.QUESTION
    if head in COMMAND_VERBS:
        return Intent.COMMAND
    return Intent.CONVERSATION


# ---------------------------------------------------------------- analysis


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
    """Rule-based, deterministic analysis of one user message; what it asks of the past or of the assistant, and
    which relations and attributes of the user it names, are read by `language`."""

    def __init__(self, language: Language) -> None:
        self._language = language

    def analyze(self, text: str, now: datetime) -> QueryAnalysis:
        original, text = text, plain(text)
        resolved = resolve_time(text, now)
        time_range, span = (resolved[0], resolved[1]) if resolved else (None, None)
        entities = extract_entities(text, skip=span)
        content = text if span is None else text[: span[0]] + " " + text[span[1] :]
        keywords = extract_keywords(content, entities)
        intent = classify_intent(text)
        small_talk = is_small_talk(text)
        personal = any(w in PERSONAL_WORDS for w in words(text))
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
            asks_now=not history and asks_about_now(text),
            about_assistant=about_assistant,
            kin=kin,
            kin_words=tuple(sorted({w for rel in kin for w in self._language.kin_words(rel)})),
            attributes=self._language.attributes_of(text) if personal and not kin else (),
        )


_NOW = re.compile(
    r"(?i)\b(?:now|nowadays|these days|currently|current|still|anymore|any more|at the moment|at present|today|"
    r"right now|lately)\b"
)


def asks_about_now(text: str) -> bool:
    """Whether a message asks about the present: it says so ("now", "these days", "still"), or it is not in the
    past tense ("where do I live?"; "where did I go?" asks about an event)."""
    return _NOW.search(text) is not None or tense_of(text) is not Tense.PAST
