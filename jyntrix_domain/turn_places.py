"""Where a turn was said, and the signals retrieval draws from it: neighbour, session and speaker.

A turn memory keeps its place (`Memory.place`: conversation, the remembered message before it and what it
said, speaker, role); its keyword text is the turn said before it and itself
(`keyword_text`, contextual indexing). Evidence in a conversation often spans turns ("Did you go?" "Yes, to
Paris last May"), and a question about one person is about that person's turns, so for each query the
turns found are related to each other, from the rows retrieval has read already (no further reads):

- ``relevance(m) = (w_keyword · keyword + w_vector · vector) / (w_keyword + w_vector)``: how well a found
  memory matches the query by its words and meaning, with the query's own ranking weights.
- ``neighbour``: the best relevance among the found turns said just before or just after the turn in
  the same conversation (0 when none of them was found).
- ``session``: the best relevance among the found turns of the turn's conversation, itself included:
  a conversation that matches the query well lifts all its found turns.
- ``speaker``: 1 when the query names the turn's speaker (a word of the speaker's name is a word of a
  name the query analyser found), else 0.

Memories without a place (facts, summaries, imported memories) get none of these signals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from jyntrix_domain.model import Memory, MemoryId, MemoryKind, Place, UserId, stable_id
from jyntrix_domain.ranking import Match
from jyntrix_domain.signals import PLACE_SIGNALS, Signals, unit

BEFORE_CHARS = 300
"""How much of the turn said before a turn is kept with it, for its keyword text."""


def turn_memory_id(user_id: UserId, message_id: str) -> MemoryId:
    """The id of the turn memory of a message: the same on every retry."""
    return stable_id("turn", user_id, message_id)


def turn_place(memory: Memory) -> Place | None:
    """The place of a turn memory; None for any other memory, or a turn stored before places existed."""
    return memory.place if memory.kind is MemoryKind.TURN else None


def keyword_text(memory: Memory) -> str:
    """The text the keyword index holds for a memory: its content, after what was said just before it
    when it is a turn, and with the name of its attribute when it is a fact with a slot. An answer ("Yes,
    last May!") is then found by the words of its question, and "The user works as a nurse" by "job"; the
    memory's content, its vector and what the context shows stay the memory itself."""
    place = turn_place(memory)
    if memory.slot:
        return f"{memory.content}\n{memory.slot.split(':', 1)[0]}"
    if place is None or not place.before:
        return memory.content
    return f"{place.before}\n{memory.content}"


def follower_id(memory: Memory) -> MemoryId | None:
    """The id of the turn that keeps this turn's words in its keyword text, if any."""
    place = turn_place(memory)
    return turn_memory_id(memory.user_id, place.precedes) if place is not None and place.precedes else None


def without_words_before(memory: Memory) -> Memory | None:
    """The turn without the words of the turn before it (that turn is forgotten); None if it keeps none."""
    place = turn_place(memory)
    if place is None or place.before is None:
        return None
    return msgspec.structs.replace(memory, place=msgspec.structs.replace(place, before=None))


def _name_words(names: Iterable[str]) -> set[str]:
    return {word for name in names for word in name.casefold().replace("'s", " ").split()}


def place_matches(matches: Sequence[Match], weights: Signals, names: Sequence[str]) -> list[Match]:
    """The neighbour, session and speaker matches (module docstring) of the found turns in `matches`.

    `weights` are the query's ranking weights; a signal whose weight is 0 is not computed.
    `names` are the names the query analyser found in the query.
    """
    wanted = [name for name in PLACE_SIGNALS if getattr(weights, name) > 0]
    if not wanted:
        return []
    places: dict[str, tuple[Place, Memory]] = {}
    strengths: dict[str, dict[str, float]] = {}
    for m in matches:
        if m.memory is None:
            continue
        if m.memory_id not in places:
            place = turn_place(m.memory)
            if place is None:
                continue
            places[m.memory_id] = (place, m.memory)
        if m.signal in ("keyword", "vector"):
            found = strengths.setdefault(m.memory_id, {})
            found[m.signal] = max(found.get(m.signal, 0.0), unit(m.strength))
    if not places:
        return []
    share = weights.keyword + weights.vector
    relevance = {
        memory_id: (weights.keyword * s.get("keyword", 0.0) + weights.vector * s.get("vector", 0.0)) / share
        if share > 0
        else 0.0
        for memory_id, s in strengths.items()
    }
    by_message = {place.message_id: memory_id for memory_id, (place, _) in places.items() if place.message_id}
    after: dict[str, list[str]] = {}  # message id -> the found turns that follow it
    best_in: dict[str, float] = {}  # conversation id -> its best relevance
    for memory_id, (place, _) in places.items():
        if place.follows is not None:
            after.setdefault(place.follows, []).append(memory_id)
        score = relevance.get(memory_id, 0.0)
        best_in[place.conversation_id] = max(best_in.get(place.conversation_id, 0.0), score)
    asked = _name_words(names)
    out = []
    for memory_id, (place, row) in places.items():
        adjacent = [*after.get(place.message_id or "", ())]
        if place.follows in by_message:
            adjacent.append(by_message[place.follows])
        values = {
            "neighbour": max((relevance.get(other, 0.0) for other in adjacent), default=0.0),
            "session": best_in.get(place.conversation_id, 0.0),
            "speaker": 1.0 if place.speaker and asked & _name_words([place.speaker]) else 0.0,
        }
        out += [
            Match(memory_id=memory_id, strategy=name, signal=name, strength=values[name], memory=row)
            for name in wanted
            if values[name] > 0
        ]
    return out
