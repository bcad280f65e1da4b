"""The deterministic extractor: every fact rule over every sentence of the user's own messages."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

from jyntrix_adapters.english.fact_rules.changes import ENDING_RULES, attach_instead
from jyntrix_adapters.english.fact_rules.events import dated_event
from jyntrix_adapters.english.fact_rules.habits import HABIT_RULES
from jyntrix_adapters.english.fact_rules.identity import IDENTITY_RULES
from jyntrix_adapters.english.fact_rules.now import NOW_RULES
from jyntrix_adapters.english.fact_rules.phrases import NOT_NAMES, split_sentences
from jyntrix_adapters.english.fact_rules.procedures import PROCEDURE_RULES
from jyntrix_adapters.english.fact_rules.relations import RELATION_RULES
from jyntrix_adapters.english.fact_rules.work import WORK_RULES, attach_employer
from jyntrix_adapters.english.names import capitalised_names
from jyntrix_adapters.english.tense import Tense, tense_of
from jyntrix_domain.fact_candidates import FactCandidate, merge_fact_candidates
from jyntrix_domain.model import Memory, Message, Role

# A rule whose match holds one value is a `Fact` row; a function only where the logic is its own.
# Every rule runs on every sentence; when two fill one slot, the later row wins (see merge_fact_candidates).
_FACT_RULES = (*IDENTITY_RULES, *RELATION_RULES, *HABIT_RULES, *PROCEDURE_RULES, *ENDING_RULES, *WORK_RULES, *NOW_RULES)
_HEDGES = re.compile(r"(?i)\b(?:i think|i guess|maybe|probably|perhaps|might|not sure|i suppose)\b")


class DeterministicExtractor:
    """Rules for common first-person statements; reads only the user's messages.

    Identity (name, age, location, job) becomes profile memories; preferences and relations
    semantic; "from now on" / "always ... when you answer" rules procedural; dated plans and
    events episodic with the date resolved against the message's own time.
    """

    name = "deterministic"
    reads_known = False

    async def extract(self, messages: Sequence[Message], known: Sequence[Memory] = ()) -> list[FactCandidate]:
        # Message by message, in the order said: a later message's value for a slot supersedes an earlier one's
        # in consolidation, each at its own time, so that a batch keeps its history ("I live in Berlin" ... "I
        # moved to Amsterdam" in one import) rather than only its last word.
        found: list[FactCandidate] = []
        for message in sorted(messages, key=lambda m: (m.created_at, m.id)):
            if message.role is not Role.USER:
                continue
            found.extend(self.extract_text(message.content, message.created_at, (message.id,)))
        return found

    def extract_text(
        self, text: str, at: datetime | None = None, source_message_ids: tuple[str, ...] = ()
    ) -> list[FactCandidate]:
        now = at or datetime.now(UTC)
        out: list[FactCandidate] = []
        previous = ""  # the last statement, for rules that read on from it; a question refers to nothing
        place: str | None = None  # the last place the message named, which "here" and "there" stand for
        for sentence in split_sentences(text):
            if sentence.endswith("?") or _is_hypothetical(sentence):
                previous = ""
                continue
            said, place = _placed(sentence, place)
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
            if (
                all(f.slot and f.slot.startswith(("relation", "habit")) for f in facts)
                or tense_of(sentence) is Tense.PAST
            ):
                # A dated statement is an event even when it also names a relation ("my friend Tom and I...")
                # or changes a habit ("a month ago I started running"); told in the past, whatever else it says
                # ("I moved to Berlin in March 2023" is where the user lives, and when they moved there).
                facts.extend(dated_event(sentence, now))
            names = capitalised_names(sentence)
            for candidate in facts:
                entities = tuple(dict.fromkeys((*candidate.entities, *names)))
                if said is not sentence:
                    candidate = msgspec.structs.replace(candidate, content=_placed(candidate.content, place)[0])
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
        return merge_fact_candidates(attach_employer(attach_instead(out)))


_NAMED_PLACE = re.compile(r"\b(?:in|to|from|at|into)\s+(?:the\s+)?([A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+){0,2})")
_HERE = re.compile(r"\b(moved|moving|came|coming|relocated|relocating|got|get)\s+(here|there)\b|\b(here|there)\b")


def _placed(sentence: str, place: str | None) -> tuple[str, str | None]:
    """The sentence with "here" and "there" said as the place the message named last ("I live in Berlin, I moved
    here in 2023" moved to Berlin), and the last place named once the sentence is read."""
    said = sentence
    if place is not None and _HERE.search(sentence):
        said = _HERE.sub(lambda m: f"{m.group(1)} to {place}" if m.group(1) else f"in {place}", sentence)
    named = [m.group(1) for m in _NAMED_PLACE.finditer(sentence) if m.group(1).split()[0] not in NOT_NAMES]
    return said, named[-1] if named else place


def _is_hypothetical(sentence: str) -> bool:
    return (
        re.match(r"(?i)(?:if|what if|imagine|suppose|would|should|could|do you|does|can you|what|how)\b", sentence)
        is not None
    )
