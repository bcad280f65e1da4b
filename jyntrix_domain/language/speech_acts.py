"""What a message does, sentence by sentence: states something, asks, asks to recall, or tells the assistant.

A user message is remembered as said (a turn memory) only when it states something: a message whose every
sentence asks a question, asks to recall, gives a one-off instruction ("tell me a joke") or is small talk
says nothing about the user, and would only crowd the memories it asks about. An instruction that is
meant to last ("from now on answer in French", "remember that my PIN is at home") states something the
user wants kept, and so does any sentence that is none of those.

Query cues are read here too: whether a query asks about the past values of something ("where did I live
before?", "my previous job") and whether it asks about what the assistant said ("the recipe you gave me").
And whether a statement says that something changed ("I moved", "no longer", "switched to", "instead").
"""

from __future__ import annotations

import re

from jyntrix_domain.language.names import WORD
from jyntrix_domain.language.stopwords import word_set
from jyntrix_domain.language.vocabulary import ASK_VERBS, AUX_WORDS, COMMAND_VERBS, SMALL_TALK_WORDS, WH_WORDS

_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_FILLERS = frozenset(("please", "ok", "okay", "so", "hey", "and", "also", "oh", "well", "now", "pls", "but", "hmm"))

_SUBJECTS = frozenset(("i", "you", "we", "he", "she", "it", "they", "there", "my", "your", "this", "that"))

_RECALL = re.compile(
    r"(?i)\b(?:do|did|can|could) you (?:still )?(?:remember|recall)\b|\bremind me\b|^\s*recall\b"
    r"|\bwhat (?:did|have) (?:i|we) (?:tell|told|say|said|mention|mentioned)\b|\bwhat do you (?:know|remember)\b"
)
# An instruction meant to last, or a request to keep something: what it says is worth remembering.
_LASTING = re.compile(
    r"(?i)\bfrom now on\b|\bgoing forward\b|\bin (?:the )?future\b|\bkeep in mind\b|\bbear in mind\b"
    r"|\b(?:always|never)\b|\b(?:remember|note|don't forget) (?:that|this|my|i|i'm)\b|\bmake a note\b"
    r"|\bcall me\b"
)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCES.split(text) if s.strip()]


def _words(sentence: str) -> list[str]:
    said = [w.casefold() for w in WORD.findall(sentence)]
    while said and said[0] in _FILLERS:
        said = said[1:]
    return said


def _asks(sentence: str) -> bool:
    """A question, a recall request, a one-off instruction or small talk: nothing stated."""
    said = _words(sentence)
    if not said or all(w in SMALL_TALK_WORDS for w in said):
        return True
    if sentence.rstrip().endswith("?") or _RECALL.search(sentence):
        return True
    if _LASTING.search(sentence):
        return False
    head, second = said[0].removesuffix("'s"), said[1] if len(said) > 1 else ""
    if head in ASK_VERBS or head in COMMAND_VERBS:
        return True  # an instruction for now ("tell me a joke", "make it shorter")
    if sentence.rstrip().endswith("!"):
        return False  # an exclamation is a remark ("What a day!")
    # A question without its mark: "where do I live now", "do you know my name". "What I love is hiking" and
    # "Had a great time" state something.
    third = said[2] if len(said) > 2 else ""
    return (head in WH_WORDS and (second in AUX_WORDS or third in AUX_WORDS or said[0].endswith("'s"))) or (
        head in AUX_WORDS and second in _SUBJECTS
    )


def states_something(text: str) -> bool:
    """Whether any sentence of `text` states something (module docstring)."""
    return any(not _asks(s) for s in sentences(text))


# "old" as in "my old dog", not "how old is she" nor "five years old"; "before" with what came after it ("before
# York", "before that"), not with an event ("before I retired" asks what was so then, which may still be true).
_HISTORY = re.compile(
    r"(?i)\b(?:before(?!\s+(?:i|we|you|he|she|they|my|our)\s+\w+(?:ed|ew|ent|ot|ame|an|ook|eft|old)\b)|"
    r"previous(?:ly)?|used to|former(?:ly)?|original(?:ly)?|at first|earlier|prior|past|"
    r"(?<!how )(?<!years )(?<!year )old(?! (?:is|are|was|were|am)\b)|"
    r"last (?:job|place|home|flat|apartment|house|car|city|partner|employer|company)|ex)\b"
)


def asks_history(text: str) -> bool:
    """Whether a query asks about what was true before ("where did I live before?", "my previous job")."""
    return _HISTORY.search(text) is not None


# What the assistant did ("you suggested", "did you ever say") and what it gave ("your recipe").
_TOLD = "said|told|gave|recommended|suggested|mentioned|proposed|wrote|explained|shared|sent|advised|listed|described"
_GIVEN = "advice|suggestion|recommendation|answer|recipe|list|plan|idea|tip"
_ABOUT_ASSISTANT = re.compile(
    rf"(?i)\byou\s+(?:\w+\s+)?(?:{_TOLD}|came up with|helped)\b|\byour\s+(?:{_GIVEN})s?\b"
    r"|\b(?:did|have)\s+you\s+(?:ever\s+)?(?:say|tell|give|recommend|suggest|mention|write)\b"
)


def asks_about_assistant(text: str) -> bool:
    """Whether a query asks about what the assistant said ("the recipe you gave me", "what did you suggest")."""
    return _ABOUT_ASSISTANT.search(text) is not None


CHANGE_WORDS = word_set(
    """anymore longer instead switched switching switch changed change moved moving relocated left quit stopped
    stop gave given dropped replaced sold swapped traded scratch actually"""
)
# Cues that something the speaker said before holds no longer. "now", "new" or "started" are left out: in
# conversation they mostly tell of something added ("I started pottery"), not of something that ended.
_CHANGE = re.compile(
    r"(?i)\b(?:anymore|any more|no longer|instead|switched|switching|changed|moved|relocated|left|quit|stopped|"
    r"gave up|given up|dropped|replaced|sold|swapped|traded|scratch|not\s+\w+\s+any\s?more|"
    # a correction of what was said: "Actually we decided on green", "change of plan: ..."
    r"actually|change\s+of\s+plans?|on\s+second\s+thoughts?)\b"
)


def says_change(text: str) -> bool:
    """Whether a statement says something changed: a cue such as "now", "no longer", "switched", "instead"."""
    return _CHANGE.search(text) is not None
