"""What a message does, sentence by sentence: states something, asks, asks to recall, or tells the assistant.

A user message is remembered as said (a turn memory) only when it states something: a message whose every
sentence asks a question, asks to recall, gives a one-off instruction ("tell me a joke") or is small talk
says nothing about the user, and would only crowd the memories it asks about. A question or request that
tells of the speaker on the way ("I've booked the tickets, should I book a hotel too?"), or carries context
with it (CONTEXT_TERMS), states that. An
instruction that is meant to last ("from now on answer in French", "remember that my PIN is at home")
states something the user wants kept, and so does any sentence that is none of those.

Query cues are read here too: whether a query asks about the past values of something ("where did I live
before?", "my previous job") and whether it asks about what the assistant said ("the recipe you gave me").
And whether a statement says that something changed ("I moved", "no longer", "switched to", "instead").
"""

from __future__ import annotations

import re
from typing import NamedTuple

from jyntrix_adapters.english.names import WORD
from jyntrix_adapters.english.stopwords import INDEX_STOPWORDS, word_set
from jyntrix_adapters.english.vocabulary import ASK_VERBS, AUX_WORDS, COMMAND_VERBS, SMALL_TALK_WORDS, WH_WORDS

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


def _without_fillers(words: list[str]) -> list[str]:
    while words and words[0] in _FILLERS:
        words = words[1:]
    return words


# A speaker's own clause inside a question or request: "I've booked the tickets, should I book a hotel?",
# "how can I keep going now that I've met my goal?", "help me plan, we spent $600 on it". The clause tells
# something about the speaker, so the sentence states it as well as asking.
_OWN = frozenset(("i", "we", "i'm", "i've", "i'd", "we're", "we've", "we'd"))
# After these the pronoun is a question's subject ("should I", "what I said"), a supposition ("if I moved",
# "before we go", "when I'm there") or what the question asks an opinion of ("do you think I'm...").
_NOT_STATED_AFTER = (
    AUX_WORDS
    | WH_WORDS
    | frozenset(("if", "whether", "unless", "before", "after", "until", "till", "once", "while"))
    | frozenset(("think", "believe", "reckon", "suppose", "guess", "say", "mean"))
)
# A modal after "I" keeps asking ("do you think I should...", "what if I could").
_MODALS = frozenset(("should", "could", "would", "can", "might", "may", "must", "will", "shall", "need", "ought"))
# Auxiliaries that, after "I" or "we", still make a statement ("I have a dog", "we were in Rome").
_STATIVE = frozenset(("am", "was", "were", "have", "had", "are", "do", "did"))


# A question or request with at least this many distinct content words carries context with it ("What's the
# best way to help Scott, who's in 7th grade, improve his math test score of 68%?"): it tells of the speaker's
# world as well as asking. A question that only asks ("Which city did my husband get a new job in?") has
# far fewer.
CONTEXT_TERMS = 10


def _tells_of_speaker(words: list[str]) -> bool:
    """Whether a question or request (its lower-cased words) tells of the speaker on the way: a clause of their
    own, or context enough (CONTEXT_TERMS)."""
    return _states_own_clause(words) or len(set(words) - INDEX_STOPWORDS) >= CONTEXT_TERMS


def _states_own_clause(words: list[str]) -> bool:
    for n, word in enumerate(words):
        if word not in _OWN or (n and words[n - 1] in _NOT_STATED_AFTER):
            continue
        following = words[n + 1] if n + 1 < len(words) else ""
        if word in ("i", "we") and (not following or following in _MODALS or following in AUX_WORDS - _STATIVE):
            continue
        return True
    return False


def _asks(sentence: str) -> bool:
    """A question, a recall request, a one-off instruction or small talk: nothing stated."""
    words = [w.casefold() for w in WORD.findall(sentence)]
    said = _without_fillers(words)
    if not said or all(w in SMALL_TALK_WORDS for w in said):
        return True
    if _RECALL.search(sentence):
        return True
    if sentence.rstrip().endswith("?"):
        return not _tells_of_speaker(words)
    if _LASTING.search(sentence):
        return False
    head, second = said[0].removesuffix("'s"), said[1] if len(said) > 1 else ""
    if head in ASK_VERBS or head in COMMAND_VERBS:
        # an instruction for now ("tell me a joke", "make it shorter"), unless it tells of the speaker too
        return not _tells_of_speaker(words)
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


class Before(NamedTuple):
    """One "before" in a query, read once for the domain (`asks_history`) and the offline responder alike."""

    # What it is relative to, the words after it up to the end: "Amsterdam", "I came to London"; None when
    # nothing follows ("where did I live before?").
    anchor: str | None
    # An event of someone's follows ("before I retired", "before my sister left"): it asks what was so then.
    event: bool
    # The speaker's own doing follows ("before I became a nurse", "before we moved").
    own: bool


_BEFORE = re.compile(r"(?i)\bbefore\b")
_BEFORE_EVENT = re.compile(r"(?i)\s+(?:i|we|you|he|she|they|my|our)\s+\w+(?:ed|ew|ent|ot|ame|an|ook|eft|old)\b")
_BEFORE_OWN = re.compile(r"(?i)\s+(?:i|we)\s+\w+")
_BEFORE_ANCHOR = re.compile(r"\s+(.+?)[\s?.!]*$")


def befores(text: str) -> tuple[Before, ...]:
    """Each "before" in `text`, in order, with what follows it."""
    out = []
    for m in _BEFORE.finditer(text):
        anchor = _BEFORE_ANCHOR.match(text, m.end())
        out.append(
            Before(
                anchor=anchor.group(1) if anchor else None,
                event=_BEFORE_EVENT.match(text, m.end()) is not None,
                own=_BEFORE_OWN.match(text, m.end()) is not None,
            )
        )
    return tuple(out)


# "old" as in "my old dog", not "how old is she" nor "five years old"; "before" is read by `befores`.
_HISTORY = re.compile(
    r"(?i)\b(?:previous(?:ly)?|used to|former(?:ly)?|original(?:ly)?|at first|earlier|prior|past|"
    r"(?<!how )(?<!years )(?<!year )old(?! (?:is|are|was|were|am)\b)|"
    r"last (?:job|place|home|flat|apartment|house|car|city|partner|employer|company)|ex)\b"
)


def asks_history(text: str) -> bool:
    """Whether a query asks about what was true before ("where did I live before?", "my previous job"): "before"
    with what came after it ("before York", "before that"), not with an event ("before I retired" asks what was
    so then, which may still be true)."""
    return any(not b.event for b in befores(text)) or _HISTORY.search(text) is not None


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


# Said against a change: "we moved to Nice instead", "we never did", "cancelled".
_CONTRARY = re.compile(r"(?i)\b(?:instead|no\s+longer|any\s?more|actually|not|never|didn't|won't|cancel\w*)\b")


def says_contrary(text: str) -> bool:
    """Whether a statement says something against what it tells ("instead", "not", "never", "cancelled")."""
    return _CONTRARY.search(text) is not None


def stem(word: str) -> str:
    """A word casefolded without its inflection, so "moved", "moving" and "moves" compare equal."""
    return re.sub(r"(?:ing|ed|es|e|s)$", "", word.casefold())
