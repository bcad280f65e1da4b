"""Deterministic extraction: rules for common first-person statements, no model needed.

Each rule is a regular expression and a builder that rewrites the statement in the third
person about "the user" and gives it a type, a reliability, entities, relations and, for facts
with one current value, a slot (see `jyntrix_domain.consolidation` for the slot table).
Only the user's own messages are read; questions and hypotheticals state nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from jyntrix_domain.model import USER_NODE, MemoryType, Message, Relation, Role, entity_key

USER = USER_NODE


class Contradiction(msgspec.Struct, frozen=True):
    """Another slot's value that a candidate makes false: "doesn't drink coffee" ends "loves coffee"."""

    slot: str
    values: tuple[str, ...]
    anchor: str  # wording the holders' content contains, to list them


class FactCandidate(msgspec.Struct, frozen=True, kw_only=True):
    """A memory an extractor proposes; the Consolidator decides what becomes of it."""

    type: MemoryType
    content: str
    reliability: float = 0.8
    entities: tuple[str, ...] = ()
    relations: tuple[Relation, ...] = ()
    slot: str | None = None
    value: str | None = None
    anchor: str | None = None
    contradicts: tuple[Contradiction, ...] = ()
    source_message_ids: tuple[str, ...] = ()
    created_at: datetime | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


# --------------------------------------------------------------------------- text helpers


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_WORD = re.compile(r"[\w']+")
_TOKEN_STOP = _words("the a an is are was of to in at on and user user's")


def normalise(text: str) -> str:
    """Casefolded words only: what two statements of the same fact have in common."""
    return " ".join(_WORD.findall(text.casefold()))


def content_words(text: str) -> frozenset[str]:
    return frozenset(t for t in _WORD.findall(text.casefold()) if t not in _TOKEN_STOP)


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return len(a & b) / len(a | b)


_SENTENCE_SPLIT = re.compile(
    r"(?<=[.!?;])\s+|\n+|,?\s+(?:and|but|so|also)\s+(?=(?:I|I'm|I've|I'll|I'd|my|My)\b)|,\s+(?=(?:I|I'm|my|My)\s)"
)
_HEDGES = re.compile(r"(?i)\b(?:i think|i guess|maybe|probably|perhaps|might|not sure|i suppose)\b")


def split_sentences(text: str) -> list[str]:
    """Sentences and first-person clauses ("I live in X and I work at Y" is two)."""
    parts = (p.strip(" \t,;-") for p in _SENTENCE_SPLIT.split(text))
    return [p for p in parts if p]


_AUX = _words(
    "will would can could should might must did had was may shall used can't won't didn't couldn't "
    "wouldn't shouldn't wasn't"
)
_IRREGULAR_PRESENT = {"have": "has", "do": "does", "go": "goes", "don't": "doesn't", "am": "is", "'m": "is"}
_IRREGULAR_PAST = _words(
    "went had saw met got took came made bought found left ate flew ran began wrote spoke told thought felt "
    "became brought caught chose drove drank fell forgot gave grew heard held kept knew lost paid put quit "
    "read rode sang sat sent slept sold spent stood swam taught understood woke won wore"
)
_ADVERBS = _words(
    "really also usually often never always still just only sometimes actually currently now recently "
    "finally absolutely totally truly definitely"
)


def _conjugate(verb: str) -> str:
    low = verb.lower()
    if low in _IRREGULAR_PRESENT:
        return _IRREGULAR_PRESENT[low]
    if low in _AUX or low in _IRREGULAR_PAST or low.endswith("ed") or not low.isalpha():
        return verb
    if low.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if low.endswith("y") and len(low) > 1 and low[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


_FIRST_PERSON = re.compile(
    r"\b(?:I'm|I am|I've|I have|I'll|I'd|I was|I)\b(?:\s+((?:[a-z]+\s+)?)([a-z']+))?|\b(?:my|mine|me|myself)\b",
    re.IGNORECASE,
)


def third_person(text: str) -> str:
    """Rewrite a first-person statement about the user in the third person ("I love X" -> "The user loves X")."""

    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        head = word.split()[0].lower() if word.split() else word.lower()
        if head in ("my", "mine"):
            return "the user's"
        if head == "me":
            return "the user"
        if head == "myself":
            return "themselves"
        low = word.lower()
        for prefix, repl in (
            ("i'm", "the user is"),
            ("i am", "the user is"),
            ("i've", "the user has"),
            ("i have", "the user has"),
            ("i'll", "the user will"),
            ("i'd", "the user would"),
            ("i was", "the user was"),
        ):
            if low.startswith(prefix) and (len(low) == len(prefix) or not low[len(prefix)].isalpha()):
                return repl + word[len(prefix) :]
        adverb, verb = m.group(1) or "", m.group(2) or ""
        if not verb:
            return "the user"
        if adverb.strip().lower() not in _ADVERBS and adverb:
            # "I <not an adverb> <word>": the first word is the verb.
            first = adverb.strip()
            return f"the user {_conjugate(first)} {verb}"
        return f"the user {adverb}{_conjugate(verb)}"

    out = _FIRST_PERSON.sub(swap, text.strip())
    out = out.rstrip(" .!")
    return out[:1].upper() + out[1:] if out else out


def _clean_object(text: str) -> str:
    """The object of a verb up to the end of its clause, without trailing intensifiers."""
    text = re.split(r"(?i)\s+(?:but|because|although|though|since|when|while|if|which)\b|[,.;!?()]", text)[0]
    text = re.sub(r"(?i)\s+(?:a lot|so much|very much|too|as well|a bit|anymore|any more)$", "", text.strip())
    return text.strip(" '\"")


# --------------------------------------------------------------------------- dates

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH_RE = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_TIME_PHRASE = re.compile(
    r"(?i)\b(?:today|tonight|tomorrow|yesterday|last night|this (?:morning|afternoon|evening|weekend)"
    r"|(?:next|last|this) (?:week(?:end)?|month|year)"
    r"|(?:on |next |last |this )?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
    r"|in (?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten) (?:days?|weeks?|months?)"
    r"|(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten) (?:days?|weeks?|months?) ago"
    rf"|(?:on )?{_MONTH_RE}\.? \d{{1,2}}(?:st|nd|rd|th)?|(?:on )?(?:the )?\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH_RE}"
    rf"|in {_MONTH_RE}\b)"
)


def _month_number(word: str) -> int:
    word = word.lower().rstrip(".")
    for i, name in enumerate(_MONTHS, start=1):
        if name.startswith(word[:3]):
            return i
    raise ValueError(word)


def resolve_date(phrase: str, today: date) -> tuple[date, str]:
    """A time phrase as the date it points at, and how to label it ("week of", "" for a day)."""
    p = phrase.lower().strip()
    p = re.sub(r"^on\s+", "", p)
    if p in ("today", "tonight") or p.startswith("this morning") or p.startswith("this afternoon"):
        return today, ""
    if p.startswith("this evening"):
        return today, ""
    if p == "tomorrow":
        return today + timedelta(days=1), ""
    if p in ("yesterday", "last night"):
        return today - timedelta(days=1), ""
    monday = today - timedelta(days=today.weekday())
    if p in ("this weekend", "next weekend"):
        saturday = monday + timedelta(days=5)
        return saturday + (timedelta(days=7) if p.startswith("next") else timedelta()), "weekend of "
    if p == "last weekend":
        return monday - timedelta(days=2), "weekend of "
    if p in ("next week", "last week", "this week"):
        shift = {"next": 7, "last": -7, "this": 0}[p.split()[0]]
        return monday + timedelta(days=shift), "week of "
    if p in ("next month", "last month", "this month"):
        month = today.month + {"next": 1, "last": -1, "this": 0}[p.split()[0]]
        year = today.year + (month - 1) // 12
        return date(year, (month - 1) % 12 + 1, 1), "month of "
    if p in ("next year", "last year", "this year"):
        return date(today.year + {"next": 1, "last": -1, "this": 0}[p.split()[0]], 1, 1), "year "
    for i, name in enumerate(_WEEKDAYS):
        if p.endswith(name):
            ahead = (i - today.weekday()) % 7
            if p.startswith("last"):
                return today - timedelta(days=(today.weekday() - i) % 7 or 7), ""
            if p.startswith("next") or ahead == 0:
                ahead = ahead or 7
            return today + timedelta(days=ahead), ""
    m = re.match(r"in (\w+) (day|week|month)s?$", p) or re.match(r"(\w+) (day|week|month)s? ago$", p)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _NUMBERS.get(m.group(1), 1)
        days = n * {"day": 1, "week": 7, "month": 30}[m.group(2)]
        return today + timedelta(days=-days if p.endswith("ago") else days), ""
    m = re.match(rf"({_MONTH_RE})\.? (\d{{1,2}})", p) or re.match(
        rf"(?:the )?(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({_MONTH_RE})", p
    )
    if m:
        a, b = m.group(1), m.group(2)
        month, day = (_month_number(a), int(b)) if not a.isdigit() else (_month_number(b), int(a))
        try:
            when = date(today.year, month, day)
        except ValueError:
            return today, ""
        # Plans and events are mostly near: a date already well past this year means next year.
        if when < today - timedelta(days=180):
            when = date(today.year + 1, month, day)
        return when, ""
    m = re.match(rf"in ({_MONTH_RE})", p)
    if m:
        month = _month_number(m.group(1))
        year = today.year if month >= today.month else today.year + 1
        return date(year, month, 1), "month of "
    return today, ""


# --------------------------------------------------------------------------- deterministic rules

_NAME = r"([A-Z][\w'\-]+(?:\s+(?:van |de |von |da )?[A-Z][\w'\-]+){0,2})"
_PLACE = r"((?:the\s+)?[A-Z][\w'\-]*(?:(?:\s+|,\s*)(?:(?:of|de|am|upon|on|du|la|le|del)\s+)?[A-Z][\w'\-]*){0,3})"
_NOT_NAMES = _words(
    """I Im Hi Hello Hey Yes No Not Ok Okay So Sorry Just Also Still Really Very Here There Back Done Fine Good
    Great Happy Sad Tired Sure Ready Going Home Busy Glad Monday Tuesday Wednesday Thursday Friday Saturday Sunday
    January February March April May June July August September October November December The A An From In At
    On To Into With Afraid Sick Excited Interested Looking Thinking Trying Working Living Learning Planning
    Moving Reading Writing Bored Hungry Back"""
)
NATIONALITIES = _words(
    """American British English Scottish Welsh Irish German French Spanish Italian Portuguese Dutch Belgian Swiss
    Austrian Swedish Norwegian Danish Finnish Polish Czech Greek Turkish Russian Ukrainian Canadian Mexican
    Brazilian Argentinian Chilean Colombian Peruvian Australian Chinese Japanese Korean Indian Pakistani
    Nigerian Kenyan Egyptian Israeli Iranian Vietnamese Thai Filipino Indonesian Hungarian Romanian
    Bulgarian Croatian Serbian"""
)
LANGUAGES = _words(
    """English German French Spanish Italian Portuguese Dutch Swedish Norwegian Danish Finnish Polish Czech
    Greek Turkish Russian Ukrainian Chinese Mandarin Cantonese Japanese Korean Hindi Arabic Hebrew Persian
    Vietnamese Thai Indonesian Hungarian Romanian Catalan Basque"""
)
_SINGLE_RELATIONS = {
    "wife": "wife",
    "husband": "husband",
    "partner": "partner",
    "spouse": "spouse",
    "girlfriend": "girlfriend",
    "boyfriend": "boyfriend",
    "fiance": "fiance",
    "fiancé": "fiance",
    "fiancee": "fiance",
    "fiancée": "fiance",
    "boss": "boss",
    "manager": "manager",
    "mother": "mother",
    "mom": "mother",
    "mum": "mother",
    "father": "father",
    "dad": "father",
}
_MULTI_RELATIONS = {
    "sister": "sister",
    "brother": "brother",
    "son": "son",
    "daughter": "daughter",
    "friend": "friend",
    "best friend": "best friend",
    "colleague": "colleague",
    "coworker": "colleague",
    "cousin": "cousin",
    "aunt": "aunt",
    "uncle": "uncle",
    "grandmother": "grandmother",
    "grandma": "grandmother",
    "grandfather": "grandfather",
    "grandpa": "grandfather",
    "niece": "niece",
    "nephew": "nephew",
    "roommate": "roommate",
    "dog": "dog",
    "cat": "cat",
    "puppy": "dog",
    "kitten": "cat",
    "horse": "horse",
    "rabbit": "rabbit",
    "parrot": "parrot",
}
_PETS = frozenset({"dog", "cat", "horse", "rabbit", "parrot"})
_REL_WORDS = "|".join(sorted((*_SINGLE_RELATIONS, *_MULTI_RELATIONS), key=len, reverse=True))
_OCCUPATION = re.compile(
    r"(?i)^(?:(?:senior|junior|lead|head|chief|freelance|professional|software|data|web|civil|mechanical|"
    r"electrical|registered|school|high school|primary school|university|graphic|product|project|ux|ui)\s+)*"
    r"(?:[a-z]+(?:er|or|ist|ian|ant|ent|ect|eon)|nurse|doctor|chef|cook|pilot|lawyer|teacher|student|"
    r"engineer|developer|designer|architect|scientist|researcher|accountant|consultant|journalist|artist|"
    r"musician|writer|editor|pharmacist|dentist|vet|farmer|firefighter|paramedic|barista|waiter|waitress|"
    r"plumber|electrician|carpenter|mechanic|programmer|analyst|manager|director|ceo|cto|founder|"
    r"entrepreneur|professor|lecturer|tutor|therapist|psychologist|surgeon|midwife|police officer|soldier|"
    r"secretary|assistant|clerk|cashier|driver|photographer|translator|librarian|student)$"
)
_NOT_OCCUPATION = _words(
    """vegetarian vegan pescatarian fan beginner member other owner user customer mother father brother sister
    daughter grandmother grandfather lover runner believer gamer smoker winner loser fighter reader"""
)
_DIETS = ("vegetarian", "vegan", "pescatarian", "pescetarian")
_ENTITY = re.compile(r"\b[A-Z][\w'\-]*(?:\s+(?:of\s+|de\s+|van\s+|von\s+)?[A-Z][\w'\-]*)*")
_NOT_ENTITIES = _words(
    """I I'm I've I'll I'd Hi Hello Hey Thanks Thank Please Also Actually From My The Yesterday Today Tomorrow
    Next Last On In And But So Oh Well OK Okay Yes No When Whenever Always Never Do Don't Can Could Would What
    Where Who Why How This That These Those It It's We We're Our You Your He She They Just Maybe Sorry By
    Then Now Soon Tonight Every Btw Anyway Also Sometimes Usually Often Lately Recently Her His Its Their"""
)


def capitalised_names(sentence: str) -> list[str]:
    """Names in a sentence: runs of capitalised words that are not sentence openers, weekdays or months."""
    names: list[str] = []
    for m in _ENTITY.finditer(sentence):
        words = m.group(0).split()
        while words and (words[0] in _NOT_ENTITIES or words[0].lower() in _WEEKDAYS or words[0].lower() in _MONTHS):
            words = words[1:]
        while words and (words[-1].lower() in _WEEKDAYS or words[-1].lower() in _MONTHS):
            words = words[:-1]
        name = " ".join(words).strip("'")
        if name.endswith("'s"):
            name = name[:-2]
        if name and name not in _NOT_ENTITIES and name not in names:
            names.append(name)
    return names


def _rel(predicate: str, target: str) -> Relation:
    return Relation(source=USER, predicate=predicate.replace(" ", "_"), target=target)


def _key(text: str) -> str:
    return entity_key(re.sub(r"^(?:the|a|an)\s+", "", text.strip(), flags=re.IGNORECASE))


def _c(
    type: MemoryType,
    content: str,
    *,
    slot: str | None = None,
    value: str | None = None,
    anchor: str | None = None,
    relations: Sequence[Relation] = (),
    entities: Sequence[str] = (),
    reliability: float = 0.9,
    metadata: Mapping[str, Any] | None = None,
    contradicts: Sequence[Contradiction] = (),
) -> FactCandidate:
    return FactCandidate(
        type=type,
        content=content,
        slot=slot,
        value=value,
        anchor=anchor,
        contradicts=tuple(contradicts),
        relations=tuple(relations),
        entities=tuple(entities),
        reliability=reliability,
        metadata=dict(metadata or {}),
    )


_Build = Callable[[re.Match[str], str], list[FactCandidate]]


class _Rule(msgspec.Struct, frozen=True):
    pattern: re.Pattern[str]
    build: _Build
    # Also read with the previous sentence before it, for a statement that refers back ("Her name is Bella").
    spans_previous: bool = False


def _place(text: str) -> str:
    return text.strip(" ,.;!")


def _is_name(name: str) -> bool:
    # "I'm Happy", "I'm German", "my friend Monday": capitalised, but not a name.
    first = name.split()[0]
    return first not in _NOT_NAMES and first not in NATIONALITIES


class _Fact(msgspec.Struct, frozen=True):
    """A fact whose one value is the match's first group: most rules are only this.

    ``content``, ``slot`` and ``anchor`` are templates over ``{value}`` and ``{key}`` (the value
    as an entity key, for slots held once per thing, such as one per allergen). The anchor is by
    default the content's wording before the value, so it cannot drift from what holders say.
    """

    type: MemoryType
    content: str
    slot: str
    anchor: str | None = None
    predicate: str | None = None
    entity: bool = False  # the value names a person, place or organisation
    clean: Callable[[str], str | None] = _place  # returns nothing to reject the match
    slot_value: str | None = None  # when the slot names the thing, its value is a state ("allergic")
    reliability: float = 0.9

    def __call__(self, m: re.Match[str], _: str) -> list[FactCandidate]:
        value = self.clean(m.group(1))
        return [self.make(value)] if value else []

    def make(self, value: str, metadata: Mapping[str, Any] | None = None) -> FactCandidate:
        def fill(template: str) -> str:
            return template.format(value=value, key=_key(value))

        return _c(
            self.type,
            fill(self.content),
            slot=fill(self.slot),
            value=self.slot_value or value,
            anchor=fill(self.anchor or self.content.partition("{value}")[0].rstrip()),
            entities=[value] if self.entity else (),
            relations=[_rel(self.predicate, value)] if self.predicate else (),
            reliability=self.reliability,
            metadata=metadata,
        )


def _person(name: str) -> str | None:
    name = name.strip()
    return name if _is_name(name) else None


def _nationality(word: str) -> str | None:
    return word if word in NATIONALITIES else None


def _age(years: str) -> str | None:
    return str(int(years)) if 3 <= int(years) <= 120 else None


# Facts that several rules, or rules with logic of their own, state.
_NAME_IS = _Fact(
    MemoryType.PROFILE,
    "The user's name is {value}",
    slot="name",
    predicate="name",
    entity=True,
    clean=_person,
    reliability=0.95,
)
_LIVES_IN = _Fact(MemoryType.PROFILE, "The user lives in {value}", slot="location", predicate="lives_in", entity=True)
_STUDIES = _Fact(MemoryType.PROFILE, "The user studies {value}", slot="studies", predicate="studies")
_STUDIES_AT = _Fact(
    MemoryType.PROFILE, "The user studies at {value}", slot="school", predicate="studies_at", entity=True
)
_DIET = _Fact(MemoryType.SEMANTIC, "The user is {value}", slot="diet", clean=str.lower)
_SPEAKS = _Fact(
    MemoryType.PROFILE,
    "The user speaks {value}",
    slot="speaks:{key}",
    anchor="speaks {value}",
    predicate="speaks",
    entity=True,
)


def _moved(m: re.Match[str], _: str) -> list[FactCandidate]:
    groups = m.groupdict()
    place = _place(groups.get("to") or "")
    previous = _place(groups.get("from") or groups.get("from2") or "")
    if not place:
        return []
    return [_LIVES_IN.make(place, metadata={"moved_from": previous} if previous else None)]


def _job_phrase(raw: str) -> str | None:
    job = _clean_object(raw)
    job = re.split(r"(?i)\s+(?:at|for|in|from|with|and)\s+", job)[0].strip()
    if not job or len(job.split()) > 5:
        return None
    return job


def _job(article: str, job: str) -> FactCandidate:
    # The content keeps the article ("works as an engineer"); the value is the job alone.
    phrase = f"{article.strip()} {job}".strip()
    return _c(
        MemoryType.PROFILE,
        f"The user works as {phrase}",
        slot="job",
        value=job,
        anchor="The user works as",
        relations=[_rel("works_as", job)],
    )


def _works_as(m: re.Match[str], _: str) -> list[FactCandidate]:
    job = _job_phrase(m.group(2))
    return [] if job is None else [_job(m.group(1) or "", job)]


def _i_am_a(m: re.Match[str], _: str) -> list[FactCandidate]:
    job = _job_phrase(m.group(2))
    if job is None:
        return []
    last = job.split()[-1].lower()
    if last in _DIETS:
        return [_DIET.make(last)]
    if last in _NOT_OCCUPATION or not _OCCUPATION.match(job):
        return []
    return [_job(m.group(1), job)]


_NOT_SUBJECTS = _words("at hard for to with a the my tonight today tomorrow late all abroad")


def _studies(m: re.Match[str], _: str) -> list[FactCandidate]:
    subject = re.split(r"\s+at\s+", _clean_object(m.group(1)))[0].strip()
    school = _place(m.group(2) or "")
    out = []
    first = subject.split()[0].lower() if subject else ""
    if subject and len(subject.split()) <= 4 and first not in _NOT_SUBJECTS and not _TIME_PHRASE.search(subject):
        out.append(_STUDIES.make(subject))
    if school:
        out.append(_STUDIES_AT.make(school))
    return out


def _relation_slot(rel: str, name: str) -> str:
    return f"relation:{rel}" if rel in _SINGLE_RELATIONS.values() else f"relation:{rel}:{_key(name)}"


def _canonical_rel(word: str) -> str:
    word = " ".join(word.lower().split())
    return _SINGLE_RELATIONS.get(word) or _MULTI_RELATIONS[word]


def _relation(rel_word: str, name: str, content: str | None = None) -> list[FactCandidate]:
    """A named person or pet, worded by default "has a dog named Rex" or "'s sister is Anna"."""
    name = name.strip()
    if not _is_name(name):
        return []
    rel = _canonical_rel(rel_word)
    if content is None:
        content = f"The user has a {rel} named {name}" if rel in _PETS else f"The user's {rel} is {name}"
    return [
        _c(
            MemoryType.SEMANTIC,
            content,
            slot=_relation_slot(rel, name),
            value=name,
            anchor=f"The user's {rel}" if rel not in _PETS else f"{rel} named",
            entities=[name],
            relations=[_rel(rel, name)],
        )
    ]


def _relation_is(m: re.Match[str], _: str) -> list[FactCandidate]:
    return _relation(m.group(1), m.group(2))


def _is_my(m: re.Match[str], _: str) -> list[FactCandidate]:
    return _relation(m.group(2), m.group(1))


def _has_named(m: re.Match[str], _: str) -> list[FactCandidate]:
    rel, name = _canonical_rel(m.group(1)), m.group(2).strip()
    return _relation(m.group(1), name, f"The user has a {rel} named {name}")


def _relation_apposition(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    rest = sentence[m.end() :].strip(" ,.!")
    # "my sister Anna lives in Rome": keep the whole statement, it says more than the relation.
    content = third_person(sentence) if m.start() == 0 and rest else None
    return _relation(m.group(1), m.group(2), content)


def _relation_is_a(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    rel = _canonical_rel(m.group(1))
    what = _clean_object(m.group(2))
    if not what or len(what.split()) > 6:
        return []
    return [_c(MemoryType.SEMANTIC, f"The user's {rel} is {what}", reliability=0.8)]


_PREF_VERBS = {
    "love": ("loves", "positive"),
    "adore": ("loves", "positive"),
    "like": ("likes", "positive"),
    "enjoy": ("enjoys", "positive"),
    "prefer": ("prefers", "positive"),
    "am into": ("is into", "positive"),
    "'m into": ("is into", "positive"),
    "am a fan of": ("is a fan of", "positive"),
    "'m a fan of": ("is a fan of", "positive"),
    "am a big fan of": ("is a big fan of", "positive"),
    "'m a big fan of": ("is a big fan of", "positive"),
    "hate": ("hates", "negative"),
    "dislike": ("dislikes", "negative"),
    "detest": ("hates", "negative"),
    "can't stand": ("can't stand", "negative"),
    "cannot stand": ("can't stand", "negative"),
    "don't like": ("doesn't like", "negative"),
    "do not like": ("doesn't like", "negative"),
    "don't enjoy": ("doesn't enjoy", "negative"),
    "am not a fan of": ("is not a fan of", "negative"),
    "'m not a fan of": ("is not a fan of", "negative"),
}
_NOT_OBJECTS = _words("it that this them you your how what when where who")
_PREF_RE = "|".join(re.escape(v).replace(r"\ ", r"\s+") for v in sorted(_PREF_VERBS, key=len, reverse=True))


def _preference(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    verb = " ".join(m.group(1).lower().split())
    third, polarity = _PREF_VERBS[verb]
    thing = _clean_object(m.group(2))
    if not thing or len(thing.split()) > 8 or thing.split()[0].lower() in _NOT_OBJECTS:
        return []
    # "I prefer tea over coffee": the preference is about tea.
    main = re.split(r"(?i)\s+(?:over|to|rather than|instead of)\s+", thing)[0] if verb == "prefer" else thing
    names = capitalised_names(thing)
    return [
        _c(
            MemoryType.SEMANTIC,
            f"The user {third} {thing}",
            slot=f"preference:{_key(main)}",
            value=polarity,
            anchor=_key(main),
            relations=[_rel("likes" if polarity == "positive" else "dislikes", main)],
            entities=names,
            reliability=0.85,
        )
    ]


def _favourite(m: re.Match[str], _: str) -> list[FactCandidate]:
    category, thing = m.group(1).lower(), _clean_object(m.group(2))
    if not thing:
        return []
    return [
        _c(
            MemoryType.SEMANTIC,
            f"The user's favourite {category} is {thing}",
            slot=f"favourite:{_key(category)}",
            value=thing,
            anchor=f"favourite {category}",
            relations=[_rel(f"favourite_{category}", thing)],
            entities=capitalised_names(thing),
        )
    ]


def _speaks(m: re.Match[str], _: str) -> list[FactCandidate]:
    return [_SPEAKS.make(lang) for lang in re.findall(r"[A-Z][a-z]+", m.group(1)) if lang in LANGUAGES]


def _children(m: re.Match[str], _: str) -> list[FactCandidate]:
    count, kind = m.group(1).lower(), m.group(2).lower()
    return [
        _c(
            MemoryType.PROFILE,
            f"The user has {count} {kind}",
            slot="children" if kind in ("kids", "children", "child", "kid") else f"children:{kind}",
            value=count,
            anchor="The user has",
        )
    ]


_LANGUAGE_RULE = re.compile(r"(?i)\b(?:answer|respond|reply|speak|write|talk)\b.*?\bin\s+([A-Z][a-z]+)")


def _procedure(rule: str, sentence: str) -> list[FactCandidate]:
    rule = re.sub(r"(?i)^(?:please|pls|kindly)\s+", "", rule.strip(" ,.!")).strip()
    rule = re.sub(r"(?i),?\s*(?:please|thanks|thank you)$", "", rule).strip(" ,.!")
    if len(rule.split()) < 2:
        return []
    words = third_person(rule)
    words = words[:1].lower() + words[1:]
    content = f"The user wants you to {words}"
    slot = value = None
    lang = _LANGUAGE_RULE.search(sentence)
    if lang and lang.group(1) in LANGUAGES:
        slot, value = "rule:language", lang.group(1)
    return [
        _c(
            MemoryType.PROCEDURAL,
            content,
            slot=slot,
            value=value,
            anchor="The user wants you to" if slot else None,
            reliability=0.95,
        )
    ]


def _from_now_on(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    return _procedure(m.group(1), sentence)


def _always_never(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    rule = m.group(0)
    if re.match(r"(?i)(?:please\s+)?never\s+mind\b", rule):
        return []
    rule = re.sub(r"(?i)^(?:please\s+)?(?:don't|do not)\s+ever\b", "never", rule)
    rule = re.sub(r"(?i)^please\s+", "", rule)
    return _procedure(rule, sentence)


def _want_you_to(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    if not re.search(
        r"(?i)\b(?:always|never|from now on|in (?:the )?future|going forward|every time|whenever|when you "
        r"(?:answer|reply|respond|write|explain))\b",
        sentence,
    ):
        return []
    return _procedure(m.group(1), sentence)


def _when_you_answer(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    return _procedure(sentence, sentence)


# --------------------------------------------------------------------------- named by a pronoun

_FEMALE = _words(
    "sister daughter wife girlfriend mother mom mum aunt niece grandmother grandma fiancee fiancée girl woman lady"
)
_MALE = _words("brother son husband boyfriend father dad uncle nephew grandfather grandpa fiance fiancé guy man boy")
_STRANGERS = ("guy", "girl", "man", "woman", "boy", "lady", "someone", "somebody")
_NEWCOMER = (
    r"(?i:\b(?:I|we)(?:'ve|\s+have)?\s+(?:just\s+|recently\s+|finally\s+|also\s+)?"
    r"(?P<verb>adopted|got|have|bought|rescued|met|had|welcomed)\s+"
    r"(?:(?:an?\s+)?(?:(?:new|little|baby|big|older|younger|twin|sweet|tiny|cute|lovely|beautiful|rescue|nice)\s+)*"
    rf"(?P<noun>{_REL_WORDS}|{'|'.join(_STRANGERS)}|baby))\b"
    # the rest of that clause ("from the shelter", "at the gym"), then the next one names it; "a cat and a dog,
    # his name is Rex" names one of two, so the clause holds no second thing
    r"(?:(?!\s+(?:and|or)\s)[^.!?;,]){0,40}?(?:\s*[,;.!:]|\s+and|\s+-+)\s+"
    r"(?:(?P<pron>her|his|its|their)\s+name(?:\s+is|'s)|(?P<subj>she|he|it|they)(?:'s|\s+is|'re|\s+are)\s+"
    r"(?:called|named))\s+)" + _NAME
)


def _named_by_pronoun(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "We adopted a puppy, her name is Bella": the pronoun names the pet or person just introduced."""
    verb, noun = m.group("verb").lower(), " ".join(m.group("noun").lower().split())
    pronoun, name = (m.group("pron") or m.group("subj")).lower(), m.group(m.re.groups).strip()  # the name is last
    if (pronoun in ("her", "she") and noun in _MALE) or (pronoun in ("his", "he") and noun in _FEMALE):
        return []  # the pronoun is about someone else
    if noun == "baby":
        rel = {"her": "daughter", "she": "daughter", "his": "son", "he": "son"}.get(pronoun)
        return [] if rel is None or verb == "met" else _relation(rel, name, f"The user has a {rel} named {name}")
    if noun in _STRANGERS:
        if verb != "met" or pronoun in ("its", "it") or not _is_name(name):
            return []
        who = noun if noun.startswith("some") else f"a {noun}"
        return [
            _c(
                MemoryType.SEMANTIC,
                f"The user met {who} named {name}",
                slot=f"relation:met:{_key(name)}",
                value=name,
                anchor="The user met",
                entities=[name],
                relations=[_rel("met", name)],
            )
        ]
    rel = _canonical_rel(noun)
    pet = rel in _PETS
    if (verb == "met" and pet) or verb == "had" or (pronoun in ("its", "it") and not pet):
        return []  # "I met a dog" is not the user's dog; "I had a dog" is in the past
    return _relation(noun, name, f"The user has a {rel} named {name}")


# --------------------------------------------------------------------------- where the user lives now

_FORMER_HOME = (
    r"(?:(?i:\bI(?:\s+used\s+to\s+live\s+in|\s+lived\s+in|(?:'ve|\s+have)?\s+(?:just\s+|recently\s+)?"
    r"(?:moved|relocated)(?:\s+away)?\s+(?:from|out\s+of))\s+)(?P<from>" + _PLACE[1:-1] + r")"
    r"|(?i:\bI(?:'ve|\s+have)?\s+(?:just\s+|recently\s+|finally\s+)?(?:moved|relocated)\b"
    r"(?!\s+(?:to|into|in|from|out|away|back)\b)))"
)
_HOME_NOW = (
    r"[^.!?]{0,40}?[,;.]?\s+(?i:(?:but|and|so)\s+)?"
    r"(?:(?i:(?:(?:right\s+)?now|these\s+days|nowadays)\s*,?\s+I(?:'m|\s+am)\s+|I(?:'m|\s+am)\s+(?:now|currently)\s+)"
    r"(?i:(?:living\s+|based\s+|settled\s+)?in)\s+(?P<to>" + _PLACE[1:-1] + r")"
    r"|(?i:I(?:'m|\s+am)\s+(?:living\s+|based\s+|settled\s+)?in)\s+(?P<to2>" + _PLACE[1:-1] + r")"
    r"(?=\s*,?\s*(?i:now|these\s+days|nowadays)\b))"
)
_VISIT = re.compile(
    r"(?i)\s*,?\s*(?:(?:right\s+)?now\s+|these\s+days\s+)?(?:for(?!\s+good\b)|visiting|on\s+(?:holiday|vacation|"
    r"business|a\s+trip|a\s+visit)|until|till|over\s+the|just\s+for|temporarily|this\s+(?:week|weekend|month))\b"
)


def _lives_now(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "I used to live in Madrid but now I'm in Seville": after a former home, "now I'm in X" is the new one.

    Without that context "I'm in X" is usually a visit, and so is it here when the user says so ("for a week").
    """
    place = _place(m.group("to") or m.group("to2") or "")
    if not place or _VISIT.match(m.string, m.end()):
        return []
    previous = _place(m.group("from") or "")
    return [_LIVES_IN.make(place, metadata={"moved_from": previous} if previous else None)]


# --------------------------------------------------------------------------- habits

# verb: (its -ing form, whether it needs an object: "I don't smoke" says enough, "I don't eat" does not)
_HABIT_VERBS: dict[str, tuple[str, bool]] = {
    "eat": ("eating", True),
    "drink": ("drinking", False),
    "smoke": ("smoking", False),
    "vape": ("vaping", False),
    "play": ("playing", True),
    "run": ("running", False),
    "jog": ("jogging", False),
    "swim": ("swimming", False),
    "cycle": ("cycling", False),
    "drive": ("driving", False),
    "gamble": ("gambling", False),
    "watch": ("watching", True),
    "go": ("going", True),
    "use": ("using", True),
}
_BY_GERUND = {gerund: verb for verb, (gerund, _) in _HABIT_VERBS.items()}
# What one gives up without naming the verb: "I quit coffee" is "I don't drink coffee".
_CONSUMED = {
    **dict.fromkeys(("coffee", "tea", "alcohol", "beer", "wine", "soda", "milk", "energy drinks", "booze"), "drink"),
    **dict.fromkeys(
        (
            "meat",
            "red meat",
            "fish",
            "sugar",
            "chocolate",
            "dairy",
            "gluten",
            "carbs",
            "bread",
            "pork",
            "beef",
            "chicken",
            "junk food",
            "fast food",
            "sweets",
            "cheese",
            "eggs",
        ),
        "eat",
    ),
    **dict.fromkeys(("cigarettes", "cigars", "tobacco", "weed"), "smoke"),
}
_MEAT = _words("meat beef pork chicken lamb bacon ham steak turkey sausages burgers")
_FISH = _words("fish seafood salmon tuna shrimp prawns sushi")
_ANIMAL_PRODUCTS = _words("dairy cheese eggs milk butter honey yogurt")
_HABIT_STOP = _words(
    "it that this these those them there here much many enough anything everything nothing something any a an or "
    "and nor so too as like what whatever how when where well out more less is are was were has have had stuff things"
)
_PERSONAL = _words("i i'm my me mine you your yours")
# Words that say when the habit changed, not what it is: dropped from both content and slot.
_CHANGE = re.compile(
    r"(?i)\s+(?:any\s?more|again|these\s+days|nowadays|now|at\s+all|ever|since|for|recently|lately|last|this|"
    r"(?:\w+\s+)?(?:days?|weeks?|months?|years?)\s+ago)\b.*$"
)
# How often: kept in a habit's content, dropped from its slot ("drinks coffee every day" is "drink coffee").
_FREQUENCY = re.compile(
    r"(?i)\s+(?:every|each|daily|weekly|a\s+lot|regularly|sometimes|often|occasionally|most|once|twice|"
    r"(?:\d+|two|three|four|five|several|many)\s+times|on\s+(?:weekends|\w+days)|at\s+(?:night|weekends)"
    r"|in\s+the\s+(?:morning|evening)s?)\b.*$"
)
_HABIT_VERB_RE = "|".join(_HABIT_VERBS)
_GERUND_RE = "|".join(_BY_GERUND)
_DIET_RE = "|".join(_DIETS)


def _diets_ruled_out(thing: str) -> tuple[str, ...]:
    last = thing.split()[-1].lower() if thing else ""
    if last in _MEAT:
        return _DIETS
    if last in _FISH:
        return ("vegetarian", "vegan")
    return ("vegan",) if last in _ANIMAL_PRODUCTS else ()


def _habit(verb: str, said: str, *, does: bool, adverb: str = "") -> list[FactCandidate]:
    """ "The user drinks coffee every day" / "The user doesn't drink coffee", one slot per verb and thing."""
    gerund, needs_object = _HABIT_VERBS[verb]
    thing = " ".join(_clean_object(said).split())
    thing = _CHANGE.sub("", " " + thing).strip()
    when = _TIME_PHRASE.search(thing)
    if when and thing[when.end() : when.end() + 1] != "s":  # "on Sundays" says how often, "on Sunday" when
        thing = thing[: when.start()].strip(" ,")
    # A habit's slot leaves out how often; a negated one keeps its qualifier ("doesn't drink coffee at night").
    core = _FREQUENCY.sub("", " " + thing).strip() if does else thing
    words = core.lower().split()
    if not core and needs_object:
        return []
    if core and (len(words) > 4 or words[0] in _HABIT_STOP or _PERSONAL & set(words)):
        return []
    if verb == "go" and not core.lower().startswith("to "):
        return []
    key = _key(f"{verb} {core}".strip())
    if does:
        content = " ".join(w for w in ("The user", adverb, _conjugate(verb), thing) if w)
        ruled_out = _diets_ruled_out(core) if verb in ("eat", "drink") else ()
        contradicts = [Contradiction("diet", (diet,), diet) for diet in ruled_out]
    else:
        content = " ".join(w for w in ("The user doesn't", verb, core) if w)
        # No longer doing it ends liking it as a current fact too: "loves coffee", "loves playing tennis".
        liked = re.sub(r"(?i)^to\s+", "", core)
        contradicts = [
            Contradiction(f"preference:{_key(t)}", ("positive",), _key(t))
            for t in dict.fromkeys(x for x in (liked, f"{gerund} {core}".strip()) if x)
        ]
    return [
        _c(
            MemoryType.SEMANTIC,
            content,
            slot=f"habit:{key}",
            value="yes" if does else "no",
            # Holders say "drinks coffee" or "doesn't drink coffee": the thing, or the verb's stem, is in both.
            anchor=core.lower() or verb.rstrip("e"),
            entities=capitalised_names(core),
            reliability=0.85,
            contradicts=contradicts,
        )
    ]


def _verbs(listed: str) -> list[str]:
    return [w for w in re.split(r"(?i)\s*(?:,|\bor\b|\bnor\b|\band\b)\s*", listed.lower()) if w]


def _not_doing(verbs: Sequence[str], said: str) -> list[FactCandidate]:
    if len(verbs) == 1:
        return _habit(verbs[0], said, does=False)
    # A list of verbs ("I don't smoke or drink") takes no object of its own.
    if _CHANGE.sub("", " " + said).strip(" .,!"):
        return []
    return [c for verb in verbs for c in _habit(verb, "", does=False)]


def _does_not(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "I no longer eat meat", "I don't smoke or drink", "I never drink coffee at night"."""
    return _not_doing(_verbs(m.group(1)), m.group(2) or "")


def _stopped(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "I stopped eating meat", "I quit smoking and drinking"."""
    return _not_doing([_BY_GERUND[g] for g in _verbs(m.group(1))], m.group(2) or "")


def _gave_up(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "I quit coffee", "I gave up sugar": a thing consumed, whose verb goes without saying."""
    thing = _CHANGE.sub("", " " + _clean_object(m.group(1))).strip().lower()
    verb = _CONSUMED.get(thing)
    return [] if verb is None else _habit(verb, thing, does=False)


def _does(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    """ "I drink coffee every day", "I eat meat again": a habit, unless the sentence is about one day."""
    when = _TIME_PHRASE.search(sentence)
    if when and sentence[when.end() : when.end() + 1] != "s":  # "on Sundays" is a habit, "on Sunday" a plan
        return []
    adverb = (m.group(1) or "").lower()
    return _habit(m.group(2).lower(), m.group(3) or "", does=True, adverb="" if adverb == "do" else adverb)


def _started(m: re.Match[str], _: str) -> list[FactCandidate]:
    return _habit(_BY_GERUND[m.group(1).lower()], m.group(2) or "", does=True)


def _diet_dropped(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    diet = (m.group(1) or m.group(2)).lower()
    lasting = re.search(r"(?i)\b(?:no\s+longer|any\s?more|stopped|quit|gave\s+up)\b", sentence)
    content = f"The user is {'no longer' if lasting else 'not'} {diet}"
    return [_c(MemoryType.SEMANTIC, content, slot="diet", value=f"not {diet}", anchor="The user is")]


def _r(pattern: str, build: _Build, *, spans_previous: bool = False) -> _Rule:
    return _Rule(re.compile(pattern), build, spans_previous)


# A rule whose match holds one value is a `_Fact` row; a function only where the logic is its own.
# Every rule runs on every sentence; when two fill one slot, the later row wins (see merge_fact_candidates).
_FACT_RULES: tuple[_Rule, ...] = (
    _r(r"(?i:\bmy\s+name\s+is|\bmy\s+name's|\bcall\s+me|\bpeople\s+call\s+me)\s+" + _NAME, _NAME_IS),
    _r(r"(?:^|(?<=[\s,]))(?i:I'm|I\s+am|Im)\s+" + _NAME + r"(?=\s*(?:$|[,.!]|\band\b|\bfrom\b))", _NAME_IS),
    _r(
        r"(?:^|(?<=[\s,]))(?i:I'm|I\s+am)\s+([A-Z][a-z]+)\s*[.!]?\s*$",
        _Fact(MemoryType.PROFILE, "The user is {value}", slot="nationality", clean=_nationality),
    ),
    _r(
        r"(?i)\bI(?:'m|\s+am|\s+just\s+turned|\s+turned)\s+(\d{1,3})(?:\s+years?\s+old|\s*$|\s*[,.!])",
        _Fact(MemoryType.PROFILE, "The user is {value} years old", slot="age", anchor="years old", clean=_age),
    ),
    _r(
        r"(?i:\b(?:I|we)\s+(?:currently\s+|now\s+|still\s+)?live\s+in|\bI'm\s+living\s+in|\bI\s+am\s+living\s+in|\bI\s+(?:currently\s+)?reside\s+in|\bmy\s+home\s+is\s+in)\s+"
        + _PLACE,
        _LIVES_IN,
    ),
    _r(
        r"(?i:\b(?:I|we)(?:'ve|\s+have)?\s+(?:just\s+|recently\s+|finally\s+)?(?:moved|relocated))"
        r"(?:\s+(?i:from)\s+(?P<from>" + _PLACE[1:-1] + r"))?\s+(?i:to)\s+(?P<to>" + _PLACE[1:-1] + r")"
        r"(?:\s+(?i:from)\s+(?P<from2>" + _PLACE[1:-1] + r"))?",
        _moved,
    ),
    _r(_FORMER_HOME + _HOME_NOW, _lives_now, spans_previous=True),
    _r(
        r"(?i:\bI'm\s+(?:originally\s+)?from|\bI\s+am\s+(?:originally\s+)?from|\bI\s+come\s+from|\bI\s+grew\s+up\s+in)\s+"
        + _PLACE,
        _Fact(MemoryType.PROFILE, "The user is from {value}", slot="hometown", predicate="from", entity=True),
    ),
    _r(
        r"(?i:\bI\s+was\s+born\s+in)\s+" + _PLACE,
        _Fact(MemoryType.PROFILE, "The user was born in {value}", slot="birthplace", predicate="born_in", entity=True),
    ),
    _r(
        r"(?i:\bI\s+(?:currently\s+|now\s+)?work\s+(?:at|for)|\bI'm\s+(?:working|employed)\s+(?:at|for|by)|\bI\s+am\s+(?:working|employed)\s+(?:at|for|by))\s+"
        + _NAME.replace("{0,2}", "{0,3}"),
        _Fact(MemoryType.PROFILE, "The user works at {value}", slot="employer", predicate="works_at", entity=True),
    ),
    _r(
        r"(?i)\bI\s+(?:currently\s+|now\s+)?work\s+(?:(?:at|for)\s+[\w&'\-]+(?:\s+[A-Z][\w&'\-]*)*\s+)?as\s+(an?\s+)?"
        r"([a-z][a-z \-]+)",
        _works_as,
    ),
    _r(r"(?i)\bI'm\s+working\s+as\s+(an?\s+)?([a-z][a-z \-]+)", _works_as),
    _r(r"(?i)\bmy\s+job\s+is\s+(an?\s+)?([a-z][a-z \-]+)", _works_as),
    _r(r"(?i)\bI(?:'m|\s+am)\s+(an?)\s+([a-z][a-z \-]+)", _i_am_a),
    _r(r"(?i)\bI(?:'m|\s+am)\s+(vegetarian|vegan|pescatarian|pescetarian)\b", _DIET),
    _r(
        rf"(?i)\bI(?:'m|\s+am)\s+(?:no\s+longer|not)\s+(?:an?\s+)?({_DIET_RE})\b"
        rf"|\bI(?:'ve|\s+have)?\s+(?:just\s+)?(?:stopped|quit|gave\s+up|given\s+up)\s+being\s+"
        rf"(?:an?\s+)?({_DIET_RE})\b",
        _diet_dropped,
    ),
    _r(
        r"(?i:\bI(?:'m|\s+am)?\s+(?:currently\s+)?study(?:ing)?)\s+([a-z][a-z ]+?)(?:\s+(?i:at)\s+"
        + _NAME
        + r")?\s*(?:$|[,.!])",
        _studies,
    ),
    _r(
        r"(?i:\bI(?:'m|\s+am)?\s+(?:currently\s+)?(?:study(?:ing)?|a\s+student)\s+at)\s+"
        + _NAME.replace("{0,2}", "{0,4}"),
        _STUDIES_AT,
    ),
    _r(
        rf"(?i:\bmy\s+({_REL_WORDS})(?:'s\s+name)?\s+(?:is|'s)\s+(?:called\s+|named\s+)?)" + _NAME + r"\b", _relation_is
    ),
    _r(rf"(?i:\bmy\s+({_REL_WORDS}),?\s+)" + _NAME + r"\b", _relation_apposition),
    _r(
        rf"(?i:\bI\s+have\s+an?\s+(?:little\s+|big\s+|older\s+|younger\s+|twin\s+)?({_REL_WORDS})\s+(?:called|named))\s+"
        + _NAME,
        _has_named,
    ),
    # "I have a dog named Rex and a cat called Luna": the second pet shares the first one's "I have".
    _r(
        rf"(?i:\bI\s+have\s+an?\s+[\w ]+?\s+(?:called|named)\s+[\w'-]+\s*(?:,|and)\s+an?\s+({_REL_WORDS})\s+"
        r"(?:called|named))\s+" + _NAME,
        _has_named,
    ),
    _r(_NEWCOMER, _named_by_pronoun, spans_previous=True),
    _r(rf"{_NAME}\s+(?i:is\s+my\s+(?:best\s+|little\s+|big\s+|older\s+|younger\s+)?({_REL_WORDS}))\b", _is_my),
    _r(rf"(?i)\bmy\s+({_REL_WORDS})\s+is\s+(an?\s+[a-z][a-z \-]+)", _relation_is_a),
    _r(
        rf"(?i)\bI(?:\s+(?:really|absolutely|totally|also|just|truly|do|still|genuinely))?(?:\s+|(?='))({_PREF_RE})\s+(.+)",
        _preference,
    ),
    _r(r"(?i)\bmy\s+favou?rite\s+([a-z]+(?:\s+[a-z]+)?)\s+is\s+(.+)", _favourite),
    _r(
        r"(?i)\bI(?:'m|\s+am)\s+(?:very\s+|severely\s+|mildly\s+)?allergic\s+to\s+(.+)",
        _Fact(
            MemoryType.SEMANTIC,
            "The user is allergic to {value}",
            slot="allergy:{key}",
            anchor="allergic to",
            predicate="allergic_to",
            clean=_clean_object,
            slot_value="allergic",
            reliability=0.95,
        ),
    ),
    _r(
        rf"(?i)\bI\s+(?:no\s+longer|never|don't|do\s+not|dont)\s+((?:{_HABIT_VERB_RE})(?:\s*(?:,|or|nor|and)\s+"
        rf"(?:{_HABIT_VERB_RE}))*)\b(.*)",
        _does_not,
    ),
    _r(
        r"(?i)\bI(?:'ve|\s+have)?\s+(?:just\s+|finally\s+|recently\s+|completely\s+)?"
        rf"(?:stopped|quit|gave\s+up|given\s+up)\s+((?:{_GERUND_RE})(?:\s*(?:,|or|and)\s+(?:{_GERUND_RE}))*)\b(.*)",
        _stopped,
    ),
    _r(
        r"(?i)\bI(?:'ve|\s+have)?\s+(?:just\s+|finally\s+|recently\s+|completely\s+)?(?:quit|gave\s+up|given\s+up|"
        r"stopped|cut\s+out)\s+([a-z][a-z ]*)",
        _gave_up,
    ),
    _r(
        r"(?i)\bI\s+(?:(usually|often|always|regularly|still|also|really|mostly|sometimes|occasionally|normally|do"
        r"|now)\s+)?"
        rf"({_HABIT_VERB_RE})\b(.*)",
        _does,
    ),
    _r(
        rf"(?i)\bI(?:'ve|\s+have)?\s+(?:just\s+|recently\s+)?(?:started|began|begun|resumed|took\s+up|taken\s+up)\s+"
        rf"({_GERUND_RE})\b(.*)",
        _started,
    ),
    _r(r"(?i:\bI\s+(?:also\s+)?speak)\s+(.+)", _speaks),
    _r(
        r"(?i)\bI\s+have\s+(two|three|four|five|six|one|a|\d)\s+(kids|children|sons|daughters|child|kid|son|daughter)\b",
        _children,
    ),
    _r(
        r"(?i)\bmy\s+birthday\s+is\s+(?:on\s+)?(.+)",
        _Fact(
            MemoryType.PROFILE,
            "The user's birthday is {value}",
            slot="birthday",
            anchor="birthday",
            clean=_clean_object,
            reliability=0.95,
        ),
    ),
    _r(r"(?i)^(?:and\s+)?from\s+now\s+on,?\s+(.+)", _from_now_on),
    _r(r"(?i)^(?:please\s+)?(?:always|never|don't\s+ever|do\s+not\s+ever)\b.+", _always_never),
    _r(r"(?i)\bI\s+(?:want|need|would\s+like|'d\s+like)\s+you\s+to\s+(.+)", _want_you_to),
    _r(
        r"(?i)^(?:please\s+)?(?:use|keep|make|answer|reply|respond|write|give|be)\b.*\bwhen(?:ever)?\s+you\s+(?:answer|reply|respond|write|explain)\b.*",
        _when_you_answer,
    ),
)


_EVENT_SUBJECT = re.compile(
    r"(?i)\b(?:I'm|I\s+am|I'll|I\s+will|I\s+have|I've\s+got|I\s+had|I\s+went|I\s+was|I\s+need\s+to|I\s+plan|"
    r"I\s+fly|I\s+leave|I\s+start|I\s+met|I\s+visited|I\s+got|I\s+finished|I\s+started|I\s+saw|I\s+bought|"
    r"I\s+moved|I\s+ran|I\s+did|I\s+passed|I\s+graduated|my\s+\w+(?:\s+\w+)?\s+(?:is|was|starts|begins|ends))\b"
)


def _event(sentence: str, today: date) -> list[FactCandidate]:
    phrase = _TIME_PHRASE.search(sentence)
    if phrase is None or _EVENT_SUBJECT.search(sentence) is None:
        return []
    when, label = resolve_date(phrase.group(0), today)
    content = third_person(sentence)
    if when.isoformat() not in content:
        content = f"{content} ({label}{when.isoformat()})"
    return [
        _c(
            MemoryType.EPISODIC,
            content,
            entities=capitalised_names(sentence),
            reliability=0.8,
            metadata={"event_date": when.isoformat(), "time_phrase": phrase.group(0)},
        )
    ]


class DeterministicExtractor:
    """Rules for common first-person statements; reads only the user's messages.

    Identity (name, age, location, job) becomes profile memories; preferences and relations
    semantic; "from now on" / "always ... when you answer" rules procedural; dated plans and
    events episodic with the date resolved against the message's own time.
    """

    name = "deterministic"

    async def extract(self, messages: Sequence[Message]) -> list[FactCandidate]:
        found: list[FactCandidate] = []
        for message in messages:
            if message.role is not Role.USER:
                continue
            found.extend(self.extract_text(message.content, message.created_at, (message.id,)))
        return merge_fact_candidates(found)

    def extract_text(
        self, text: str, at: datetime | None = None, source_message_ids: tuple[str, ...] = ()
    ) -> list[FactCandidate]:
        today = (at or datetime.now(UTC)).date()
        out: list[FactCandidate] = []
        previous = ""  # the last statement, for rules that read on from it; a question refers to nothing
        for sentence in split_sentences(text):
            if sentence.endswith("?") or _is_hypothetical(sentence):
                previous = ""
                continue
            hedged = _HEDGES.search(sentence) is not None
            facts: list[FactCandidate] = []
            for rule in _FACT_RULES:
                # Read after the previous statement, a rule keeps only matches that end in this sentence:
                # one that ends before it was found there already.
                start = len(previous) + 1 if rule.spans_previous and previous else 0
                read = f"{previous} {sentence}" if start else sentence
                for m in rule.pattern.finditer(read):
                    if m.end() > start:
                        facts.extend(rule.build(m, sentence))
            previous = sentence
            if all(f.slot and f.slot.startswith(("relation", "habit")) for f in facts):
                # A dated statement is an event even when it also names a relation ("my friend Tom and I...")
                # or changes a habit ("a month ago I started running").
                facts.extend(_event(sentence, today))
            names = capitalised_names(sentence)
            for candidate in facts:
                entities = tuple(dict.fromkeys((*candidate.entities, *names)))
                out.append(
                    msgspec.structs.replace(
                        candidate,
                        entities=entities,
                        reliability=round(candidate.reliability - (0.3 if hedged else 0.0), 2),
                        metadata={**candidate.metadata, "extractor": self.name},
                        source_message_ids=source_message_ids,
                        created_at=at,
                    )
                )
        return merge_fact_candidates(out)


def _is_hypothetical(sentence: str) -> bool:
    return (
        re.match(r"(?i)(?:if|what if|imagine|suppose|would|should|could|do you|does|can you|what|how)\b", sentence)
        is not None
    )


def merge_fact_candidates(candidates: Iterable[FactCandidate]) -> list[FactCandidate]:
    """One candidate per slot (the last statement wins) and per content."""
    by_key: dict[str, FactCandidate] = {}
    for c in candidates:
        key = f"slot:{c.type.value}:{c.slot}" if c.slot else f"content:{normalise(c.content)}"
        previous = by_key.pop(key, None)
        if previous is not None and previous.slot and c.slot and previous.value == c.value:
            c = msgspec.structs.replace(
                c, source_message_ids=tuple(dict.fromkeys((*previous.source_message_ids, *c.source_message_ids)))
            )
        by_key[key] = c
    return list(by_key.values())
