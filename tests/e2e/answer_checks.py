"""Judging a chat answer from its text alone, for the story and offline-answer suites.

Nothing here knows a story or a wording of the responder: the suites give the words an answer must name,
the phrases that would state a superseded value as if it still held, and what the user said.

- An expected answer is a tuple of groups; each group is an any-of tuple of words, and the answer must name
  one word of every group. A word is named when it begins a word of the answer ("swim" is named by
  "swimming", "5" is not named by "15"), case and whitespace ignored. For a question about the past, every
  sentence naming one must hold a mark of the past (below).
- A stale phrase is named the same way, as a whole phrase ("live in berlin"), within a clause (a sentence cut
  at commas, semicolons and colons). A clause that names one states it as the present unless it is marked as
  the past (`PAST_MARKERS`, or "you" and a verb in -ed), itself or by a short lead-in ("Until January, …").
- Form: no sentence said twice, every sentence starts with a capital, a name the user always capitalised is
  capitalised, the user's own first-person words are not quoted back, dates are words (not 2023-03-01), and a
  remark the answer adds to a statement (a cited sentence) shares a word with what the user said.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

Expect = tuple[tuple[str, ...], ...]

_WORD = re.compile(r"[\w']+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")
_CLAUSE_END = re.compile(r"[:;]\s+")
_CLAUSE_BREAK = re.compile(r"[,;:]\s+")
LEAD_IN_WORDS = 4
_CITATION = re.compile(r"\[\d+\]")
_MACHINE_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b|\(month of")
_YOU_DID = re.compile(r"\b(?:you|they|she|he|the user)(?: \w+ly)? \w+ed\b")

# Phrases that say a thing held and ended (or was before another). Deliberately words about time, not about
# any one attribute: "you used to work at Zalando", "before Amsterdam you lived in Berlin", "until January".
PAST_MARKERS = (
    "used to",
    "was",
    "were",
    "had",
    "did",
    "previous",
    "previously",
    "formerly",
    "former",
    "before",
    "earlier",
    "no longer",
    "anymore",
    "any more",
    "not any",
    "until",
    "ago",
    "back then",
    "at the time",
    "left",
    "quit",
    "stopped",
    "gave up",
    "given up",
    "sold",
    "retired",
    "grew up",
    "instead of",
    "switched from",
    "in the past",
)

FIRST_PERSON = frozenset(
    {"i", "i'm", "i've", "i'd", "i'll", "my", "me", "mine", "myself", "we", "we're", "we've", "our", "us"}
)
# Words too common to show that a remark is about what the user said.
_COMMON_TEXT = """about after again also been before being both could does doing done each from have having here
    into just like made make many more most much noted only other over really related remember same some still such than
    that their them then there these they thing this those very want well were what when where which while will
    with would your yours you're user's"""
_COMMON = frozenset(_COMMON_TEXT.split())


def normalised(text: str) -> str:
    """Casefolded, straight apostrophes, whitespace collapsed."""
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'").casefold().split())


def names(text: str, word: str) -> bool:
    """Whether `text` has `word` (or phrase) at the start of one of its words."""
    return re.search(r"(?<![\w'])" + re.escape(normalised(word)), normalised(text)) is not None


def names_phrase(text: str, phrase: str) -> bool:
    """Whether `text` has `phrase` as whole words."""
    return re.search(r"(?<![\w'])" + re.escape(normalised(phrase)) + r"(?![\w'])", normalised(text)) is not None


def missing(answer: str, expect: Expect) -> list[tuple[str, ...]]:
    """The groups of `expect` of which the answer names no word."""
    return [group for group in expect if not any(names(answer, word) for word in group)]


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def marked_past(text: str) -> bool:
    """Whether a clause or sentence says that what it states held before, not now."""
    return any(names_phrase(text, marker) for marker in PAST_MARKERS) or bool(_YOU_DID.search(normalised(text)))


def unmarked_clauses(text: str) -> list[str]:
    """The clauses of `text` (its sentences cut at commas, semicolons and colons) not marked as the past.

    A short marked lead-in marks the clause after it too: "Until January, in Berlin", "Earlier: …".
    """
    out = []
    for sentence in sentences(text):
        carried = False
        for clause in _CLAUSE_BREAK.split(sentence):
            marked = marked_past(clause)
            if not (marked or carried):
                out.append(clause)
            carried = marked and len(_WORD.findall(clause)) <= LEAD_IN_WORDS
    return out


def not_stated_as_past(answer: str, expect: Expect) -> list[str]:
    """The answer's sentences that name an expected word with no mark of the past anywhere in them.

    A whole sentence, where a stale value is judged by the clause: "You used to use Notion, but switched because
    Notion got slow" says the past as past, while any clause stating an old value unmarked is stale."""
    words = [w for group in expect for w in group]
    return [s for s in sentences(answer) if any(names(s, w) for w in words) and not marked_past(s)]


def stale_clauses(text: str, stale: Iterable[str]) -> list[str]:
    """The clauses of `text` (an answer, a memory) that state a stale phrase as if it still held."""
    phrases = tuple(stale)
    return [c for c in unmarked_clauses(text) if any(names_phrase(c, p) for p in phrases)]


def _bare(sentence: str) -> str:
    return " ".join(_WORD.findall(normalised(_CITATION.sub(" ", sentence))))


def repeated_sentences(answer: str) -> list[str]:
    """Sentences said twice (citations and punctuation aside). A lead-in before a colon ("Here is what I
    remember: …") is not part of the sentence it introduces."""
    seen: set[str] = set()
    out = []
    for sentence in sentences(answer):
        for clause in _CLAUSE_END.split(sentence):
            bare = _bare(clause)
            if len(bare.split()) >= 3 and bare in seen:
                out.append(clause)
            seen.add(bare)
    return out


def lowercase_starts(answer: str) -> list[str]:
    """Sentences whose first letter is lowercase ("Hi! you're Nina")."""
    out = []
    for sentence in sentences(answer):
        first = next((c for c in sentence if c.isalpha()), "")
        if first and first.islower():
            out.append(sentence)
    return out


def proper_nouns(said: Iterable[str]) -> set[str]:
    """Words the user always wrote with a capital where a sentence does not begin (names, places, brands)."""
    capital: set[str] = set()
    lower: set[str] = set()
    for text in said:
        for sentence in sentences(text):
            for n, word in enumerate(_WORD.findall(sentence)):
                key = word.casefold().removesuffix("'s")
                if word[0].islower():
                    lower.add(key)
                elif word[0].isupper() and n > 0 and word.casefold() not in FIRST_PERSON and len(word) > 1:
                    capital.add(key)
    return capital - lower


def lost_capitals(answer: str, nouns: set[str]) -> list[str]:
    """Names the answer writes in lowercase although the user always capitalised them."""
    return sorted(
        {word for word in _WORD.findall(answer) if word[0].islower() and word.casefold().removesuffix("'s") in nouns}
    )


def _trigrams(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(normalised(text))
    return {tuple(words[n : n + 3]) for n in range(len(words) - 2)}


def first_person_quotes(answer: str, said: Iterable[str]) -> list[str]:
    """The user's own first-person words repeated in the answer ("I'm now a…" where "you're now a…" was due).

    Three words starting with a first-person word that the user also said in that order; the responder's own
    "I remember" is not the user's words, so it passes.
    """
    theirs: set[tuple[str, ...]] = set()
    for text in said:
        theirs |= {t for t in _trigrams(text) if t[0] in FIRST_PERSON}
    return sorted(" ".join(t) for t in _trigrams(answer) if t[0] in FIRST_PERSON and t in theirs)


def machine_dates(answer: str) -> list[str]:
    return _MACHINE_DATE.findall(answer)


def _stems(text: str) -> set[str]:
    return {w[:4] for w in _WORD.findall(normalised(text)) if len(w) >= 4 and w not in _COMMON}


def unrelated_remarks(answer: str, message: str) -> list[str]:
    """Cited sentences of an answer to a statement that share no word with it (the cello, then Lisbon)."""
    own = _stems(message)
    return [s for s in sentences(answer) if _CITATION.search(s) and not (_stems(_CITATION.sub(" ", s)) & own)]


def form_faults(answer: str, said: Sequence[str], nouns: set[str], message: str | None = None) -> dict[str, list[str]]:
    """Every fault of form in `answer`, by check; `message` is the statement it answers (for the remark check)."""
    faults = {
        "repeated_sentence": repeated_sentences(answer),
        "lowercase_start": lowercase_starts(answer),
        "lost_capital": lost_capitals(answer, nouns),
        "first_person": first_person_quotes(answer, said),
        "machine_date": machine_dates(answer),
    }
    if message is not None:
        faults["unrelated_remark"] = unrelated_remarks(answer, message)
    return {check: found for check, found in faults.items() if found}
