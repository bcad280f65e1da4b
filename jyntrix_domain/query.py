"""Query analysis: what a message asks for, which words and names matter, which time it means.

Everything here is deterministic rules over the text and a given `now`, so the same message
always gets the same analysis and no language model is needed.

Time references resolve to a half-open UTC range ``[start, end)`` relative to ``now``:

=========================  ================================================================
phrase                     range
=========================  ================================================================
today, tonight, this       the current day
morning/afternoon/evening
yesterday, last night      the previous day
the day before yesterday   two days back
tomorrow                   the next day
this/last/next week        ISO weeks (Monday 00:00 to the next Monday)
this/last/next weekend     Saturday 00:00 to Monday 00:00 of this/the previous/next ISO week
this/last/next month       calendar months
this/last/next year        calendar years
N days ago                 that calendar day ("a"/"an"/"one".."twelve" count as numbers)
N weeks/months/years ago   the ISO week / calendar month / calendar year N back
a couple of days ago       days -3 and -2
a few days ago             days -5 to -2
past/last N days/weeks...  from the start of that many units back up to the end of today
recently, lately           the last 30 days up to the end of today
the other day              the previous 7 days (not today)
in/during May              the most recent May that has begun (this year's once May starts,
                           else last year's): memories are about the past
last May                   the most recent May before the current month
this May / next May        this year's May / the next May after the current month
May 2023, in May 2023      that month
Jan 5, January 5th,        that day; without a year, the most recent such day that is not
5 January, 5th of Jan      after today
2023-01-05                 that day
in/during 2023             that year
(on) Monday                the most recent Monday, today included
last/past Monday           the most recent Monday before today
this Monday                the Monday of the current ISO week
next Monday                the first Monday after today
=========================  ================================================================

When a message holds several time phrases the earliest (then the longest) wins.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta

import msgspec

from jyntrix_domain.model import MemoryType


class Intent(enum.StrEnum):
    """What a message does: chats, asks, asks about the past, or tells the assistant what to do."""

    CONVERSATION = "conversation"
    QUESTION = "question"
    RECALL = "recall"
    COMMAND = "command"


class TimeRange(msgspec.Struct, frozen=True):
    """A half-open UTC interval ``[start, end)`` and the words that named it."""

    start: datetime
    end: datetime
    phrase: str

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


class QueryAnalysis(msgspec.Struct, frozen=True, kw_only=True):
    """What retrieval needs to know about a message.

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
    memory_types: frozenset[MemoryType]
    small_talk: bool = False
    personal: bool = False


DEFAULT_TYPES: frozenset[MemoryType] = frozenset({MemoryType.PROFILE, MemoryType.SEMANTIC, MemoryType.EPISODIC})

# ---------------------------------------------------------------- vocabulary


def _vocab(words: str) -> frozenset[str]:
    return frozenset(words.split())


STOPWORDS = _vocab("""
    a about above after again against all almost also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
    during each either else even ever every few for from further get gets got had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's however i i'd i'll i'm i've
    if in into is isn't it it's its itself just let's like lot lots may maybe me might mine more most much must
    mustn't my myself no nor not now of off often on once one only or other ought our ours ourselves out over
    own please quite rather really same shall shan't she she'd she'll she's should shouldn't so some such than
    that that's the their theirs them themselves then there there's these they they'd they'll they're they've
    thing things this those though through to too under until up upon us very was wasn't we we'd we'll we're
    we've were weren't what what's whatever when when's where where's whether which while who who's whom whose
    why why's will with won't would wouldn't yes yet you you'd you'll you're you've your yours yourself
    yourselves ok okay hi hello hey thanks thank oh well yeah yep nope sure anything something everything
    nothing anyone someone everyone tell told say said says know knew think remember remind recall mention
    mentioned again still already ago day days week weeks weekend month months year years today tonight
    yesterday tomorrow morning afternoon evening night last next recently lately time times earlier forget
    happen happened happens talk talked discuss discussed chat chatted spoke
    """)

_SMALL_TALK_WORDS = _vocab("""
    hi hello hey heya hiya yo sup thanks thank thx ty you ok okay k kk cool great nice awesome good fine alright
    bye goodbye cya morning evening afternoon night sure yes yeah yep yup no nope lol haha hah hmm hm so much
    very lot a there all right wow perfect got it how are what's up whats doing np welcome cheers see later
    gotcha indeed and too
    """)

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

# Imperatives that change what is remembered or how to behave.
_COMMAND_VERBS = _vocab("""
    remember forget stop always never don't dont call use answer respond reply write speak talk keep set update
    delete remove save store note add be avoid switch make start change erase drop correct
    """)

# Imperatives that ask for information: treated as questions.
_ASK_VERBS = _vocab("tell show list describe explain summarise summarize find give recap")

_WH_WORDS = _vocab("what who whom whose where when why which how")
_AUX_WORDS = _vocab(
    "do does did is are am was were can could would should will have has had shall may might must "
    "isn't aren't wasn't weren't don't doesn't didn't can't couldn't won't wouldn't shouldn't haven't"
)
_QUESTION_PHRASES = re.compile(r"\b(?:do i|am i|did i|have i|was i|can you tell|i wonder|any idea)\b", re.IGNORECASE)

_PERSONAL = _vocab("i me my mine myself i'm i've i'd i'll we us our ours")
_COMMON_VOCABULARIES = (STOPWORDS, _SMALL_TALK_WORDS, _COMMAND_VERBS, _ASK_VERBS, _WH_WORDS, _AUX_WORDS)

_EPISODIC_CUES = re.compile(
    r"\blast time\b|\bwe (?:talked|spoke|chatted|discussed)\b|\btalked about\b|\bour (?:last )?(?:conversation|chat|"
    r"session|talk)\b|\byou said\b|\bdid i (?:tell|mention)\b|\bearlier\b|\bwhat happened\b",
    re.IGNORECASE,
)
_PROCEDURAL_CUES = re.compile(
    r"\bhow should you\b|\bfrom now on\b|\bgoing forward\b|\bprefer(?:s|red|ence|ences)?\b|\balways\b|\bnever\b"
    r"|\b(?:respond|reply|answer|write|speak|talk) (?:in|to me|with|like|more|less)\b|\bstyle\b|\bformat\b"
    r"|\btone\b",
    re.IGNORECASE,
)
_PREFERENCE_CUES = re.compile(r"\bprefer(?:s|red|ence|ences)?\b", re.IGNORECASE)
_FACT_CUES = re.compile(r"\bfavou?rites?\b|\bloves?\b|\bhates?\b|\ballergic\b", re.IGNORECASE)
_PROFILE_CUES = re.compile(
    r"\bwho am i\b|\bmy name\b|\babout me\b|\bcall me\b|\bhow old am i\b|\bmy age\b|\bmy birthday\b"
    r"|\bwhere do i (?:live|work)\b|\bwhere i (?:live|work)\b|\bmy (?:job|work|address|family|wife|husband|partner"
    r"|sister|brother|mother|father|mom|mum|dad|son|daughter|kids|children|pronouns|email|phone)\b"
    r"|\bwhat do i do for (?:a )?living\b",
    re.IGNORECASE,
)

_RELATION_NAME = re.compile(
    r"\b[Mm]y\s+(?:(?:best|old|new|little|big|older|younger|late)\s+)?"
    r"(?:sister|brother|mother|father|mom|mum|dad|son|daughter|wife|husband|partner|boyfriend|girlfriend|fianc[ée]e?"
    r"|friend|boss|manager|colleague|coworker|cousin|aunt|uncle|niece|nephew|grandma|grandpa|grandmother"
    r"|grandfather|dog|cat|pet|baby|kid|child|roommate|neighbou?r|teacher|doctor|therapist|company|team)"
    r"(?:'s)?\s*,?\s+(?:(?:is\s+)?(?:named|called)\s+)?([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)"
)
_NAMED = re.compile(r"\b(?:named|called)\s+([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)")

_MONTHS_FULL = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december",
]  # fmt: skip
_MONTH_ABBR = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
    "nov": 11, "dec": 12,
}  # fmt: skip
_MONTHS: dict[str, int] = {name: i + 1 for i, name in enumerate(_MONTHS_FULL)} | _MONTH_ABBR
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_TIME_WORDS = frozenset([*_MONTHS_FULL, *_WEEKDAYS, "today", "tonight", "yesterday", "tomorrow"])  # never entities

# Words whose plural-looking ending is not a plural.
_NO_FOLD = _vocab(
    "news series species physics mathematics economics politics always perhaps sometimes lens bus gas yes "
    "thanks glasses pants jeans shorts clothes trousers scissors"
)

_IRREGULAR = {
    "children": "child", "men": "man", "women": "woman", "feet": "foot", "teeth": "tooth", "mice": "mouse",
    "geese": "goose", "zombies": "zombie", "calories": "calorie", "wives": "wife", "knives": "knife",
    "lives": "life", "leaves": "leaf", "wolves": "wolf", "shelves": "shelf",
}  # fmt: skip

# ---------------------------------------------------------------- time references

_MONTH_ANY = r"(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"
_MONTH_FULL_RE = r"(" + "|".join(_MONTHS_FULL) + r")"
_NUM = r"(\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")"
_YEAR = r"((?:19|20)\d{2})"
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"


def _start_of_day(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=UTC)


def _days(d: date, n: int = 1, phrase: str = "") -> TimeRange:
    return TimeRange(_start_of_day(d), _start_of_day(d + timedelta(days=n)), phrase)


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _month(year: int, month: int, phrase: str) -> TimeRange:
    ny, nm = _add_months(year, month, 1)
    return TimeRange(_start_of_day(date(year, month, 1)), _start_of_day(date(ny, nm, 1)), phrase)


def _year(year: int, phrase: str) -> TimeRange:
    return TimeRange(_start_of_day(date(year, 1, 1)), _start_of_day(date(year + 1, 1, 1)), phrase)


def _number(word: str) -> int:
    word = word.lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def _monday(today: date) -> date:
    return today - timedelta(days=today.weekday())


_Resolver = Callable[["re.Match[str]", date, datetime], TimeRange | None]


def _r_fixed_day(offset: int) -> _Resolver:
    return lambda m, today, now: _days(today + timedelta(days=offset), 1, m.group(0))


def _r_relative_span(m: re.Match[str], today: date, now: datetime) -> TimeRange | None:
    which, unit = m.group(1).lower(), m.group(2).lower()
    shift = {"this": 0, "last": -1, "past": -1, "previous": -1, "next": 1, "coming": 1}[which]
    phrase = m.group(0)
    if unit == "week":
        return _days(_monday(today) + timedelta(weeks=shift), 7, phrase)
    if unit == "weekend":
        saturday = _monday(today) + timedelta(days=5, weeks=shift)
        return _days(saturday, 2, phrase)
    if unit == "month":
        y, mo = _add_months(today.year, today.month, shift)
        return _month(y, mo, phrase)
    return _year(today.year + shift, phrase)


def _r_ago(m: re.Match[str], today: date, now: datetime) -> TimeRange | None:
    n, unit, phrase = _number(m.group(1)), m.group(2).lower(), m.group(0)
    if unit == "day":
        return _days(today - timedelta(days=n), 1, phrase)
    if unit == "week":
        return _days(_monday(today) - timedelta(weeks=n), 7, phrase)
    if unit == "month":
        y, mo = _add_months(today.year, today.month, -n)
        return _month(y, mo, phrase)
    return _year(today.year - n, phrase)


def _r_few_days_ago(m: re.Match[str], today: date, now: datetime) -> TimeRange | None:
    back = 3 if "couple" in m.group(0).lower() else 5
    return TimeRange(_start_of_day(today - timedelta(days=back)), _start_of_day(today - timedelta(days=1)), m.group(0))


def _r_past_n(m: re.Match[str], today: date, now: datetime) -> TimeRange | None:
    n, unit = _number(m.group(1)), m.group(2).lower()
    end = _start_of_day(today + timedelta(days=1))
    if unit == "day":
        start = _start_of_day(today - timedelta(days=n))
    elif unit == "week":
        start = _start_of_day(today - timedelta(weeks=n))
    elif unit == "month":
        y, mo = _add_months(today.year, today.month, -n)
        start = _start_of_day(date(y, mo, min(today.day, 28)))
    else:
        start = _start_of_day(date(today.year - n, today.month, min(today.day, 28)))
    return TimeRange(start, end, m.group(0))


def _r_recently(m: re.Match[str], today: date, now: datetime) -> TimeRange | None:
    if "other day" in m.group(0).lower():
        return TimeRange(_start_of_day(today - timedelta(days=7)), _start_of_day(today), m.group(0))
    return TimeRange(_start_of_day(today - timedelta(days=30)), _start_of_day(today + timedelta(days=1)), m.group(0))


def _r_month_name(m: re.Match[str], today: date, now: datetime) -> TimeRange | None:
    which = (m.group(1) or "in").lower()
    month = _MONTHS[m.group(2).lower()]
    if m.group(3):
        return _month(int(m.group(3)), month, m.group(0))
    if which == "this":
        year = today.year
    elif which == "next":
        year = today.year if month > today.month else today.year + 1
    elif which == "last":
        year = today.year if month < today.month else today.year - 1
    else:  # in / during: the most recent one that has begun
        year = today.year if month <= today.month else today.year - 1
    return _month(year, month, m.group(0))


def _r_month_year(m: re.Match[str], today: date, now: datetime) -> TimeRange | None:
    return _month(int(m.group(2)), _MONTHS[m.group(1).lower()], m.group(0))


def _day_of(month: int, day: int, year_text: str | None, today: date, phrase: str) -> TimeRange | None:
    try:
        if year_text:
            return _days(date(int(year_text), month, day), 1, phrase)
        candidate = date(today.year, month, day)
        if candidate > today:
            candidate = date(today.year - 1, month, day)
    except ValueError:  # 30 February, or 29 February in the fallback year
        return None
    return _days(candidate, 1, phrase)


def _r_month_day(m: re.Match[str], today: date, now: datetime) -> TimeRange | None:
    return _day_of(_MONTHS[m.group(1).lower()], int(m.group(2)), m.group(3), today, m.group(0))


def _r_day_month(m: re.Match[str], today: date, now: datetime) -> TimeRange | None:
    return _day_of(_MONTHS[m.group(2).lower()], int(m.group(1)), m.group(3), today, m.group(0))


def _r_iso(m: re.Match[str], today: date, now: datetime) -> TimeRange | None:
    try:
        return _days(date(int(m.group(1)), int(m.group(2)), int(m.group(3))), 1, m.group(0))
    except ValueError:
        return None


def _r_in_year(m: re.Match[str], today: date, now: datetime) -> TimeRange | None:
    return _year(int(m.group(1)), m.group(0))


def _r_weekday(m: re.Match[str], today: date, now: datetime) -> TimeRange | None:
    which = (m.group(1) or "on").lower()
    wd = _WEEKDAYS.index(m.group(2).lower())
    if which in ("last", "past"):
        back = (today.weekday() - wd - 1) % 7 + 1
        return _days(today - timedelta(days=back), 1, m.group(0))
    if which == "next":
        ahead = (wd - today.weekday() - 1) % 7 + 1
        return _days(today + timedelta(days=ahead), 1, m.group(0))
    if which == "this":
        return _days(_monday(today) + timedelta(days=wd), 1, m.group(0))
    return _days(today - timedelta(days=(today.weekday() - wd) % 7), 1, m.group(0))


_TIME_PATTERNS: tuple[tuple[re.Pattern[str], _Resolver], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), resolver)
    for pattern, resolver in (
        (r"\b(?:earlier\s+)?today\b|\btonight\b|\bthis (?:morning|afternoon|evening)\b", _r_fixed_day(0)),
        (r"\b(?:the\s+)?day before yesterday\b", _r_fixed_day(-2)),
        (r"\byesterday(?:\s+(?:morning|afternoon|evening))?\b|\blast night\b", _r_fixed_day(-1)),
        (r"\btomorrow\b", _r_fixed_day(1)),
        (r"\b(this|last|past|previous|next|coming)\s+(week|weekend|month|year)\b", _r_relative_span),
        (r"\b" + _NUM + r"\s+(day|week|month|year)s?\s+ago\b", _r_ago),
        (r"\ba\s+(?:couple\s+of|few)\s+days\s+ago\b|\b(?:a\s+)?couple\s+(?:of\s+)?days\s+ago\b", _r_few_days_ago),
        (r"\b(?:the\s+)?(?:last|past)\s+" + _NUM + r"\s+(day|week|month|year)s?\b", _r_past_n),
        (r"\brecently\b|\blately\b|\bthe other day\b", _r_recently),
        (r"\b" + _YEAR + r"-(\d{2})-(\d{2})\b", _r_iso),
        (
            r"\b(?:on\s+)?(?:the\s+)?" + _MONTH_ANY + r"\.?\s+" + _ORD + r"\b(?:,?\s+" + _YEAR + r"\b)?",
            _r_month_day,
        ),
        (
            r"\b(?:on\s+)?(?:the\s+)?" + _ORD + r"\s+(?:of\s+)?" + _MONTH_ANY + r"\b\.?(?:,?\s+" + _YEAR + r"\b)?",
            _r_day_month,
        ),
        (r"\b(in|during|last|this|next)\s+" + _MONTH_FULL_RE + r"\b(?:\s+" + _YEAR + r"\b)?", _r_month_name),
        (r"\b" + _MONTH_FULL_RE + r"\s+" + _YEAR + r"\b", _r_month_year),
        (r"\b(?:in|during)\s+" + _YEAR + r"\b", _r_in_year),
        (r"\b(?:(on|last|this|next|past)\s+)?(" + "|".join(_WEEKDAYS) + r")\b", _r_weekday),
    )
)


def resolve_time(text: str, now: datetime) -> tuple[TimeRange, tuple[int, int]] | None:
    """The first time reference in `text` as a UTC range, with its character span."""
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    today = now.date()
    best: tuple[int, int, TimeRange] | None = None
    for pattern, resolver in _TIME_PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.span()
            if best is not None and (start > best[0] or (start == best[0] and end - start <= best[1] - best[0])):
                continue
            try:
                resolved = resolver(m, today, now)
            except (ValueError, OverflowError):  # beyond the calendar, e.g. "next year" in 9999
                continue
            if resolved is not None:
                best = (start, end, resolved)
    if best is None:
        return None
    return best[2], (best[0], best[1])


# ---------------------------------------------------------------- words and names

_WORD = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*'?", re.UNICODE)
_TOKEN = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*'?|[^\w\s]", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _plain(text: str) -> str:
    """Typographic apostrophes as ASCII ones; same length, so character spans stay valid."""
    return text.replace("\u2019", "'")


def _normalise_word(word: str) -> str:
    word = word.lower()
    if word.endswith("'s"):
        word = word[:-2]
    return word.rstrip("'")


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
    low = word.lower()
    return any(low in vocabulary for vocabulary in _COMMON_VOCABULARIES)


def _capitalised_runs(sentence: str, base: int, skip: tuple[int, int] | None) -> list[tuple[list[str], bool]]:
    """Runs of adjacent capitalised words, each with whether it opens the sentence."""
    runs: list[tuple[list[str], bool]] = []
    current: list[str] = []
    current_opens = False
    seen_word = False
    for m in _TOKEN.finditer(sentence):
        token = m.group(0)
        is_word = bool(_WORD.fullmatch(token))
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
    text = _plain(text)
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
            while words and words[0].lower() in STOPWORDS:
                words = words[1:]
            while words and words[-1].lower() in STOPWORDS:
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
    text = _plain(text)
    name_words = {w.casefold() for entity in entities for w in entity.split()}
    out: list[str] = []
    for m in _WORD.finditer(text):
        word = _normalise_word(m.group(0))
        if word in STOPWORDS or (len(word) < 2 and not word.isdigit()):
            continue
        if word not in name_words:
            word = fold_plural(word)
        if word in STOPWORDS:
            continue
        out.append(word)
    return _unique(out, key=lambda w: w)


# ---------------------------------------------------------------- intent and needs


def _words(text: str) -> list[str]:
    return [_normalise_word(m.group(0)) for m in _WORD.finditer(text)]


def _first_words(text: str) -> list[str]:
    words = [w.lower() for w in (m.group(0) for m in _WORD.finditer(text))]
    while words and words[0] in ("please", "ok", "okay", "so", "hey", "and", "also", "oh", "well", "now", "pls"):
        words = words[1:]
    return words


def is_small_talk(text: str) -> bool:
    words = _words(text)
    return 0 < len(words) <= 6 and all(w in _SMALL_TALK_WORDS for w in words)


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
        or head in _WH_WORDS
        or head in _AUX_WORDS
        or head in _ASK_VERBS
        or _QUESTION_PHRASES.match(stripped)
    ):
        return Intent.QUESTION
    if head in _COMMAND_VERBS:
        return Intent.COMMAND
    return Intent.CONVERSATION


def memory_types_for(
    text: str, intent: Intent, time_range: TimeRange | None, entities: tuple[str, ...]
) -> frozenset[MemoryType]:
    """Which memory types a message needs: the union of what its cues ask for.

    ===========================================================  ==========================
    cue                                                          types
    ===========================================================  ==========================
    "last time", "we talked", "our conversation", "you said"...  episodic
    a time reference ("yesterday", "in May"...)                  episodic + semantic (dated
                                                                 facts are often semantic)
    "how should you", "from now on", "always", "style", "tone"   procedural
    "prefer", "preference"                                       procedural + semantic
    "favourite", "love", "hate", "allergic"                      semantic + profile
    "who am I", "my name", "call me", "where do I live"...       profile
    recall intent                                                episodic + semantic
    named entities, once any cue matched                         + semantic
    no cue at all                                                profile + semantic + episodic
    ===========================================================  ==========================
    """
    types: set[MemoryType] = set()
    if _EPISODIC_CUES.search(text):
        types.add(MemoryType.EPISODIC)
    if time_range is not None:
        types |= {MemoryType.EPISODIC, MemoryType.SEMANTIC}
    if _PROCEDURAL_CUES.search(text):
        types.add(MemoryType.PROCEDURAL)
    if _PREFERENCE_CUES.search(text):
        types |= {MemoryType.PROCEDURAL, MemoryType.SEMANTIC}
    if _FACT_CUES.search(text):
        types |= {MemoryType.SEMANTIC, MemoryType.PROFILE}
    if _PROFILE_CUES.search(text):
        types.add(MemoryType.PROFILE)
    if intent is Intent.RECALL:
        types |= {MemoryType.EPISODIC, MemoryType.SEMANTIC}
    if not types:
        return DEFAULT_TYPES
    if entities:
        types.add(MemoryType.SEMANTIC)
    return frozenset(types)


class QueryAnalyzer:
    """Rule-based, deterministic analysis of one user message."""

    def analyze(self, text: str, now: datetime) -> QueryAnalysis:
        original, text = text, _plain(text)
        resolved = resolve_time(text, now)
        time_range, span = (resolved[0], resolved[1]) if resolved else (None, None)
        entities = extract_entities(text, skip=span)
        content = text if span is None else text[: span[0]] + " " + text[span[1] :]
        keywords = extract_keywords(content, entities)
        intent = classify_intent(text)
        small_talk = is_small_talk(text)
        personal = any(w in _PERSONAL for w in _words(text))
        requires_memory = (
            intent is Intent.RECALL
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
            memory_types=memory_types_for(text, intent, time_range, entities),
            small_talk=small_talk,
            personal=personal,
        )
