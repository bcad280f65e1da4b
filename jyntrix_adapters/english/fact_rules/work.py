"""Rules for work as it is now: the role and the employer, each its own current fact, and retirement.

"I'm now a product manager at N26", "Joined Spotify as a platform engineer", "I took an offer from Bosch",
"I start there on Monday as a senior developer", "I'm the finance lead at a startup called Tandem Bikes",
"I retired from nursing". A role said with its employer keeps the employer in its wording ("works as a UX
designer at Zalando"), so that leaving the employer ends the role too, and the ended role still says where.
"""

from __future__ import annotations

import re

import msgspec

from jyntrix_adapters.english.fact_rules.common import Fact, Rule, make_candidate, relation_to, rule
from jyntrix_adapters.english.fact_rules.identity import NOT_OCCUPATION, OCCUPATION, job_fact
from jyntrix_adapters.english.fact_rules.phrases import NAME, clean_object, clean_place, is_name
from jyntrix_domain.fact_candidates import FactCandidate
from jyntrix_domain.model import MemoryType

_EMPLOYER = Fact(MemoryType.PROFILE, "The user works at {value}", slot="employer", predicate="works_at", entity=True)

_ROLE = r"(?P<role>(?i:[a-z][a-z \-]{2,40}?))"
# "at N26", "at a startup called Tandem Bikes": the organisation's name.
_EMPLOYER_NAME = (
    r"(?:(?i:an?|the)\s+(?:[a-z]+\s+){0,2}(?i:called|named)\s+)?(?P<employer>"
    + NAME[1:-1].replace("{0,2}", "{0,3}")
    + ")"
)
_AT = r"\s+(?i:at|for|with)\s+" + _EMPLOYER_NAME
_END = r"(?=\s*(?:$|[,.;!]|\s+(?i:now|these\s+days|since|from|and|but)\b))"
_SUBJECT = r"(?:\bI(?:'ve|\s+have)?\s+|^(?i:(?:so|and|also|then|oh|well),?\s+)*)"
_ADVERBS = r"(?:(?:just|recently|finally|actually|officially|now)\s+)*"


def _role(raw: str) -> str | None:
    role = " ".join(raw.split())
    words = role.lower().split()
    if not words or len(words) > 4 or words[-1] in NOT_OCCUPATION or not OCCUPATION.match(words[-1]):
        return None
    return role


def job(role: str, article: str = "a", employer: str | None = None) -> list[FactCandidate]:
    """The role, worded with its employer when said, and the employer as its own fact."""
    at = f" at {employer}" if employer else ""
    out = [job_fact(f"{article.lower()} {role}{at}", role)]
    if employer:
        out.append(_EMPLOYER.make(employer))
    return out


def _employer_of(m: re.Match[str]) -> str | None:
    employer = clean_place(m.groupdict().get("employer") or "")
    return employer if employer and is_name(employer) else None


def _job_at(m: re.Match[str], _: str) -> list[FactCandidate]:
    role = _role(m.group("role"))
    return [] if role is None else job(role, m.group("article") or "a", _employer_of(m))


def _joined(m: re.Match[str], _: str) -> list[FactCandidate]:
    employer = _employer_of(m)
    role = _role(m.group("role")) if m.group("role") else None
    if role is not None:
        return job(role, m.group("article"), employer)
    return [_EMPLOYER.make(employer)] if employer else []


def _retired(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "I retired from nursing", "before I retired I was a teacher": what the user did is kept with it."""
    was = clean_object(m.group("was") or m.group("from") or "")
    was = re.sub(r"(?i)^(?:my\s+job\s+as\s+|(?:an?|the|my)\s+)", "", was).strip()
    was = re.split(r"(?i)\s+(?:last|this|in|a|two|three|some|years?|after)\b", was)[0].strip()
    content = f"The user is retired; before retiring the user worked as {_a(was)}" if m.group("was") else None
    if m.group("from"):
        content = f"The user retired from {was}" if was else "The user is retired"
    return [
        make_candidate(
            MemoryType.PROFILE,
            content or "The user is retired",
            slot="job",
            value="retired",
            anchor="retire",
            relations=[relation_to("retired_from", was)] if was else [],
        )
    ]


def attach_employer(candidates: list[FactCandidate]) -> list[FactCandidate]:
    """A role said without its employer, in a message that names one ("I took an offer from Bosch, I start
    there as a senior developer"), is worded with it: leaving that employer ends the role too."""
    employers = [c.value for c in candidates if c.slot == "employer" and c.value]
    if len(employers) != 1:
        return candidates
    at = f" at {employers[0]}"
    return [
        msgspec.structs.replace(c, content=c.content + at)
        if c.slot == "job" and c.value != "retired" and " at " not in c.content
        else c
        for c in candidates
    ]


def _a(noun: str) -> str:
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


WORK_RULES: tuple[Rule, ...] = (
    rule(
        r"(?i:\bI(?:'m|\s+am)\s+(?:now\s+|currently\s+|actually\s+|officially\s+)+(?P<article>an?|the)\s+)"
        + _ROLE
        + r"(?:"
        + _AT
        + r")?"
        + _END,
        _job_at,
    ),
    rule(r"(?i:\bI(?:'m|\s+am)\s+(?P<article>an?|the)\s+)" + _ROLE + _AT, _job_at),
    rule(r"(?i:\bI\s+(?:currently\s+|now\s+)?work\s+as\s+(?P<article>an?)\s+)" + _ROLE + _AT, _job_at),
    # "I joined Spotify (as a platform engineer)", "Joined Spotify ...", "I took an offer from Bosch".
    rule(
        _SUBJECT
        + r"(?i:"
        + _ADVERBS
        + r"(?:joined|started\s+(?:a\s+new\s+job\s+)?at|(?:got|landed|took|accepted|found)\s+an?\s+(?:new\s+)?"
        r"(?:job|offer|position|role)\s+(?:at|from|with)|moved\s+to\s+a\s+new\s+job\s+at|signed\s+(?:on\s+)?with|"
        r"(?:was|got)\s+hired\s+(?:by|at)))\s+"
        + _EMPLOYER_NAME
        + r"(?:\s+(?i:as)\s+(?P<article>an?)\s+(?P<role>[a-z][a-z \-]{2,40}?)"
        + _END
        + r")?",
        _joined,
    ),
    # "I start there on Monday as a senior developer", "I started at Bosch as an intern", "..., starting at Aldi
    # next week as an area manager".
    rule(
        r"(?:(?i:\bI(?:'m|\s+am|'ll|\s+will)?\s+)|^|,\s*)(?i:(?:start|started|starting|begin|began|beginning)\b)"
        r"[^,.;!?]*?"
        r"(?:" + _AT + r"[^,.;!?]*?)?\s+(?i:as)\s+(?P<article>(?i:an?))\s+" + _ROLE + _END,
        _job_at,
    ),
    rule(
        r"(?i:\bI(?:'m|\s+am)\s+(?:now\s+)?(?:working|employed)\s+(?:at|for|by))\s+"
        + _EMPLOYER_NAME
        + r"(?:\s+(?i:now|these\s+days))?(?:\s+(?i:as)\s+(?P<article>an?)\s+(?P<role>[a-z][a-z \-]{2,40}?)"
        + _END
        + r")?",
        _joined,
    ),
    # "I got promoted to team lead", "I've been promoted to a senior engineer"
    rule(
        r"(?i:\bI(?:'ve\s+been|\s+have\s+been|\s+got|\s+was|\s+just\s+got)\s+(?:finally\s+)?promoted\s+to\s+"
        r"(?:(?P<article>an?|the)\s+)?)" + _ROLE + r"(?:" + _AT + r")?" + _END,
        _job_at,
    ),
    rule(
        r"(?i:\bI(?:'ve|\s+have|'m|\s+am)?\s+" + _ADVERBS + r"retired)(?:\s+(?i:from)\s+(?P<from>[^,.;!?]+))?"
        # retired itself, not "retired the old laptop"
        r"(?=\s*(?:$|[,.;!?]|\s+(?i:last|this|in|on|at|a|two|three|some|early|recently|after|when|and|but|so|now)\b))"
        r"|(?i:\bbefore\s+I\s+retired,?\s+I\s+(?:was|worked\s+as)\s+)(?P<was>[^,.;!?]+)",
        _retired,
    ),
)
