"""Rules for what holds now after a change: the new value of an attribute, each its own current fact.

Work (role and employer apart), home ("we moved into our flat in Amsterdam"), how the user gets around, what
they learn and with what, what they train or save for, pets adopted, and a statement that says "instead"
(kept with what the same message ends, `changes.attach_instead`).
"""

from __future__ import annotations

import re

from jyntrix_adapters.english.fact_rules.changes import names_of
from jyntrix_adapters.english.fact_rules.common import Fact, Rule, key_of, make_candidate, relation_to, rule
from jyntrix_adapters.english.fact_rules.phrases import NAME, PLACE, clean_object, clean_place, is_name
from jyntrix_adapters.english.person import conjugate, third_person
from jyntrix_domain.fact_candidates import FactCandidate
from jyntrix_domain.model import MemoryType

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
    where = f" to {m.group('where').strip()}" if m.group("where") else ""
    vehicle = " ".join((m.group("vehicle") or "").split())
    if vehicle:
        # "I drive a Golf to work": the vehicle is kept, so that once it is sold "what car did I have?" finds it.
        verb = conjugate(m.group("how").split()[0].lower())
        content = f"The user {verb} {m.group('article').lower()} {vehicle}{where}"
    else:
        content = f"The user gets{where} {how}" if where else f"The user gets around {how}"
    return [make_candidate(MemoryType.SEMANTIC, content, slot="transport", value=how, reliability=0.85)]


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
                entities=names_of(subject, tool),
                relations=[relation_to("learns_with", tool)],
                reliability=0.85,
            )
        ]
    return [
        make_candidate(
            MemoryType.SEMANTIC,
            f"The user is learning {subject}",
            entities=names_of(subject),
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
        make_candidate(MemoryType.SEMANTIC, f"The user is {verb} for {goal}", entities=names_of(goal), reliability=0.85)
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


def _tool(m: re.Match[str], _: str) -> list[FactCandidate]:
    """ "I keep all my notes in Notion", "I moved my notes over to Obsidian": one tool per purpose, current."""
    what = " ".join(m.group("what").lower().split())
    tool = clean_place(m.group("tool"))
    if not is_name(tool):
        return []
    return [
        make_candidate(
            MemoryType.SEMANTIC,
            f"The user keeps their {what} in {tool}",
            slot=f"tool:{key_of(what)}",
            value=tool,
            anchor=what,
            entities=[tool],
            relations=[relation_to("uses", tool)],
            reliability=0.85,
        )
    ]


def _goal(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    """ "My goal this year is to run a marathon" ... "My new goal is to swim a mile": one current goal."""
    goal = clean_object(m.group("goal"))
    if not goal or len(goal.split()) > 10:
        return []
    kind = m.group("kind").lower()
    return [
        make_candidate(
            MemoryType.SEMANTIC,
            f"The user's {kind}{m.group('when') or ''} is {goal}",
            slot=f"goal:{kind}",
            value=goal,
            anchor=kind,
            entities=names_of(goal),
            reliability=0.85,
        )
    ]


def _switched_to(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    """ "I switched to green tea": what the user has now, the earlier thing unnamed (another clause ends it)."""
    return [make_candidate(MemoryType.SEMANTIC, third_person(sentence), reliability=0.85)]


def _instead(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    """ "I'm swimming instead": what the user does now in place of what the message ends."""
    return [make_candidate(MemoryType.SEMANTIC, third_person(sentence), reliability=0.85)]


_PETS = r"(?P<pet>cat|dog|kitten|puppy|rabbit|hamster|parrot|horse|guinea\s+pig|tortoise|turtle)"

NOW_RULES: tuple[Rule, ...] = (
    rule(
        r"(?i:\b(?:I|we)(?:'ve|\s+have)?\s+(?:just\s+|finally\s+|recently\s+|now\s+)?(?:moved|settled)\s+into\s+"
        r"(?:(?:my|our|a|the)\s+)?(?:new\s+)?(?:flat|apartment|house|home|place|condo)\s+in)\s+(?P<place>"
        + PLACE[1:-1]
        + r")",
        _moved_in,
    ),
    rule(
        rf"(?i:\bI\s+(?:now\s+|mostly\s+|usually\s+|always\s+)?(?P<how>{_TRANSPORT_RE}))"
        r"(?:\s+(?P<article>(?i:an?|my|our))\s+(?P<vehicle>[A-Z][\w\-]*(?:\s+[A-Z0-9][\w\-]*)?|(?i:[a-z\-]+\s+)?"
        r"(?i:car|bike|bicycle|scooter|van|motorbike|motorcycle|e-bike|truck)))?"
        r"(?:\s+(?i:to)\s+(?P<where>(?i:work|school|the\s+office|uni(?:versity)?|college)))?\b",
        _gets_around,
    ),
    rule(
        r"(?i:\b(?:I|we)(?:'m|\s+am|'re|\s+are)\s+(?:now\s+|currently\s+|also\s+)?learning|"
        r"\bI(?:'ve|\s+have)?\s+(?:just\s+|recently\s+|now\s+)?(?:started|begun|began)\s+learning|\bI\s+(?:now\s+)?learn)"
        r"\s+(?P<what>[\w' -]+?)"
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
    rule(
        r"(?i:\b(?:I|we)(?:'ve|\s+have)?\s+(?:just\s+|now\s+|finally\s+|also\s+)?(?:keep|take|write|store|track|"
        r"manage|organi[sz]e|do|plan|log|moved|migrated|switched|transferred|ported)\s+(?:all\s+)?(?:of\s+)?"
        r"(?:my|our)\s+)(?P<what>(?i:[a-z]+(?:\s+(?!over\b)[a-z]+)?))(?:\s+(?i:over))?\s+(?i:in|on|with|using|to|into)\s+"
        r"(?P<tool>" + NAME[1:-1] + r")",
        _tool,
    ),
    rule(
        r"(?i:\bI\s+(?:now\s+|mostly\s+)?use\s+)(?P<tool>" + NAME[1:-1] + r")\s+(?i:for|to\s+(?:keep|take|track|"
        r"manage|write|do|plan|organi[sz]e))\s+(?i:(?:all\s+)?(?:my|our)\s+)?(?P<what>(?i:[a-z]+(?:\s+[a-z]+)?))"
        r"(?=\s*(?:$|[,.;!])|\s+(?i:instead|now|these\s+days|rather)\b)",
        _tool,
    ),
    rule(
        r"(?i:\b(?:my|our)\s+(?:new\s+|main\s+|big\s+)?(?P<kind>goal|plan|resolution|aim|target|dream|ambition)"
        r"(?P<when>\s+(?:this|for\s+(?:this|next)|next)\s+(?:year|month|summer|season))?\s+is\s+)(?P<goal>to\s+[^,.;!?]+)",
        _goal,
    ),
    rule(
        r"(?i:\bI(?:'ve|\s+have)?\s+(?:just\s+|now\s+|finally\s+|also\s+)?(?:switched|changed|converted|"
        r"went\s+over|gone\s+over)(?:\s+over)?\s+to\s+)(?!(?:a\s+new\s+)?(?:job|flat|house|city)\b)[^,.;!?]+",
        _switched_to,
    ),
    # "I'm renting a room in Sheffield now", "we rent a flat in Leeds": where the user lives.
    rule(
        r"(?i:\b(?:I|we)(?:'m|\s+am|'re|\s+are)?\s+(?:now\s+|currently\s+)?(?:renting|rent|sharing|share|staying\s+in|"
        r"living\s+in|subletting)\s+(?:a|an|the|our|my)\s+(?:\w+\s+)?(?:room|flat|apartment|house|studio|place|"
        r"bedsit|condo|cottage)\s+in)\s+(?P<place>"
        + PLACE[1:-1]
        + r")(?!\s*,?\s*(?i:for|on\s+holiday|until|this\s+week))",
        _moved_in,
    ),
)
