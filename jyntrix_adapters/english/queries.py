"""How an English message is read for retrieval: what it does (its intent), whether it is only small talk,
whether it is about the speaker, and whether it asks about the present. The query analyser
(`jyntrix_domain.query`) decides with these answers through the `Language` port."""

from __future__ import annotations

import re

from jyntrix_adapters.english.names import WORD, words
from jyntrix_adapters.english.tense import Tense, tense_of
from jyntrix_adapters.english.vocabulary import (
    ASK_VERBS,
    AUX_WORDS,
    COMMAND_VERBS,
    PERSONAL_WORDS,
    SMALL_TALK_WORDS,
    WH_WORDS,
)
from jyntrix_domain.intents import Intent

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
    said = [w.lower() for w in (m.group(0) for m in WORD.finditer(text))]
    while said and said[0] in ("please", "ok", "okay", "so", "hey", "and", "also", "oh", "well", "now", "pls"):
        said = said[1:]
    return said


def is_small_talk(text: str) -> bool:
    """Only greetings and fillers, six words at most ("hi", "ok thanks a lot")."""
    said = words(text)
    return 0 < len(said) <= 6 and all(w in SMALL_TALK_WORDS for w in said)


def is_personal(text: str) -> bool:
    """Whether a message refers to its speaker ("my", "I", "me", "we", ...)."""
    return any(w in PERSONAL_WORDS for w in words(text))


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


_NOW = re.compile(
    r"(?i)\b(?:now|nowadays|these days|currently|current|still|anymore|any more|at the moment|at present|today|"
    r"right now|lately)\b"
)


def asks_about_now(text: str) -> bool:
    """Whether a message asks about the present: it says so ("now", "these days", "still"), or it is not in the
    past tense ("where do I live?"; "where did I go?" asks about an event)."""
    return _NOW.search(text) is not None or tense_of(text) is not Tense.PAST
