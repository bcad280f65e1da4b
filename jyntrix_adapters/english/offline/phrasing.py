"""How the offline responder says what it restates: in the second person, the past as past, dates in words."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from jyntrix_adapters.english.offline.evidence import Evidence
from jyntrix_adapters.english.person import addressed, restate, used_to
from jyntrix_adapters.english.tense import Tense, tense_of
from jyntrix_domain.model import Period

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
# "Caroline: I went…": a turn someone else said, restated as said.
_SPEAKER = re.compile(r"^[\w][\w .'-]{0,60}:\s")
_PAST_MARK = re.compile(
    r"(?i)\b(?:used to|before|until|formerly|previously|no longer|any ?more|ago|as a (?:kid|child))\b"
)


# What opens a turn without telling anything ("Hi there, my name is…", "Oh, and we've just got…").
_OPENING = re.compile(
    r"^(?:(?:hi|hello|hey|oh|well|ok|okay|so|anyway|btw|by the way)(?:\s+there)?\s*[,!.;:]\s*(?:and\s+|but\s+)?)+",
    re.IGNORECASE,
)


def without_opening(text: str) -> str:
    """A turn without its greeting or filler ("Hi there, my name is Nina" -> "my name is Nina")."""
    rest = _OPENING.sub("", text.strip())
    return rest or text.strip()


def when_said(period: Period) -> str:
    """A time in words: "on 14 June 2023", "in March 2023", "in 2023", or "between ... and ..."."""
    start, days = period.start, (period.end - period.start).days
    if days <= 1:
        return f"on {_day(start)}"
    if start.day == 1 and 28 <= days <= 31:
        return f"in {MONTHS[start.month - 1]} {start.year}"
    if start.month == 1 and start.day == 1 and days in (365, 366):
        return f"in {start.year}"
    last = period.end - timedelta(days=1)
    return f"between {_day(start)} and {_day(last)}"


def _day(at: datetime) -> str:
    return f"{at.day} {MONTHS[at.month - 1]} {at.year}"


def held_before(evidence: Evidence) -> bool:
    """Whether a piece says that what it tells no longer holds: a memory that ended, or "used to", "until"…
    (not only told in the past: "I took up pottery" still holds)."""
    return not evidence.current or bool(_PAST_MARK.search(evidence.content))


def tells_of_the_past(evidence: Evidence) -> bool:
    """Whether a piece says what held before: a memory that ended, or words that mark the past ("used to")."""
    return not evidence.current or bool(_PAST_MARK.search(evidence.content)) or tense_of(evidence.content) is Tense.PAST


def as_sentence(evidence: Evidence, *, asks_when: bool = False) -> str:
    """A piece spoken to the user: facts about "the user" and the user's own words, in the second person;
    one that is no longer true in the past, with when it ended; when asked, when it happened."""
    content = " ".join(evidence.content.split()).rstrip(".!;, ")
    if evidence.quoted:
        content = without_opening(content)
    if not evidence.current:
        content = used_to(content)
    content = addressed(content)
    if not _SPEAKER.match(content):
        content = restate(content)
    if not evidence.current and evidence.valid_until is not None:
        content += f" (until {MONTHS[evidence.valid_until.month - 1]} {evidence.valid_until.year})"
    if asks_when and evidence.occurred is not None:
        when = when_said(evidence.occurred)
        if when.split(" ", 1)[1].casefold() not in content.casefold():
            content += f" ({when})"
    return content[:1].upper() + content[1:]
