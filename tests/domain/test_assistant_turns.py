"""The rule "the assistant's words weigh less": an assistant's turn keeps a share of its score, and shows it."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from jyntrix_domain.assistant_turns import ASSISTANT_WEIGHS_LESS, assistant_turns_weighed
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import Memory, MemoryKind, MemoryType, Place, Role
from jyntrix_domain.ranking import RankedMemory
from jyntrix_domain.retrieval_config import RetrievalConfig
from jyntrix_domain.signals import ScoreBreakdown, Signals

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _turn(id: str, score: float, role: Role) -> RankedMemory:
    m = Memory(
        id=id,
        user_id="u1",
        type=MemoryType.EPISODIC,
        content=f"turn {id}",
        created_at=NOW,
        updated_at=NOW,
        valid_from=NOW,
        kind=MemoryKind.TURN,
        source_message_ids=(f"msg-{id}",),
        place=Place(conversation_id="c1", message_id=f"msg-{id}", role=role),
    )
    breakdown = ScoreBreakdown.of(Signals(keyword=score), Signals(keyword=1.0))
    return RankedMemory(memory=m, breakdown=breakdown, match_types=frozenset({"keyword"}))


def test_an_assistant_turn_keeps_a_share_of_its_score_and_falls_below_what_the_user_said() -> None:
    answer = _turn("answer", 0.9, Role.ASSISTANT)
    said = _turn("said", 0.8, Role.USER)
    lowered = assistant_turns_weighed([answer, said], min_match=0.8, share=0.85, about_assistant=False)
    assert [r.memory.id for r in lowered] == ["said", "answer"]
    cut = lowered[1].breakdown
    # The explanation adds up to the score shown, and names the rule that cut it.
    assert math.isclose(cut.total, 0.9 * 0.85) and cut.adjusted_by == ASSISTANT_WEIGHS_LESS
    assert math.isclose(cut.contributions.total() + cut.adjustment, cut.total)
    assert lowered[0] is said and lowered[0].breakdown.adjustment == 0.0
    assert [r.score for r in lowered] == sorted((r.score for r in lowered), reverse=True)


def test_a_query_about_what_the_assistant_said_keeps_its_turns_whole() -> None:
    answer = _turn("answer", 0.9, Role.ASSISTANT)
    said = _turn("said", 0.8, Role.USER)
    assert assistant_turns_weighed([answer, said], min_match=0.8, share=0.85, about_assistant=True) == [answer, said]
    assert assistant_turns_weighed([answer, said], min_match=0.8, share=1.0, about_assistant=False) == [answer, said]


def test_an_assistant_turn_that_matches_weakly_does_not_answer_unless_asked_about() -> None:
    weak = _turn("weak", 0.7, Role.ASSISTANT)
    said = _turn("said", 0.5, Role.USER)
    assert assistant_turns_weighed([weak, said], min_match=0.8, share=0.85, about_assistant=False) == [said]
    assert assistant_turns_weighed([weak, said], min_match=0.8, share=0.85, about_assistant=True) == [weak, said]


@pytest.mark.parametrize("share", [0.0, -0.1, 1.5])
def test_the_share_is_a_fraction_of_the_score(share: float) -> None:
    with pytest.raises(Invalid):
        RetrievalConfig(assistant_share=share)
