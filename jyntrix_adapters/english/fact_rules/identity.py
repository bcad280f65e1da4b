"""Rules for who the user is: name, age, nationality, home, origin, work, studies, languages, children."""

from __future__ import annotations

import re

from jyntrix_adapters.english.fact_rules.common import Fact, Rule, make_candidate, relation_to, rule
from jyntrix_adapters.english.fact_rules.habits import DIET, DIETS
from jyntrix_adapters.english.fact_rules.phrases import (
    LANGUAGES,
    NAME,
    NATIONALITIES,
    PLACE,
    clean_object,
    clean_place,
    is_name,
)
from jyntrix_adapters.english.stopwords import word_set
from jyntrix_domain.english_time_phrases import time_phrase_span
from jyntrix_domain.fact_candidates import FactCandidate
from jyntrix_domain.model import MemoryType

OCCUPATION = re.compile(
    r"(?i)^(?:(?:senior|junior|lead|head|chief|freelance|professional|software|data|web|civil|mechanical|"
    r"electrical|registered|school|high school|primary school|university|graphic|product|project|ux|ui)\s+)*"
    r"(?:[a-z]+(?:er|or|ist|ian|ant|ent|ect|eon)|nurse|doctor|chef|cook|pilot|lawyer|teacher|student|"
    r"engineer|developer|designer|architect|scientist|researcher|accountant|consultant|journalist|artist|"
    r"musician|writer|editor|pharmacist|dentist|vet|farmer|firefighter|paramedic|barista|waiter|waitress|"
    r"plumber|electrician|carpenter|mechanic|programmer|analyst|manager|director|ceo|cto|founder|"
    r"entrepreneur|professor|lecturer|tutor|therapist|psychologist|surgeon|midwife|police officer|soldier|"
    r"secretary|assistant|clerk|cashier|driver|photographer|translator|librarian|student|lead|intern|officer|"
    r"associate|head|specialist)$"
)
NOT_OCCUPATION = word_set(
    """vegetarian vegan pescatarian fan beginner member other owner user customer mother father brother sister
    daughter grandmother grandfather lover runner believer gamer smoker winner loser fighter reader"""
)


def _person(name: str) -> str | None:
    name = name.strip()
    return name if is_name(name) else None


def _nationality(word: str) -> str | None:
    return word if word in NATIONALITIES else None


def _age(years: str) -> str | None:
    return str(int(years)) if 3 <= int(years) <= 120 else None


# Facts that several rules, or rules with logic of their own, state.
_NAME_IS = Fact(
    MemoryType.PROFILE,
    "The user's name is {value}",
    slot="name",
    predicate="name",
    entity=True,
    clean=_person,
    reliability=0.95,
)
_LIVES_IN = Fact(MemoryType.PROFILE, "The user lives in {value}", slot="location", predicate="lives_in", entity=True)
_STUDIES = Fact(MemoryType.PROFILE, "The user studies {value}", slot="studies", predicate="studies")
_STUDIES_AT = Fact(
    MemoryType.PROFILE, "The user studies at {value}", slot="school", predicate="studies_at", entity=True
)
_SPEAKS = Fact(
    MemoryType.PROFILE,
    "The user speaks {value}",
    slot="speaks:{key}",
    anchor="speaks {value}",
    predicate="speaks",
    entity=True,
)


def _moved(m: re.Match[str], _: str) -> list[FactCandidate]:
    groups = m.groupdict()
    place = clean_place(groups.get("to") or "")
    previous = clean_place(groups.get("from") or groups.get("from2") or "")
    if not place:
        return []
    return [_LIVES_IN.make(place, metadata={"moved_from": previous} if previous else None)]


def _job_phrase(raw: str) -> str | None:
    job = clean_object(raw)
    job = re.split(r"(?i)\s+(?:at|for|in|from|with|and)\s+", job)[0].strip()
    if not job or len(job.split()) > 5:
        return None
    return job


def job_fact(phrase: str, job: str) -> FactCandidate:
    """ "The user works as <phrase>" ("an engineer", "a designer at Zalando"); the value is the job alone."""
    return make_candidate(
        MemoryType.PROFILE,
        f"The user works as {phrase}",
        slot="job",
        value=job,
        anchor="The user works as",
        relations=[relation_to("works_as", job)],
    )


def _job(article: str, job: str) -> FactCandidate:
    return job_fact(f"{article.strip()} {job}".strip(), job)


def _works_as(m: re.Match[str], _: str) -> list[FactCandidate]:
    job = _job_phrase(m.group(2))
    return [] if job is None else [_job(m.group(1) or "", job)]


def _i_am_a(m: re.Match[str], _: str) -> list[FactCandidate]:
    job = _job_phrase(m.group(2))
    if job is None:
        return []
    last = job.split()[-1].lower()
    if last in DIETS:
        return [DIET.make(last)]
    if last in NOT_OCCUPATION or not OCCUPATION.match(job):
        return []
    return [_job(m.group(1), job)]


_NOT_SUBJECTS = word_set("at hard for to with a the my tonight today tomorrow late all abroad")


def _studies(m: re.Match[str], _: str) -> list[FactCandidate]:
    subject = re.split(r"\s+at\s+", clean_object(m.group(1)))[0].strip()
    school = clean_place(m.group(2) or "")
    out = []
    first = subject.split()[0].lower() if subject else ""
    if (
        subject
        and len(subject.split()) <= 4
        and first not in _NOT_SUBJECTS
        and not time_phrase_span(subject, stretches=False)
    ):
        out.append(_STUDIES.make(subject))
    if school:
        out.append(_STUDIES_AT.make(school))
    return out


def _speaks(m: re.Match[str], _: str) -> list[FactCandidate]:
    return [_SPEAKS.make(lang) for lang in re.findall(r"[A-Z][a-z]+", m.group(1)) if lang in LANGUAGES]


def _children(m: re.Match[str], _: str) -> list[FactCandidate]:
    count, kind = m.group(1).lower(), m.group(2).lower()
    return [
        make_candidate(
            MemoryType.PROFILE,
            f"The user has {count} {kind}",
            slot="children" if kind in ("kids", "children", "child", "kid") else f"children:{kind}",
            value=count,
            anchor="The user has",
        )
    ]


# --------------------------------------------------------------------------- where the user lives now

_FORMER_HOME = (
    r"(?:(?i:\bI(?:\s+used\s+to\s+live\s+in|\s+lived\s+in|(?:'ve|\s+have)?\s+(?:just\s+|recently\s+)?"
    r"(?:moved|relocated)(?:\s+away)?\s+(?:from|out\s+of))\s+)(?P<from>" + PLACE[1:-1] + r")"
    r"|(?i:\bI(?:'ve|\s+have)?\s+(?:just\s+|recently\s+|finally\s+)?(?:moved|relocated)\b"
    r"(?!\s+(?:to|into|in|from|out|away|back)\b)))"
)
_HOME_NOW = (
    r"[^.!?]{0,40}?[,;.]?\s+(?i:(?:but|and|so)\s+)?"
    r"(?:(?i:(?:(?:right\s+)?now|these\s+days|nowadays)\s*,?\s+I(?:'m|\s+am)\s+|I(?:'m|\s+am)\s+(?:now|currently)\s+)"
    r"(?i:(?:living\s+|based\s+|settled\s+)?in)\s+(?P<to>" + PLACE[1:-1] + r")"
    r"|(?i:I(?:'m|\s+am)\s+(?:living\s+|based\s+|settled\s+)?in)\s+(?P<to2>" + PLACE[1:-1] + r")"
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
    place = clean_place(m.group("to") or m.group("to2") or "")
    if not place or _VISIT.match(m.string, m.end()):
        return []
    previous = clean_place(m.group("from") or "")
    return [_LIVES_IN.make(place, metadata={"moved_from": previous} if previous else None)]


# Later rows win a slot two rows fill (see merge_fact_candidates).
IDENTITY_RULES: tuple[Rule, ...] = (
    rule(r"(?i:\bmy\s+name\s+is|\bmy\s+name's|\bcall\s+me|\bpeople\s+call\s+me)\s+" + NAME, _NAME_IS),
    rule(r"(?:^|(?<=[\s,]))(?i:I'm|I\s+am|Im)\s+" + NAME + r"(?=\s*(?:$|[,.!]|\band\b|\bfrom\b))", _NAME_IS),
    rule(
        r"(?:^|(?<=[\s,]))(?i:I'm|I\s+am)\s+([A-Z][a-z]+)\s*[.!]?\s*$",
        Fact(MemoryType.PROFILE, "The user is {value}", slot="nationality", clean=_nationality),
    ),
    rule(
        r"(?i)\bI(?:'m|\s+am|\s+just\s+turned|\s+turned)\s+(\d{1,3})(?:\s+years?\s+old|\s*$|\s*[,.!])",
        Fact(MemoryType.PROFILE, "The user is {value} years old", slot="age", anchor="years old", clean=_age),
    ),
    rule(
        r"(?i:\b(?:I|we)\s+(?:currently\s+|now\s+|still\s+)?live\s+in|\bI'm\s+living\s+in|\bI\s+am\s+living\s+in|\bI\s+(?:currently\s+)?reside\s+in|\bmy\s+home\s+is\s+in)\s+"
        + PLACE,
        _LIVES_IN,
    ),
    rule(
        r"(?i:\b(?:I|we)(?:'ve|\s+have)?\s+(?:just\s+|recently\s+|finally\s+)?(?:moved|relocated)(?:\s+back|\s+over)?)"
        r"(?:\s+(?i:from)\s+(?P<from>" + PLACE[1:-1] + r"))?\s+(?i:to)\s+(?P<to>" + PLACE[1:-1] + r")"
        r"(?:\s+(?i:from)\s+(?P<from2>" + PLACE[1:-1] + r"))?",
        _moved,
    ),
    rule(_FORMER_HOME + _HOME_NOW, _lives_now, spans_previous=True),
    rule(
        r"(?i:\bI'm\s+(?:originally\s+)?from|\bI\s+am\s+(?:originally\s+)?from|\bI\s+come\s+from|\bI\s+grew\s+up\s+in)\s+"
        + PLACE,
        Fact(MemoryType.PROFILE, "The user is from {value}", slot="hometown", predicate="from", entity=True),
    ),
    rule(
        r"(?i:\bI\s+was\s+born\s+in)\s+" + PLACE,
        Fact(MemoryType.PROFILE, "The user was born in {value}", slot="birthplace", predicate="born_in", entity=True),
    ),
    rule(
        r"(?i:\bI\s+(?:currently\s+|now\s+)?work\s+(?:at|for)|\bI'm\s+(?:working|employed)\s+(?:at|for|by)|\bI\s+am\s+(?:working|employed)\s+(?:at|for|by))\s+"
        + NAME.replace("{0,2}", "{0,3}"),
        Fact(MemoryType.PROFILE, "The user works at {value}", slot="employer", predicate="works_at", entity=True),
    ),
    rule(
        r"(?i)\bI\s+(?:currently\s+|now\s+)?work\s+(?:(?:at|for)\s+[\w&'\-]+(?:\s+[A-Z][\w&'\-]*)*\s+)?as\s+(an?\s+)?"
        r"([a-z][a-z \-]+)",
        _works_as,
    ),
    rule(r"(?i)\bI'm\s+working\s+as\s+(an?\s+)?([a-z][a-z \-]+)", _works_as),
    rule(r"(?i)\bmy\s+job\s+is\s+(an?\s+)?([a-z][a-z \-]+)", _works_as),
    rule(r"(?i)\bI(?:'m|\s+am)\s+(an?)\s+([a-z][a-z \-]+)", _i_am_a),
    rule(
        r"(?i:\bI(?:'m|\s+am)?\s+(?:currently\s+)?study(?:ing)?)\s+([a-z][a-z ]+?)(?:\s+(?i:at)\s+"
        + NAME
        + r")?\s*(?:$|[,.!])",
        _studies,
    ),
    rule(
        r"(?i:\bI(?:'m|\s+am)?\s+(?:currently\s+)?(?:study(?:ing)?|a\s+student)\s+at)\s+"
        + NAME.replace("{0,2}", "{0,4}"),
        _STUDIES_AT,
    ),
    rule(r"(?i:\bI\s+(?:also\s+)?speak)\s+(.+)", _speaks),
    rule(
        r"(?i)\bI\s+have\s+(two|three|four|five|six|one|a|\d)\s+(kids|children|sons|daughters|child|kid|son|daughter)\b",
        _children,
    ),
    rule(
        r"(?i)\bmy\s+birthday\s+is\s+(?:on\s+)?(.+)",
        Fact(
            MemoryType.PROFILE,
            "The user's birthday is {value}",
            slot="birthday",
            anchor="birthday",
            clean=clean_object,
            reliability=0.95,
        ),
    ),
)
