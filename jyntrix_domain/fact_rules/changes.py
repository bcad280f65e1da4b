"""Rules for changes of mind: what a statement ends, and what takes its place.

- From one thing to another: "I switched from Duolingo to Babbel", "I swapped my car for a bike", "Babbel
  instead of Duolingo": the facts that mention the first thing are said again with the second (`Ending`
  with a replacement). A move from one home to another is the location slot's (`identity`).
- An end: "I left Zalando", "scratch the half marathon", "I sold my car", "I quit the gym", "Tom and I broke
  up", "our dog Rex died": the facts that mention it hold no longer (`Ending` without a replacement); a
  sentence of the same message saying what the user does "instead" is kept with them.
- What the user does now, by attribute: work (role and employer apart), home ("we moved into our flat in
  Amsterdam"), how they get around, what they learn and with what, what they train or save for, pets
  adopted, and a statement that says "instead".

The thing a statement ends is its object as a noun phrase: without articles, possessives, the gerund of a
verb that only says what one does with it ("going to the gym" is the gym) and trailing time phrases.
"""

from __future__ import annotations

import re

import msgspec

from jyntrix_domain.fact_rules.common import (
    NAME,
    PLACE,
    Ending,
    Fact,
    FactCandidate,
    Rule,
    clean_object,
    clean_place,
    is_name,
    key_of,
    make_candidate,
    relation_to,
    rule,
)
from jyntrix_domain.language.person import third_person
from jyntrix_domain.language.stopwords import word_set
from jyntrix_domain.language.time_phrases import time_phrase_span
from jyntrix_domain.model import MemoryType

_LEADING = re.compile(
    r"(?i)^(?:(?:my|our|the|a|an|his|her|their|that|this|those|these|whole|old|current|new|former)\s+)+"
)
_DOING = re.compile(
    r"(?i)^(?:going\s+to(?:\s+the)?|going|playing|doing|using|learning|taking|attending|working\s+(?:at|for)|"
    r"training\s+for|studying|eating|drinking|riding|driving|visiting)\s+"
)
_WHEN = re.compile(
    r"(?i)\s+(?:(?:last|this|next|a|two|three|few|couple)\s+(?:\w+\s+)?(?:ago|weeks?|months?|years?)"
    r"|now|anymore|any\s+more|these\s+days|nowadays|instead|for\s+good|altogether|completely)\b"
)
_NOT_THINGS = word_set(
    "it that this them him her there here something anything everything nothing things stuff job work idea plan "
    "one way time day week month year"
)


def thing_of(phrase: str) -> str | None:
    """The noun phrase a change is about (module docstring); None when it names nothing specific."""
    text = clean_object(phrase)
    span = time_phrase_span(text, stretches=False)
    if span is not None:
        text = text[: span[0]]
    text = _WHEN.split(text)[0]
    for _ in range(2):
        text = _DOING.sub("", _LEADING.sub("", text.strip())).strip()
    text = text.strip(" ,.'\"")
    words = text.split()
    if not words or len(words) > 5 or len(text) < 3 or text.casefold() in _NOT_THINGS:
        return None
    return text


def _ending(content: str, ends: list[Ending], *, entities: list[str] | tuple[str, ...] = ()) -> FactCandidate:
    candidate = make_candidate(MemoryType.SEMANTIC, content, entities=entities, reliability=0.9)
    return msgspec.structs.replace(candidate, ends=tuple(ends))


def _from_to(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    old, new = thing_of(m.group("old")), thing_of(m.group("new"))
    if old is None or new is None or old.casefold() == new.casefold():
        return []
    return [_ending(third_person(_said(sentence)), [Ending(mention=old, replacement=new)], entities=_names(old, new))]


def _instead_of(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    new, old = thing_of(m.group("new")), thing_of(m.group("old"))
    if old is None or new is None or old.casefold() == new.casefold():
        return []
    return [_ending(third_person(sentence), [Ending(mention=old, replacement=new)], entities=_names(old, new))]


def _ended(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    thing = thing_of(m.group("thing"))
    if thing is None:
        return []
    said = _said(sentence)
    content = third_person(said) if re.search(r"(?i)\b(?:I|we)\b", said) else f"The user gave up {thing}"
    return [_ending(content, [Ending(mention=thing)], entities=_names(thing))]


_PREAMBLE = re.compile(
    r"(?i)^(?:[\w' ]{1,25}:\s+|(?:oh|so|well|ok|okay|btw|by the way|quick update|update)\b[,!]?\s*)+"
)


def _said(sentence: str) -> str:
    """The sentence without a preamble ("Quick update: ...", "Oh, ...")."""
    return _PREAMBLE.sub("", sentence).strip() or sentence


def _broke_up(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    name = (m.group("who") or m.group("whom") or "").strip()
    if not is_name(name):
        return []
    return [_ending(third_person(sentence), [Ending(mention=name)], entities=[name])]


def _names(*things: str) -> list[str]:
    return [t for t in things if t[:1].isupper()]


_FROM_TO = (
    r"(?i:\b(?:switched|switching|changed|went|gone|upgraded|traded|swapped|transferred|converted|"
    r"jumped|migrated)(?:\s+(?:over|back|it|jobs?|apps?|teams?))?\s+from)\s+(?P<old>[^,.;!?]+?)\s+(?i:to|for|into)\s+"
    r"(?P<new>[^,.;!?]+)"
)
_SWAPPED = r"(?i:\b(?:swapped|traded|exchanged|replaced))\s+(?P<old>[^,.;!?]+?)\s+(?i:for|with)\s+(?P<new>[^,.;!?]+)"
_INSTEAD_OF = (
    r"(?P<new>\b[A-Z][\w'\-]*(?:\s+[A-Z][\w'\-]*)*|\b[\w'\-]+)\s+(?i:instead\s+of|rather\s+than)\s+(?P<old>[^,.;!?]+)"
)
_ENDED = (
    r"(?i:\b(?:I|we)(?:'ve|\s+have)?\s+(?:just\s+|actually\s+|finally\s+|recently\s+|already\s+)?"
    r"(?:left|quit|stopped|gave\s+up|given\s+up|dropped|sold|cancell?ed|ditched|got\s+rid\s+of|finished\s+with|"
    r"abandoned|skipped|am\s+done\s+with|'m\s+done\s+with|no\s+longer\s+(?:use|have|go\s+to|play|do|attend|work\s+at))"
    r"|\bscratch(?:\s+that)?(?:\s*[,:-]\s*|\s+)(?:the\s+idea\s+of\s+)?)"
    r"\s*(?P<thing>[^,.;!?]+)"
)
_NOT_ANYMORE = (
    r"(?i:\b(?:I|we)\s+(?:don't|do\s+not|dont)\s+(?:use|have|go\s+to|play|do|attend|own|drive|ride|take))\s+"
    r"(?P<thing>[^,.;!?]+?)\s+(?i:any\s?more)\b"
)
_BROKE_UP = (
    r"(?:(?P<who>"
    + NAME[1:-1]
    + r")\s+(?i:and\s+I|&\s+I)\s+(?i:broke\s+up|split\s+up|separated|divorced|got\s+divorced))"
    r"|(?i:\bI\s+(?:broke\s+up|split\s+up)\s+with|\bI\s+divorced|\bI\s+left)\s+(?:(?i:my\s+\w+\s+))?(?P<whom>"
    + NAME[1:-1]
    + r")"
)


# --------------------------------------------------------------------------------------------- what holds now

_EMPLOYER = Fact(MemoryType.PROFILE, "The user works at {value}", slot="employer", predicate="works_at", entity=True)


def _job_at(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "I'm now a product manager at N26": the role and the employer, each its own fact."""
    role = " ".join(m.group("role").split())
    out = [
        make_candidate(
            MemoryType.PROFILE,
            f"The user works as {m.group('article')} {role}",
            slot="job",
            value=role,
            relations=[relation_to("works_as", role)],
        )
    ]
    employer = clean_place(m.group("employer") or "")
    if employer and is_name(employer):
        out.append(_EMPLOYER.make(employer))
    return out


def _joined(m: re.Match[str], _: str) -> list[FactCandidate]:
    employer = clean_place(m.group(1))
    return [_EMPLOYER.make(employer)] if is_name(employer) else []


_LIVES_IN = Fact(MemoryType.PROFILE, "The user lives in {value}", slot="location", predicate="lives_in", entity=True)


def _moved_in(m: re.Match[str], _: str) -> list[FactCandidate]:
    place = clean_place(m.group("place"))
    return [_LIVES_IN.make(place)] if place else []


_TRANSPORT = {
    "cycle": "by bike",
    "bike": "by bike",
    "ride my bike": "by bike",
    "ride a bike": "by bike",
    "walk": "on foot",
    "drive": "by car",
    "take the bus": "by bus",
    "take the train": "by train",
    "take the tram": "by tram",
    "take the metro": "by metro",
    "take the subway": "by subway",
    "take the tube": "by tube",
    "commute by bike": "by bike",
    "commute by train": "by train",
    "commute by car": "by car",
    "scooter": "by scooter",
    "ride my scooter": "by scooter",
}
_TRANSPORT_RE = "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in sorted(_TRANSPORT, key=len, reverse=True))


def _gets_around(m: re.Match[str], _: str) -> list[FactCandidate]:
    how = _TRANSPORT[" ".join(m.group("how").lower().split())]
    place = m.group("where") or "everywhere"
    return [
        make_candidate(
            MemoryType.SEMANTIC,
            f"The user gets to {place.strip()} {how}" if m.group("where") else f"The user gets around {how}",
            slot="transport",
            value=how,
            reliability=0.85,
        )
    ]


def _learns(m: re.Match[str], _: str) -> list[FactCandidate]:
    subject = clean_object(m.group("what"))
    tool = clean_place(m.group("tool") or "")
    if not subject or len(subject.split()) > 4:
        return []
    if tool:
        return [
            make_candidate(
                MemoryType.SEMANTIC,
                f"The user is learning {subject} on {tool}",
                slot=f"learns:{key_of(subject)}",
                value=tool,
                entities=_names(subject, tool),
                relations=[relation_to("learns_with", tool)],
                reliability=0.85,
            )
        ]
    return [
        make_candidate(
            MemoryType.SEMANTIC,
            f"The user is learning {subject}",
            entities=_names(subject),
            relations=[relation_to("learns", subject)],
            reliability=0.85,
        )
    ]


def _working_towards(m: re.Match[str], _: str) -> list[FactCandidate]:
    goal = clean_object(m.group("goal"))
    if not goal or len(goal.split()) > 6:
        return []
    verb = m.group("verb").lower()
    return [
        make_candidate(MemoryType.SEMANTIC, f"The user is {verb} for {goal}", entities=_names(goal), reliability=0.85)
    ]


def _adopted(m: re.Match[str], _: str) -> list[FactCandidate]:
    pet, name = m.group("pet").lower(), m.group("name").strip()
    if not is_name(name):
        return []
    return [
        make_candidate(
            MemoryType.SEMANTIC,
            f"The user has a {pet} named {name}",
            slot=f"relation:{pet}:{key_of(name)}",
            value=name,
            entities=[name],
            relations=[relation_to(pet, name)],
        )
    ]


def _instead(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    """ "I'm swimming instead": what the user does now in place of what the message ends."""
    return [make_candidate(MemoryType.SEMANTIC, third_person(sentence), reliability=0.85)]


_PETS = r"(?P<pet>cat|dog|kitten|puppy|rabbit|hamster|parrot|horse|guinea\s+pig|tortoise|turtle)"

CHANGE_RULES: tuple[Rule, ...] = (
    rule(_FROM_TO, _from_to),
    rule(_SWAPPED, _from_to),
    rule(_INSTEAD_OF, _instead_of),
    rule(_ENDED, _ended),
    rule(_NOT_ANYMORE, _ended),
    rule(_BROKE_UP, _broke_up),
    rule(
        r"(?i:\bI(?:'m|\s+am)\s+(?:now\s+|currently\s+|actually\s+|officially\s+)+(?P<article>an?)\s+)"
        r"(?P<role>[a-z][a-z \-]{2,40}?)(?:\s+(?i:at|for|with)\s+(?P<employer>"
        + NAME[1:-1]
        + r"))?(?=\s*(?:$|[,.;!]))",
        _job_at,
    ),
    rule(
        r"(?i:\bI(?:'m|\s+am)\s+(?P<article>an?)\s+)(?P<role>[a-z][a-z \-]{2,40}?)\s+(?i:at|for|with)\s+"
        r"(?P<employer>" + NAME[1:-1] + r")",
        _job_at,
    ),
    rule(
        r"(?i:\bI\s+(?:currently\s+|now\s+)?work\s+as\s+(?P<article>an?)\s+)(?P<role>(?i:[a-z][a-z \-]{2,40}?))\s+"
        r"(?i:at|for)\s+(?P<employer>" + NAME[1:-1] + r")",
        _job_at,
    ),
    rule(
        r"(?i:\bI(?:'ve|\s+have)?\s+(?:just\s+|recently\s+|finally\s+)?(?:joined|started\s+(?:a\s+new\s+job\s+)?at|"
        r"got\s+a\s+(?:new\s+)?job\s+at|landed\s+a\s+(?:new\s+)?job\s+at|moved\s+to\s+a\s+new\s+job\s+at))\s+"
        + NAME.replace("{0,2}", "{0,3}"),
        _joined,
    ),
    rule(
        r"(?i:\b(?:I|we)(?:'ve|\s+have)?\s+(?:just\s+|finally\s+|recently\s+|now\s+)?(?:moved|settled)\s+into\s+"
        r"(?:(?:my|our|a|the)\s+)?(?:new\s+)?(?:flat|apartment|house|home|place|condo)\s+in)\s+(?P<place>"
        + PLACE[1:-1]
        + r")",
        _moved_in,
    ),
    rule(
        rf"(?i:\bI\s+(?:now\s+|mostly\s+|usually\s+|always\s+)?(?P<how>{_TRANSPORT_RE}))"
        r"(?:\s+(?i:to)\s+(?P<where>work|school|the\s+office|uni(?:versity)?|college))?\b",
        _gets_around,
    ),
    rule(
        r"(?i:\b(?:I|we)(?:'m|\s+am|'re|\s+are)\s+(?:now\s+|currently\s+|also\s+)?learning)\s+(?P<what>[\w' -]+?)"
        r"(?:\s+(?i:on|with|using|through|via)\s+(?P<tool>" + NAME[1:-1] + r"))?(?=\s*(?:$|[,.;!]|\s+(?i:and|but)\b))",
        _learns,
    ),
    rule(
        r"(?i:\b(?:I|we)(?:'m|\s+am|'re|\s+are)\s+(?:now\s+|currently\s+|also\s+)?(?P<verb>training|preparing|saving"
        r"|saving\s+up|studying|practising|practicing))\s+for\s+(?P<goal>[^,.;!?]+)",
        _working_towards,
    ),
    rule(
        r"(?i:\b(?:I|we)(?:'ve|\s+have)?\s+(?:just\s+|recently\s+|finally\s+)?(?:adopted|got|rescued)\s+an?\s+"
        r"(?:new\s+|little\s+|rescue\s+)*)"
        + _PETS
        + r"\s*(?:,\s*|\s+(?i:called|named)\s+)(?P<name>"
        + NAME[1:-1]
        + r")",
        _adopted,
    ),
    rule(
        r"(?i)^(?:(?:and|but|so)\s+)?(?:I|I'm|I\s+am|I've|I'll|I\s+now)\b(?!.*\binstead\s+of\b).*\binstead\b", _instead
    ),
)


_INSTEAD = re.compile(r"(?i)\binstead\b(?!\s+of)")


def attach_instead(candidates: list[FactCandidate]) -> list[FactCandidate]:
    """The endings of one message that name no replacement keep what the message says the user does
    "instead" (a candidate of `_instead`), so the fact that ends says what took its place."""
    instead = [
        c.content for c in candidates if c.slot is None and not c.ends and re.search(r"(?i)\binstead\b", c.content)
    ]
    if not instead:
        return candidates
    said = "; ".join(instead)
    out = []
    for c in candidates:
        if c.ends and all(e.replacement is None for e in c.ends):
            ends = tuple(Ending(mention=e.mention, instead=e.instead or said) for e in c.ends)
            c = msgspec.structs.replace(c, ends=ends)
        out.append(c)
    return out
