"""Rules for changes of mind: what a statement ends, and what takes its place.

- From one thing to another: "I switched from Duolingo to Babbel", "I swapped my car for a bike", "Babbel
  instead of Duolingo": the facts that mention the first thing are said again with the second (`Ending`
  with a replacement). A move from one home to another is the location slot's (`identity`).
- An end: "I left Zalando", "Left Deloitte in the summer", "scratch the half marathon", "I sold the Golf",
  "I quit the gym", "Tom and I broke up", "Rufus died in the spring": the facts that mention it hold no
  longer (`Ending` without a replacement); a sentence of the same message saying what the user does
  "instead" is kept with them.

What holds now is read by `now` (home, transport, tools, goals, pets) and `work` (role and employer).

The thing a statement ends is its object as a noun phrase: without articles, possessives, the gerund of a
verb that only says what one does with it ("going to the gym" is the gym), the preposition after it
("playing in the band" is the band), a second clause ("... and took up climbing") and trailing time phrases.
"""

from __future__ import annotations

import re

import msgspec

from jyntrix_adapters.english.fact_rules.common import Rule, make_candidate, rule
from jyntrix_adapters.english.fact_rules.phrases import NAME, clean_object, is_name
from jyntrix_adapters.english.names import capitalised_names
from jyntrix_adapters.english.person import third_person
from jyntrix_adapters.english.stopwords import word_set
from jyntrix_domain.english_time_phrases import time_phrase_span
from jyntrix_domain.fact_candidates import Ending, FactCandidate
from jyntrix_domain.model import MemoryType

_LEADING = re.compile(
    r"(?i)^(?:(?:my|our|the|a|an|his|her|their|that|this|those|these|whole|old|current|new|former)\s+)+"
)
_DOING = re.compile(
    r"(?i)^(?:going\s+to(?:\s+the)?|going|playing|doing|using|learning|taking|attending|working\s+(?:at|for)|"
    r"training\s+for|studying|eating|drinking|riding|driving|visiting|listening\s+to|watching|reading|"
    # what follows "given up on", "stopped playing in": the thing itself
    r"on|in|at|with|from|out\s+of)\s+"
)
_WHEN = re.compile(
    r"(?i)\s+(?:(?:last|this|next|a|two|three|few|couple)\s+(?:\w+\s+)?(?:ago|weeks?|months?|years?)"
    r"|now|anymore|any\s+more|these\s+days|nowadays|instead|for\s+good|altogether|completely|already"
    r"|in\s+(?:the\s+)?(?:spring|summer|autumn|fall|winter))\b"
    # a second clause with a verb of its own: "I quit the gym and took up climbing"
    r"|\s+and\s+(?=(?:I|we|then|took|got|went|began|started|joined|bought|found|moved|\w+ed)\b)"
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
    for _ in range(3):
        title = re.match(r"The\s+[A-Z]", text.strip())  # "The Rest Is History" is a name, its "The" with it
        text = _DOING.sub("", text.strip() if title else _LEADING.sub("", text.strip())).strip()
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
    return [_ending(third_person(_said(sentence)), [Ending(mention=old, replacement=new)], entities=names_of(old, new))]


def _instead_of(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    new, old = thing_of(m.group("new")), thing_of(m.group("old"))
    if old is not None and old[:1].isupper() and new is not None and not new[:1].isupper():
        # A name is replaced by a name: "I use Linear for my tasks instead of Jira" is Linear, not "tasks".
        names = [n for n in capitalised_names(sentence[: m.start("old")]) if n.casefold() != old.casefold()]
        new = names[-1] if names else None
    if old is None or new is None or old.casefold() == new.casefold():
        return []
    return [_ending(third_person(_said(sentence)), [Ending(mention=old, replacement=new)], entities=names_of(old, new))]


def _ended(m: re.Match[str], sentence: str) -> list[FactCandidate]:
    thing = thing_of(m.group("thing"))
    if thing is None:
        return []
    said = _said(sentence)
    verb = re.match(r"(?i)\W*(?:(?:so|and|also|just|finally)\s+)*(left|quit|ditched|sold)\b", said)
    content = (
        third_person(said)
        if re.search(r"(?i)\b(?:I|we)\b", said)
        else f"The user {verb.group(1).lower() if verb else 'gave up'} {thing}"
    )
    return [_ending(content, [Ending(mention=thing)], entities=names_of(thing))]


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


def names_of(*things: str) -> list[str]:
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
    r"abandoned|skipped|am\s+done\s+with|'m\s+done\s+with|resigned\s+from|handed\s+in\s+my\s+notice\s+at|"
    r"(?:was|got)\s+(?:laid\s+off|let\s+go|made\s+redundant|fired)\s+(?:from|by|at)|no\s+longer\s+(?:use|have|go\s+to|play|do|attend|work\s+at))"
    r"|\bscratch(?:\s+that)?(?:\s*[,:-]\s*|\s+)(?:the\s+idea\s+of\s+)?"
    # the subject left out, as in chat: "Left Deloitte in the summer"
    r"|^(?:(?:so|and|also|just|finally)\s+)*(?:left|quit|ditched|sold)\b)"
    r"\s*(?P<thing>[^,.;!?]+)"
)
_NOT_ANYMORE = (
    r"(?i:\b(?:I|we)(?:'m|\s+am|'re|\s+are)\s+not\s+(?:going\s+to|doing|playing|using|taking|attending|seeing|"
    r"learning|training\s+for|watching|listening\s+to)|\b(?:I|we)\s+(?:don't|do\s+not|dont)\s+(?:use|have|go\s+to|play|do|attend|own|drive|ride|take|"
    r"listen\s+to|watch|read|follow|wear|see|visit|need))\s+"
    r"(?P<thing>[^,.;!?]+?)\s+(?i:any\s?more)\b"
)
_BROKE_UP = (
    r"(?:(?P<who>"
    + NAME[1:-1]
    + r")\s+(?i:and\s+I|&\s+I)\s+(?i:broke\s+up|split\s+up|separated|divorced|got\s+divorced))"
    r"|(?i:\bI\s+(?:broke\s+up|split\s+up)\s+with|\bI\s+divorced|\bI\s+left|"
    r"\bI(?:'m|\s+am)\s+(?:no\s+longer|not)\s+(?:with|seeing|dating))\s+(?:(?i:my\s+\w+\s+))?(?P<whom>"
    + NAME[1:-1]
    + r")"
)


# A death or a loss: "Rufus died in the spring", "our cat Miso passed away", "we lost Rex last year".
_GONE = (
    r"(?:(?P<who>" + NAME[1:-1] + r")\s+(?i:(?:has\s+|sadly\s+|just\s+)*(?:died|passed\s+away|passed\s+on|"
    r"was\s+put\s+down|had\s+to\s+be\s+put\s+(?:down|to\s+sleep)))\b)"
    r"|(?i:\b(?:I|we)\s+(?:sadly\s+|just\s+)?(?:lost|had\s+to\s+put\s+down)\s+(?:(?:my|our)\s+\w+\s+)?)(?P<whom>"
    + NAME[1:-1]
    + r")"
)


ENDING_RULES: tuple[Rule, ...] = (
    rule(_FROM_TO, _from_to),
    rule(_SWAPPED, _from_to),
    rule(_INSTEAD_OF, _instead_of),
    rule(_ENDED, _ended),
    rule(_NOT_ANYMORE, _ended),
    rule(_BROKE_UP, _broke_up),
    rule(_GONE, _broke_up),
)


_INSTEAD = re.compile(r"(?i)\binstead\b(?!\s+of)")


def attach_instead(candidates: list[FactCandidate]) -> list[FactCandidate]:
    """The endings of one message that name no replacement take what the same message says the user has taken
    to now, when it is the same kind of thing ("I don't listen to The Daily anymore, I'm hooked on Serial now":
    from one named show to another), as their replacement; otherwise they keep what the message says the user
    does "instead" (a candidate of `_instead`), so the fact that ends says what took its place."""
    taken = [str(c.metadata["taken_to"]) for c in candidates if c.metadata.get("taken_to")]
    instead = [
        c.content for c in candidates if c.slot is None and not c.ends and re.search(r"(?i)\binstead\b", c.content)
    ]
    if not instead and len(taken) != 1:
        return candidates
    said = "; ".join(instead) or None
    out = []
    for c in candidates:
        if c.ends and all(e.replacement is None for e in c.ends):
            c = msgspec.structs.replace(c, ends=tuple(_taken_to(e, taken, said) for e in c.ends))
        out.append(c)
    return out


def _taken_to(ending: Ending, taken: list[str], instead: str | None) -> Ending:
    if len(taken) == 1 and ending.mention[:1].isupper() == taken[0][:1].isupper():
        return Ending(mention=ending.mention, replacement=taken[0])
    return Ending(mention=ending.mention, instead=ending.instead or instead) if instead else ending
