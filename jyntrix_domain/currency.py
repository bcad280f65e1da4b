"""What is current: turns end with their facts, and a statement of change ends what it changes.

Facts end by consolidation (`jyntrix_domain.consolidation`): a new value for a slot, or a statement
that ends what it names. Two rules here carry that to what was said:

- `end_spent_turns`: a turn is no longer current once every fact drawn from its messages has ended
  (it said what those facts said); it ends when the last of them did, replaced by what replaced it. A fact
  that tells of a past event ("I moved here in March 2023") stays current, as history does, but does not
  keep current a turn whose statements of the present all ended ("I live in Berlin ... I work at Zalando").
- `ChangeRule`, for statements no slot or ending reads: a later statement of the user that says something
  changed (a change cue: "no longer", "instead", "switched", "moved", "quit", "actually", ...; `Language.says_change`)
  ends the same speaker's earlier current statements on the same topic: close in meaning (the cosine of their
  embeddings at least `min_similarity`) and sharing its subject (a content word of at least four letters, or
  a name, in common, the cue words aside). The earlier turn and the facts without a slot drawn from it end,
  replaced by the new statement's turn. A plan told later as done ("we're moving to Amsterdam" ... "we moved
  into our flat in Amsterdam") is no change: it ends nothing (`fulfils`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

import msgspec

from jyntrix_domain.fact_candidates import content_words
from jyntrix_domain.memories import MemoryService
from jyntrix_domain.model import Memory, MemoryFilter, MemoryId, MemoryKind, MemoryType, Message, Role, UserId
from jyntrix_domain.ports import Language
from jyntrix_domain.tense import Tense
from jyntrix_domain.terms import word_tokens
from jyntrix_domain.turn_places import turn_memory_id

_FACT_KINDS = frozenset({MemoryKind.FACT})
_TURNS = frozenset({MemoryKind.TURN})
_LIMIT = 200


async def end_spent_turns(
    memories: MemoryService,
    user_id: UserId,
    message_ids: Sequence[str],
    *,
    by: MemoryId,
    at: datetime,
    speaker: str | None = None,
) -> list[MemoryId]:
    """End the current turns of `message_ids` whose every fact has ended; return the ids of those ended.

    `speaker` is who said what ended them: in a conversation of several people, only that speaker's turns end.
    """
    if not message_ids:
        return []
    turns = await memories.list(
        user_id, MemoryFilter(sources=frozenset(message_ids), kinds=_TURNS, current_only=True, limit=_LIMIT)
    )
    ended = []
    for turn in turns:
        if (turn.place.speaker if turn.place else None) != speaker:
            continue
        facts = await memories.list(
            user_id,
            MemoryFilter(
                sources=frozenset(turn.source_message_ids), kinds=_FACT_KINDS, current_only=False, limit=_LIMIT
            ),
        )
        if facts and any(not f.current for f in facts) and not any(_holds_now(f, at) for f in facts):
            last = max((f.valid_until for f in facts if f.valid_until is not None), default=at)
            if await memories.end(user_id, turn.id, by=by, at=last):
                ended.append(turn.id)
    return ended


def _holds_now(fact: Memory, at: datetime) -> bool:
    """Whether a current fact says something of the present: an event told of the past ("moved to Berlin in
    March 2023") stays true, but keeps no turn current beside the states it told with it that ended."""
    past_event = fact.type is MemoryType.EPISODIC and fact.occurred is not None and fact.occurred.end <= at
    return fact.current and not past_event


class ChangeConfig(msgspec.Struct, frozen=True, kw_only=True):
    """The generic change rule's thresholds (module docstring)."""

    min_similarity: float = 0.55
    candidates: int = 10


def _subject_words(text: str, language: Language) -> frozenset[str]:
    cues = language.change_words
    return frozenset(w for w in content_words(text, language.fact_words) if len(w) >= 4 and w not in cues)


_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'\-]+")


def fulfils(later: str, earlier: str, language: Language) -> bool:
    """Whether `later` tells that the plan `earlier` made came about, which changes nothing: "We're moving to
    Amsterdam in January" ... "We moved into our flat in Amsterdam". The same verb of change (one of
    `Language.change_words`, compared by stem), told as done after it was planned, of the same named place or
    thing, with nothing said against it (`Language.says_contrary`)."""
    if not language.planned(earlier) or language.tense_of(later) is not Tense.PAST or language.says_contrary(later):
        return False
    verbs = {language.stem(w) for w in word_tokens(later) if w.casefold() in language.change_words}
    if not verbs & {language.stem(w) for w in word_tokens(earlier)}:
        return False
    return bool(set(_NAME.findall(later)) & set(_NAME.findall(earlier)))


class ChangeRule:
    """Ends earlier statements on the topic of a later statement of change (module docstring)."""

    def __init__(self, memories: MemoryService, language: Language, config: ChangeConfig | None = None) -> None:
        self._memories = memories
        self._language = language
        self._config = config or ChangeConfig()

    async def apply(self, user_id: UserId, message: Message) -> list[MemoryId]:
        """End what `message` (a user statement) changes; return the ids of the memories ended."""
        if message.role is not Role.USER or not self._language.says_change(message.content):
            return []
        said = _subject_words(message.content, self._language)
        if not said:
            return []
        by = turn_memory_id(user_id, message.id)
        close = await self._memories.meaning_matches(
            user_id, message.content, limit=self._config.candidates, min_similarity=self._config.min_similarity
        )
        ended = []
        for earlier in close:
            if not self._changed_by(earlier, message, said):
                continue
            if await self._memories.end(user_id, earlier.id, by=by, at=message.created_at):
                ended.append(earlier.id)
            if earlier.kind is MemoryKind.TURN:
                ended += await self._end_facts_of(user_id, earlier, by=by, at=message.created_at)
        return ended

    def _changed_by(self, earlier: Memory, message: Message, said: frozenset[str]) -> bool:
        if not earlier.current or earlier.created_at >= message.created_at:
            return False
        if message.id in earlier.source_message_ids:
            return False
        if earlier.kind is MemoryKind.TURN:
            # The same speaker's earlier statement: in a conversation of several people, one's change is not
            # another's.
            if earlier.role is not Role.USER or (earlier.place and earlier.place.speaker) != message.name:
                return False
        elif earlier.kind is not MemoryKind.FACT or earlier.slot is not None:
            return False  # a fact with a slot changes by its slot
        language = self._language
        return bool(said & _subject_words(earlier.content, language)) and not fulfils(
            message.content, earlier.content, language
        )

    async def _end_facts_of(self, user_id: UserId, turn: Memory, *, by: MemoryId, at: datetime) -> list[MemoryId]:
        facts = await self._memories.list(
            user_id,
            MemoryFilter(sources=frozenset(turn.source_message_ids), kinds=_FACT_KINDS, current_only=True, limit=50),
        )
        ended = []
        for fact in facts:
            if fact.slot is None and await self._memories.end(user_id, fact.id, by=by, at=at):
                ended.append(fact.id)
        return ended
