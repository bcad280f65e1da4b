"""When a fact stands in for the turn it was drawn from: its rank above the turn, and the turn left out."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_adapters.inprocess.token_counter import RegexTokenCounter
from jyntrix_domain.context import ContextBuilder
from jyntrix_domain.model import Memory, MemoryKind, MemoryType
from jyntrix_domain.ranking import RankedMemory
from jyntrix_domain.relevance import RelevanceConfig, relevant_ids
from jyntrix_domain.said_already import SaidAlready
from jyntrix_domain.signals import ScoreBreakdown, Signals
from jyntrix_domain.stand_ins import FACT_BEFORE_TURN, facts_before_their_turns, stands_in, takes_place_of

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _ranked(
    id: str,
    score: float,
    kind: MemoryKind,
    *cites: str,
    standing: float = 0.0,
    graph: float = 0.0,
    ended: bool = False,
    slot: str | None = None,
) -> RankedMemory:
    m = Memory(
        id=id,
        user_id="u1",
        type=MemoryType.EPISODIC if kind is MemoryKind.TURN else MemoryType.SEMANTIC,
        content=f"memory {id}",
        created_at=NOW - timedelta(days=9),
        updated_at=NOW - timedelta(days=9),
        valid_from=NOW - timedelta(days=9),
        kind=kind,
        source_message_ids=cites,
        valid_until=NOW - timedelta(days=1) if ended else None,
        slot=slot,
    )
    weights = Signals(vector=1.0, graph=0.1, standing=0.25)
    return RankedMemory(
        memory=m,
        breakdown=ScoreBreakdown.of(Signals(vector=score - 0.1 * graph, graph=graph, standing=standing), weights),
        match_types=frozenset(),
        current=not ended,
    )


def hides(fact: RankedMemory, turn: RankedMemory) -> bool:
    """Whether a context that places `fact` then leaves out `turn` (which answers nothing by itself)."""
    said = SaidAlready(answering=frozenset(), turn_of={m: turn for m in turn.memory.source_message_ids})
    said.placed(fact)
    return said.already(turn)


def test_a_fact_placed_above_its_turn_shows_the_score_it_is_placed_at() -> None:
    turn = _ranked("turn", 0.6, MemoryKind.TURN, "msg-1")
    other = _ranked("other", 0.5, MemoryKind.FACT, "msg-2")
    fact = _ranked("fact", 0.4, MemoryKind.FACT, "msg-1")
    placed = facts_before_their_turns([turn, other, fact])
    assert [r.memory.id for r in placed] == ["fact", "turn", "other"]
    # In the order of the scores they show: the fact's is raised to its turn's, and says by which rule.
    assert [r.score for r in placed] == sorted((r.score for r in placed), reverse=True)
    raised = placed[0].breakdown
    assert raised.total == 0.6 and raised.adjusted_by == FACT_BEFORE_TURN
    assert math.isclose(raised.adjustment, 0.2) and math.isclose(raised.contributions.total() + raised.adjustment, 0.6)


def test_a_fact_already_above_its_turn_keeps_its_score() -> None:
    fact = _ranked("fact", 0.7, MemoryKind.FACT, "msg-1")
    turn = _ranked("turn", 0.6, MemoryKind.TURN, "msg-1")
    placed = facts_before_their_turns([fact, turn])
    assert placed == [fact, turn] and placed[0].breakdown.adjusted_by is None


def test_an_ended_fact_is_not_lifted_to_its_current_turn_for_a_question_about_now() -> None:
    # "I work as a designer at Acme, and I live in Leeds" is still current (Leeds holds); its fact "works at
    # Acme" ended. Asked where the user works now, the ended fact keeps its own rank, below the value now held.
    turn = _ranked("turn", 0.8, MemoryKind.TURN, "msg-1", standing=1.0)
    now_held = _ranked("now", 0.7, MemoryKind.FACT, "msg-2", standing=1.0)
    ended = _ranked("ended", 0.7, MemoryKind.FACT, "msg-1", ended=True)
    placed = facts_before_their_turns([turn, now_held, ended])
    assert [r.memory.id for r in placed] == ["turn", "now", "ended"]
    assert placed[2].breakdown.adjusted_by is None
    # In a context it still hides the turn, which would state the replaced value unmarked.
    assert not stands_in(ended, turn) and hides(ended, turn)


def test_a_fact_that_says_less_than_the_query_found_in_its_turn_keeps_its_own_rank() -> None:
    # "I lived in Leeds with our dog Rufus, a terrier" asked about the old dog: the turn is about what the
    # question names (the dog), its fact "lived in Leeds" is not, so the turn stays, and answers.
    turn = _ranked("turn", 0.9, MemoryKind.TURN, "msg-1", graph=1.0, ended=True)
    other = _ranked("other", 0.5, MemoryKind.FACT, "msg-2")
    fact = _ranked("fact", 0.3, MemoryKind.FACT, "msg-1", ended=True)
    placed = facts_before_their_turns([turn, other, fact])
    assert [r.memory.id for r in placed] == ["turn", "other", "fact"]
    assert not stands_in(fact, turn) and not hides(fact, turn)


def test_a_fact_worded_unlike_its_turn_still_stands_in_for_it() -> None:
    # A fact rewords its turn: matching the query's words less well is no reason to keep the turn.
    turn = _ranked("turn", 0.9, MemoryKind.TURN, "msg-1")
    fact = _ranked("fact", 0.4, MemoryKind.FACT, "msg-1")
    assert stands_in(fact, turn) and hides(fact, turn)


def test_a_fact_that_does_not_match_the_query_does_not_stand_in_for_its_turn() -> None:
    # "I'm Kai, I sold my bakery in May" asked what the user sold: the fact "The user's name is Kai", found only
    # as a profile fact, does not say it; the turn does.
    turn = _ranked("turn", 0.9, MemoryKind.TURN, "msg-1")
    name = _ranked("name", 0.0, MemoryKind.FACT, "msg-1")
    assert stands_in(name, turn) and not takes_place_of(name, turn) and not hides(name, turn)
    assert placed([turn, name]) == ["name", "turn"]
    assert facts_before_their_turns([turn, name]) == [turn, name]
    assert relevant_ids([turn, name], RelevanceConfig(), EnglishLanguage()) == {"turn"}


def placed(ranked: list[RankedMemory]) -> list[str]:
    return [
        item.memory_id for item in ContextBuilder(RegexTokenCounter(), language=EnglishLanguage()).build(ranked).items
    ]


def test_a_context_keeps_a_turn_its_fact_does_not_stand_in_for() -> None:
    turn = _ranked("turn", 0.9, MemoryKind.TURN, "msg-1", graph=1.0, ended=True)
    fact = _ranked("fact", 0.3, MemoryKind.FACT, "msg-1", ended=True)
    assert placed([turn, fact]) == ["fact", "turn"]
    # Its fact is not relevant for being drawn from a relevant turn: it does not say what the turn was found for.
    assert relevant_ids([turn, fact], RelevanceConfig(), EnglishLanguage()) == {"turn"}


def test_a_context_leaves_out_a_current_turn_whose_placed_fact_has_ended() -> None:
    # "I'm a nurse in Leeds": the job ended, Leeds holds. Asked about now, the turn would say "nurse" unmarked.
    turn = _ranked("turn", 0.9, MemoryKind.TURN, "msg-1", standing=1.0)
    fact = _ranked("fact", 0.8, MemoryKind.FACT, "msg-1", ended=True)
    assert placed([turn, fact]) == ["fact"]


def test_an_ended_attribute_answers_with_all_its_ended_values() -> None:
    role = _ranked("role", 0.9, MemoryKind.FACT, "msg-1", standing=1.0, ended=True, slot="job")
    firm = _ranked("firm", 0.6, MemoryKind.FACT, "msg-1", standing=1.0, ended=True, slot="employer")
    home = _ranked("home", 0.6, MemoryKind.FACT, "msg-2", standing=1.0, ended=True, slot="location")
    # The employer matches too weakly to answer on its own, but a previous job is its role and its employer.
    assert relevant_ids([role, home], RelevanceConfig(), EnglishLanguage()) == {"role"}
    assert relevant_ids([role, firm, home], RelevanceConfig(), EnglishLanguage()) == {"role", "firm"}
