"""What a context being built has said already, so that a turn memory is not placed to say it twice: messages
kept in the history, and messages whose facts are placed (`jyntrix_domain.stand_ins`)."""

from __future__ import annotations

import msgspec

from jyntrix_domain.model import MemoryKind
from jyntrix_domain.ranking import RankedMemory
from jyntrix_domain.stand_ins import takes_place_of


class SaidAlready(msgspec.Struct):
    """The messages whose words are in the context already: in the kept history (`heard`), or through a fact
    drawn from them (`drawn`); `answering` holds the memories relevant to the query, `turn_of` the best-ranked
    turn memory of each message found (`stand_ins.turns_by_message`)."""

    answering: frozenset[str]
    turn_of: dict[str, RankedMemory] = msgspec.field(default_factory=dict)
    heard: set[str] = msgspec.field(default_factory=set)
    drawn: set[str] = msgspec.field(default_factory=set)
    # Messages whose current turn a placed fact has ended: the turn would state the replaced value unmarked.
    ended: set[str] = msgspec.field(default_factory=set)

    def placed(self, fact: RankedMemory) -> None:
        """Note what a placed fact says of the messages it was drawn from (`jyntrix_domain.stand_ins`)."""
        for m in fact.memory.source_message_ids:
            turn = self.turn_of.get(m)
            if turn is not None and turn.current and not fact.current:
                self.ended.add(m)
            elif turn is None or takes_place_of(fact, turn):
                self.drawn.add(m)

    def already(self, r: RankedMemory) -> bool:
        """A turn memory whose message is in the history, or whose facts are placed and which does not itself
        answer the query."""
        ids = r.memory.source_message_ids
        if r.memory.kind is not MemoryKind.TURN or not ids:
            return False
        if all(m in self.heard or m in self.ended for m in ids):
            return True
        return r.memory.id not in self.answering and all(m in self.heard or m in self.drawn for m in ids)
