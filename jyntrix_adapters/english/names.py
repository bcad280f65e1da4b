"""Names and content words in a text: what a message is about, and who a statement names.

Two readers with different jobs: `extract_entities` and `extract_keywords` read a message for
retrieval (names not at a sentence start, content words with plurals folded); `capitalised_names`
reads a user's statement for the entities a memory links to.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from jyntrix_adapters.english.stopwords import QUERY_STOPWORDS, word_set
from jyntrix_adapters.english.vocabulary import COMMON_WORDS
from jyntrix_domain.english_time_phrases import MONTH_NAMES, WEEKDAY_NAMES
from jyntrix_domain.terms import plain

_TIME_WORDS = frozenset([*MONTH_NAMES, *WEEKDAY_NAMES, "today", "tonight", "yesterday", "tomorrow"])  # never entities

_RELATION_NAME = re.compile(
    r"\b[Mm]y\s+(?:(?:best|old|new|little|big|older|younger|late)\s+)?"
    r"(?:sister|brother|mother|father|mom|mum|dad|son|daughter|wife|husband|partner|boyfriend|girlfriend|fianc[ée]e?"
    r"|friend|boss|manager|colleague|coworker|cousin|aunt|uncle|niece|nephew|grandma|grandpa|grandmother"
    r"|grandfather|dog|cat|pet|baby|kid|child|roommate|neighbou?r|teacher|doctor|therapist|company|team)"
    r"(?:'s)?\s*,?\s+(?:(?:is\s+)?(?:named|called)\s+)?([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)"
)
_NAMED = re.compile(r"\b(?:named|called)\s+([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)")

# Words whose plural-looking ending is not a plural.
_NO_FOLD = word_set(
    "news series species physics mathematics economics politics always perhaps sometimes lens bus gas yes "
    "thanks glasses pants jeans shorts clothes trousers scissors"
)

_IRREGULAR = {
    "children": "child", "men": "man", "women": "woman", "feet": "foot", "teeth": "tooth", "mice": "mouse",
    "geese": "goose", "zombies": "zombie", "calories": "calorie", "wives": "wife", "knives": "knife",
    "lives": "life", "leaves": "leaf", "wolves": "wolf", "shelves": "shelf",
}  # fmt: skip

# A word, with inner apostrophes and hyphens ("Anna's", "well-known").
WORD = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*'?", re.UNICODE)
_TOKEN = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*'?|[^\w\s]", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def normalise_word(word: str) -> str:
    """Lowercase, without a possessive "'s" or a trailing apostrophe."""
    word = word.lower()
    if word.endswith("'s"):
        word = word[:-2]
    return word.rstrip("'")


def words(text: str) -> list[str]:
    """The normalised words of `text`, in order."""
    return [normalise_word(m.group(0)) for m in WORD.finditer(text)]


def fold_plural(word: str) -> str:
    """Cheap singular form so that "dogs" finds "dog"; leaves non-plurals ("news", "tennis") alone."""
    if word in _NO_FOLD or not word.isalpha():
        return word
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if word.endswith(("vies", "kies")):  # movies, cookies
        return word[:-1]
    if len(word) > 4 and word.endswith("ies") and word[-4] not in "aeiou":
        return word[:-3] + "y" if len(word) > 5 else word[:-1]
    if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _unique(values: Iterable[str], key: Callable[[str], str] = str.casefold) -> tuple[str, ...]:
    seen: set[str] = set()
    out: list[str] = []
    for value in values:
        k = key(value)
        if value and k not in seen:
            seen.add(k)
            out.append(value)
    return tuple(out)


def _clean_name(token: str) -> str:
    if token.endswith("'s"):
        token = token[:-2]
    return token.strip("'-")


def _is_name_word(token: str) -> bool:
    clean = _clean_name(token)
    if not clean or not clean[0].isupper():
        return False
    low = clean.lower()
    return low not in _TIME_WORDS and low not in ("i", "i'm", "i've", "i'd", "i'll")


def _is_common(word: str) -> bool:
    return word.lower() in COMMON_WORDS


def _capitalised_runs(sentence: str, base: int, skip: tuple[int, int] | None) -> list[tuple[list[str], bool]]:
    """Runs of adjacent capitalised words, each with whether it opens the sentence."""
    runs: list[tuple[list[str], bool]] = []
    current: list[str] = []
    current_opens = False
    seen_word = False
    for m in _TOKEN.finditer(sentence):
        token = m.group(0)
        is_word = bool(WORD.fullmatch(token))
        is_first = is_word and not seen_word
        seen_word = seen_word or is_word
        in_skip = skip is not None and skip[0] <= base + m.start() < skip[1]
        if is_word and not in_skip and _is_name_word(token):
            if not current:
                current_opens = is_first
            current.append(_clean_name(token))
            if not token.endswith("'s"):
                continue
            # A possessive ends the name: "Anna's Berlin flat" is two names.
        if current:
            runs.append((current, current_opens))
            current = []
    if current:
        runs.append((current, current_opens))
    return runs


def extract_entities(text: str, skip: tuple[int, int] | None = None) -> tuple[str, ...]:
    """Capitalised names not at the start of a sentence, plus "my sister Anna" and "named X" patterns.

    A capitalised run that opens a sentence counts only from its second word when the first is a common
    word ("Does Anna..." gives Anna), and as a whole when it is two or more names ("New York is big").
    Characters inside `skip` (the time phrase) are ignored.
    """
    text = plain(text)
    found: list[str] = []
    offset = 0
    # In all-caps text capitals say nothing about names; only the patterns below apply.
    shouting = sum(c.isupper() for c in text) > 3 and text.upper() == text
    for sentence in [] if shouting else _SENTENCE_END.split(text):
        base = text.find(sentence, offset)
        offset = base + len(sentence)
        for words, opens_sentence in _capitalised_runs(sentence, base, skip):
            if opens_sentence and (len(words) == 1 or _is_common(words[0])):
                words = words[1:]
            while words and words[0].lower() in QUERY_STOPWORDS:
                words = words[1:]
            while words and words[-1].lower() in QUERY_STOPWORDS:
                words = words[:-1]
            if words:
                found.append(" ".join(words))
    for pattern in (_RELATION_NAME, _NAMED):
        for m in pattern.finditer(text):
            if skip is not None and skip[0] <= m.start(1) < skip[1]:
                continue
            names = [_clean_name(w) for w in m.group(1).split() if _is_name_word(w)]
            if names:
                found.append(" ".join(names))
    return _unique(found)


def extract_keywords(text: str, entities: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Lowercase content words in order of appearance, stopwords dropped, plurals folded (names kept whole)."""
    text = plain(text)
    name_words = {w.casefold() for entity in entities for w in entity.split()}
    out: list[str] = []
    for m in WORD.finditer(text):
        word = normalise_word(m.group(0))
        if word in QUERY_STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        if word not in name_words:
            word = fold_plural(word)
        if word in QUERY_STOPWORDS:
            continue
        out.append(word)
    return _unique(out, key=lambda w: w)


# ---------------------------------------------------------------- names in a statement

_ENTITY = re.compile(r"\b[A-Z][\w'\-]*(?:\s+(?:of\s+|de\s+|van\s+|von\s+)?[A-Z][\w'\-]*)*")
_NOT_ENTITIES = word_set(
    """I I'm I've I'll I'd Hi Hello Hey Thanks Thank Please Also Actually From My The Yesterday Today Tomorrow
    Next Last On In And But So Oh Well OK Okay Yes No When Whenever Always Never Do Don't Can Could Would What
    Where Who Why How This That These Those It It's We We're Our You Your He She They Just Maybe Sorry By
    Then Now Soon Tonight Every Btw Anyway Also Sometimes Usually Often Lately Recently Her His Its Their"""
)


_CALENDAR = frozenset((*WEEKDAY_NAMES, *MONTH_NAMES))


def capitalised_names(sentence: str) -> list[str]:
    """Names in a sentence: runs of capitalised words that are not sentence openers, weekdays or months."""
    names: list[str] = []
    for m in _ENTITY.finditer(sentence):
        words = m.group(0).split()
        while words and (words[0] in _NOT_ENTITIES or words[0].lower() in _CALENDAR):
            words = words[1:]
        while words and words[-1].lower() in _CALENDAR:
            words = words[:-1]
        name = " ".join(words).strip("'")
        if name.endswith("'s"):
            name = name[:-2]
        if name and name not in _NOT_ENTITIES and name not in names:
            names.append(name)
    return names


def names_given(words: Iterable[str], texts: Iterable[str]) -> set[str]:
    """The casefolded names `texts` give what `words` name, by apposition: a capitalised word right after one of
    them, or after "named", "called" or "is" ("our daughter, Ella", "a cat called Miso"); none of the words that
    name nothing ("my dog Is ..." is no name)."""
    chosen = sorted(set(words))
    if not chosen:
        return set()
    named = re.compile(
        rf"\b(?i:{'|'.join(map(re.escape, chosen))})(?:,\s*|\s+(?:(?i:named|called|is)\s+)?)([A-Z][a-z]+)\b"
    )
    return {m.group(1).casefold() for text in texts for m in named.finditer(text)} - COMMON_WORDS
