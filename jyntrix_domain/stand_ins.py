"""Facts and the turns they were drawn from: when a fact stands in for its turn.

A fact drawn from a turn (it cites a message the turn cites) states what the turn said, resolved and attributed,
so it usually takes the turn's place: it ranks just above the turn, its score raised to the turn's (rule "a fact
before its turn", `facts_before_their_turns`), and a context that places the fact leaves the turn out. It does not
stand in for the turn (`stands_in`) when:

- the turn is about what the query names (its `graph` signal: a person, a pet, a place or an attribute the query
  asks about) and the fact is not, by more than `STAND_IN_MARGIN`: the query found in the turn something the fact
  does not say ("my old dog" in "I lived in Leeds with our dog Rufus", whose fact is only where the user
  lived); the turn keeps its place and the fact its own rank. Words and meaning are not compared: a fact is a
  rewording of its turn, and scores lower on them for that alone;
- its standing is below the turn's: an ended fact drawn from a current turn, for a question about now, would
  otherwise take the current turn's score and stand above the value that replaced it.

Nor is a fact that does not match the query itself (its strongest match signal below `STAND_IN_MIN_MATCH`)
lifted to its turn's score, nor made relevant by it (`takes_place_of`): a fact found only as a profile fact ("The
user's name is Ruth") does not say what the query found in its turn ("I'm Ruth, I retired from nursing last
year"). It still stands in for the turn in a context where the turn does not answer.

A context still leaves out a current turn one of whose placed facts has ended (`SaidAlready.placed`): the turn
would state the replaced value as if it held, where the fact is marked as earlier.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from jyntrix_domain.model import MemoryKind
from jyntrix_domain.ranking import RankedMemory

FACT_BEFORE_TURN = "fact before its turn"
# How much less than its turn a fact may be about what the query names and still say what it found there.
STAND_IN_MARGIN = 0.3


# How well a fact must match the query itself to stand in for its turn.
STAND_IN_MIN_MATCH = 0.3


def stands_in(fact: RankedMemory, turn: RankedMemory) -> bool:
    """Whether `fact`, drawn from `turn`, says what the query found in it (module docstring)."""
    said, evidence = fact.breakdown.signals, turn.breakdown.signals
    return said.graph >= evidence.graph - STAND_IN_MARGIN and said.standing >= evidence.standing


def takes_place_of(fact: RankedMemory, turn: RankedMemory) -> bool:
    """Whether `fact` stands in for `turn` and matches the query itself: it ranks at the turn's score, and is
    relevant when the turn is (module docstring)."""
    said = fact.breakdown.signals
    return stands_in(fact, turn) and max(said.keyword, said.vector, said.graph) >= STAND_IN_MIN_MATCH


def turns_by_message(ranked: Sequence[RankedMemory]) -> dict[str, RankedMemory]:
    """Message id -> the best-ranked turn memory citing it."""
    at: dict[str, RankedMemory] = {}
    for r in ranked:
        if r.memory.kind is MemoryKind.TURN:
            for message_id in r.memory.source_message_ids:
                at.setdefault(message_id, r)
    return at


def _turn_positions(ranked: Sequence[RankedMemory]) -> dict[str, int]:
    """Message id -> position of the best-ranked turn memory citing it."""
    at: dict[str, int] = {}
    for i, r in enumerate(ranked):
        if r.memory.kind is MemoryKind.TURN:
            for message_id in r.memory.source_message_ids:
                at.setdefault(message_id, i)
    return at


def facts_before_their_turns(ranked: Sequence[RankedMemory]) -> list[RankedMemory]:
    """The rule "a fact before its turn" (module docstring): each fact that takes the place of the best-ranked turn
    memory whose message it cites moves just above it, its score raised to that turn's (an adjustment its
    breakdown shows); every other memory keeps its order."""
    out = list(ranked)
    turn_at = _turn_positions(out)
    for r in list(out):
        if r.memory.kind is MemoryKind.TURN or not turn_at:
            continue
        position = out.index(r)
        above = [
            turn_at[m]
            for m in r.memory.source_message_ids
            if turn_at.get(m, position) < position and takes_place_of(r, out[turn_at[m]])
        ]
        if above:
            target = min(above)
            raised = r.breakdown.raised_to(out[target].score, FACT_BEFORE_TURN)
            out.pop(position)
            out.insert(target, msgspec.structs.replace(r, breakdown=raised))
            turn_at = _turn_positions(out)
    return out
