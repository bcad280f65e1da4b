"""Dated events and plans: a first-person statement with a time phrase, recorded at the day it names."""

from __future__ import annotations

import re
from datetime import datetime

import msgspec

from jyntrix_adapters.english.fact_rules.common import make_candidate
from jyntrix_adapters.english.names import capitalised_names
from jyntrix_adapters.english.person import third_person
from jyntrix_adapters.english.tense import Tense, tense_of
from jyntrix_domain.english_time_phrases import read_time
from jyntrix_domain.fact_candidates import FactCandidate
from jyntrix_domain.model import MemoryType, Period

# The user, or the user with others ("we're flying to Rome in May"), doing or planning something.
# The user, or the user with others planning or going somewhere ("we're flying to Rome in May").
_EVENT_SUBJECT = re.compile(
    r"(?i)\b(?:I'm|we're|I\s+am|we\s+are|I'll|we'll|(?:I|we)\s+will|(?:I|we)\s+have|(?:I|we)'ve\s+got|(?:I|we)\s+(?:"
    r"need\s+to|plan|fly|leave|start|went|visited|moved|decided)|I\s+(?:had|was|met|got|finished|started|saw|"
    r"bought|ran|did|passed|graduated|retired)|(?:my|our)\s+\w+(?:\s+\w+)?\s+(?:is|was|starts|begins|ends))\b"
)


def dated_event(sentence: str, now: datetime) -> list[FactCandidate]:
    """A dated statement as an episodic memory, with the time its first time phrase names (`occurred`).

    A bare month or weekday is read back after a past verb ("I went to Rome in May") and forward
    otherwise, as plans are; vague stretches ("recently") name no day and make no event.
    """
    if _EVENT_SUBJECT.search(sentence) is None:
        return []
    reading = read_time(sentence, now, Tense.FUTURE, tense=tense_of(sentence), stretches=False)
    if reading is None:
        return []
    candidate = make_candidate(
        MemoryType.EPISODIC, third_person(sentence), entities=capitalised_names(sentence), reliability=0.8
    )
    # The date is the event's, in a field: the content keeps the words as said.
    return [msgspec.structs.replace(candidate, occurred=Period(start=reading.range.start, end=reading.range.end))]
