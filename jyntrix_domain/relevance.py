"""Which placed memories answer the query: the `relevant` mark of a context item, from retrieval's signals.

A responder without a model of its own (the offline one) answers from these marks, and a model's prompt can
tell what answers from what is only around it.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from jyntrix_domain.attributes import slot_family
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import MemoryKind
from jyntrix_domain.ports import Language
from jyntrix_domain.ranking import RankedMemory
from jyntrix_domain.stand_ins import takes_place_of, turns_by_message

__all__ = ["RelevanceConfig", "match_strength", "relevant_ids"]


class RelevanceConfig(msgspec.Struct, frozen=True, kw_only=True):
    """When a context item counts as relevant to the query, from its retrieval signals.

    An item is relevant when its strongest match signal (keyword, vector or graph, calibrated to
    0..1) reaches `min_match`, its relevance (`ScoreBreakdown.relevance`: how well it matches and how far
    it is trusted, never how recent it is) reaches `min_score`, and its relevance is within `margin` of the
    best such item's. A turn's place among the turns found lifts it in the ranking but does not make it an
    answer, nor do recency or currentness: an old fact answers as well as a new one, and an ended one is
    an answer marked as such. A memory only nominated (a profile fact, a recent one) never is, nor is a
    turn that only asked a question (kept from before questions stopped being memories): it states nothing,
    however well it matches a question.
    Tuned on tests/adapters/offline/test_grounded_answers.py's cases.
    """

    min_match: float = 0.55
    min_score: float = 0.25
    margin: float = 0.12

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise Invalid(f"relevance {name} must be within 0..1")


def match_strength(r: RankedMemory) -> float:
    """The strongest of the signals that say a memory matches the query's words or meaning."""
    signals = r.breakdown.signals
    return max(signals.keyword, signals.vector, signals.graph)


def relevant_ids(ranked: Sequence[RankedMemory], config: RelevanceConfig, language: Language) -> frozenset[str]:
    """The ids of the memories `config` counts as relevant (see RelevanceConfig); a turn that only asks (read by
    `language`) is not one."""
    matched = [
        r
        for r in ranked
        if match_strength(r) > 0
        and match_strength(r) >= config.min_match
        and r.breakdown.relevance >= config.min_score
        and not _asks_only(r, language)
    ]
    # What the query asks about comes first: current memories for a question about now, ended ones for one
    # about before (the `standing` signal); the others answer only when none of those does.
    standing = [r for r in matched if r.breakdown.signals.standing >= 1.0]
    pool = standing or matched
    if not pool:
        return frozenset()
    best = max(r.breakdown.relevance for r in pool)
    answers = [r for r in pool if r.breakdown.relevance >= best - config.margin]
    # An attribute answers with all its values of that standing: a previous job is the role and the employer.
    families = {slot_family(r.memory.slot) for r in answers} - {None}
    answers += [r for r in pool if slot_family(r.memory.slot) in families]
    return _with_their_facts(frozenset(r.memory.id for r in answers), ranked)


def _with_their_facts(relevant: frozenset[str], ranked: Sequence[RankedMemory]) -> frozenset[str]:
    """A fact drawn from a relevant turn that takes its place (`jyntrix_domain.stand_ins`) is relevant too: it
    says what the turn said, and takes its place in the context, where the turn is then left out."""
    turns = {m: t for m, t in turns_by_message(ranked).items() if t.memory.id in relevant}
    if not turns:
        return relevant
    facts = {
        r.memory.id
        for r in ranked
        if r.memory.kind is not MemoryKind.TURN
        and any(m in turns and takes_place_of(r, turns[m]) for m in r.memory.source_message_ids)
    }
    return relevant | facts


def _asks_only(r: RankedMemory, language: Language) -> bool:
    return r.memory.kind is MemoryKind.TURN and not language.states_something(r.memory.content)
