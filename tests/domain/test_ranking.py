"""HybridRanker and AdaptiveRanker on hand-computed cases."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

import pytest

from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import Memory, MemoryType
from jyntrix_domain.query import Intent
from jyntrix_domain.ranking import (
    INTENT_MULTIPLIERS,
    SIGNALS,
    AdaptiveRanker,
    Candidate,
    HybridRanker,
    RankingWeights,
    frequency_signal,
    recency_signal,
)

NOW = datetime(2025, 6, 18, 12, 0, tzinfo=UTC)


def memory(
    id: str = "m1",
    *,
    age_days: float = 0.0,
    reliability: float = 0.8,
    access_count: int = 0,
    type: MemoryType = MemoryType.SEMANTIC,
    created_days_ago: float | None = None,
    last_accessed_days_ago: float | None = None,
) -> Memory:
    updated = NOW - timedelta(days=age_days)
    created = NOW - timedelta(days=created_days_ago) if created_days_ago is not None else updated
    return Memory(
        id=id,
        user_id="u1",
        type=type,
        content=f"memory {id}",
        created_at=created,
        updated_at=updated,
        valid_from=created,
        reliability=reliability,
        access_count=access_count,
        last_accessed_at=None if last_accessed_days_ago is None else NOW - timedelta(days=last_accessed_days_ago),
    )


# ---------------------------------------------------------------- signals


@pytest.mark.parametrize(
    ("age_days", "expected"),
    [(0, 1.0), (30, 0.5), (60, 0.25), (90, 0.125), (15, math.sqrt(0.5)), (-5, 1.0)],
)
def test_recency_halves_every_thirty_days(age_days: float, expected: float) -> None:
    assert recency_signal(NOW - timedelta(days=age_days), NOW, 30.0) == pytest.approx(expected, abs=1e-12)


def test_recency_follows_the_configured_half_life() -> None:
    assert recency_signal(NOW - timedelta(days=7), NOW, 7.0) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (0, 0.0),
        (-3, 0.0),
        (1, math.log(2) / math.log(101)),
        (9, math.log(10) / math.log(101)),
        (100, 1.0),
        (10_000, 1.0),  # capped
    ],
)
def test_frequency_is_log_scaled_and_capped_at_100_accesses(count: int, expected: float) -> None:
    assert frequency_signal(count) == pytest.approx(expected, abs=1e-12)


def test_frequency_grows_with_diminishing_returns() -> None:
    # Each extra access adds less than the one before: the 1st read counts more than the 50th.
    values = [frequency_signal(n) for n in range(101)]
    steps = [b - a for a, b in itertools.pairwise(values)]
    assert all(s > 0 for s in steps)
    assert all(a > b for a, b in itertools.pairwise(steps))


# ---------------------------------------------------------------- the formula


def test_total_is_the_weighted_sum_of_signals_fresh_memory() -> None:
    # keyword 1.0, vector 0.5, reliability 0.8, recency 1 (updated now), frequency 0
    # 0.35*1 + 0.25*0.5 + 0.20*0.8 + 0.15*1 + 0.05*0 = 0.785
    [r] = HybridRanker().rank([Candidate(memory=memory(), keyword=1.0, vector=0.5)], NOW)
    assert r.score == pytest.approx(0.785, abs=1e-12)
    b = r.breakdown
    assert (b.keyword, b.vector, b.reliability, b.recency, b.frequency) == pytest.approx((1.0, 0.5, 0.8, 1.0, 0.0))
    assert b.total == r.score
    assert b.weights == RankingWeights()


def test_total_is_the_weighted_sum_of_signals_old_popular_memory() -> None:
    # keyword 0, vector 0.8, reliability 0.5, recency 0.5 (30 days), frequency 1 (100 accesses)
    # 0 + 0.25*0.8 + 0.20*0.5 + 0.15*0.5 + 0.05*1 = 0.425
    m = memory(age_days=30, reliability=0.5, access_count=100)
    [r] = HybridRanker().rank([Candidate(memory=m, vector=0.8)], NOW)
    assert r.score == pytest.approx(0.425, abs=1e-12)
    assert sum(r.breakdown.contributions().values()) == pytest.approx(r.score, abs=1e-12)


def test_total_with_partial_signals() -> None:
    # keyword 0.4, vector 0.6, reliability 1.0, recency 0.25 (60 days), frequency log(10)/log(101)
    m = memory(age_days=60, reliability=1.0, access_count=9)
    [r] = HybridRanker().rank([Candidate(memory=m, keyword=0.4, vector=0.6)], NOW)
    expected = 0.35 * 0.4 + 0.25 * 0.6 + 0.20 * 1.0 + 0.15 * 0.25 + 0.05 * (math.log(10) / math.log(101))
    assert r.score == pytest.approx(expected, abs=1e-12)
    assert r.score == pytest.approx(0.5524460, abs=1e-6)


def test_weights_come_from_settings() -> None:
    weights = RankingWeights(keyword=1.0, vector=0.0, reliability=0.0, recency=0.0, frequency=0.0)
    [r] = HybridRanker(weights).rank([Candidate(memory=memory(), keyword=0.3, vector=0.9)], NOW)
    assert r.score == pytest.approx(0.3)
    assert r.breakdown.weights is weights


def test_recency_is_measured_from_updated_at() -> None:
    # Created 90 days ago and last read 60 days ago, but its content changed 30 days ago.
    m = memory(age_days=30, created_days_ago=90, last_accessed_days_ago=60)
    [r] = HybridRanker().rank([Candidate(memory=m)], NOW)
    assert r.breakdown.recency == pytest.approx(0.5)


def test_signals_outside_zero_to_one_are_clamped() -> None:
    [r] = HybridRanker().rank([Candidate(memory=memory(reliability=1.0), keyword=3.0, vector=-0.5)], NOW)
    assert r.breakdown.keyword == 1.0
    assert r.breakdown.vector == 0.0
    assert r.score == pytest.approx(0.35 + 0.20 + 0.15)


# ---------------------------------------------------------------- dedupe, order, limit


def test_duplicates_merge_into_one_result_with_the_best_of_each_signal() -> None:
    m = memory("same")
    candidates = [
        Candidate(memory=m, keyword=0.2, vector=0.9, match_types=frozenset({"vector"})),
        Candidate(memory=m, keyword=0.7, vector=0.1, match_types=frozenset({"keyword"})),
        Candidate(memory=m, match_types=frozenset({"graph", "keyword"})),
    ]
    [r] = HybridRanker().rank(candidates, NOW)
    assert r.memory.id == "same"
    assert (r.breakdown.keyword, r.breakdown.vector) == (0.7, 0.9)
    assert r.match_types == frozenset({"vector", "keyword", "graph"})
    assert r.score == pytest.approx(0.35 * 0.7 + 0.25 * 0.9 + 0.20 * 0.8 + 0.15)


def test_merge_keeps_the_most_recently_updated_copy() -> None:
    old, new = memory("x", age_days=10), memory("x", age_days=1)
    [r] = HybridRanker().rank([Candidate(memory=old), Candidate(memory=new)], NOW)
    assert r.memory.updated_at == new.updated_at


def test_results_are_sorted_by_score_then_id() -> None:
    candidates = [
        Candidate(memory=memory("c"), keyword=0.5),
        Candidate(memory=memory("a"), keyword=0.5),
        Candidate(memory=memory("b"), keyword=0.9),
        Candidate(memory=memory("d"), keyword=0.1),
    ]
    ranked = HybridRanker().rank(candidates, NOW)
    assert [r.memory.id for r in ranked] == ["b", "a", "c", "d"]
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)


def test_limit_keeps_the_best() -> None:
    candidates = [Candidate(memory=memory(f"m{i}"), keyword=i / 10) for i in range(10)]
    ranked = HybridRanker().rank(candidates, NOW, limit=3)
    assert [r.memory.id for r in ranked] == ["m9", "m8", "m7"]
    assert HybridRanker().rank(candidates, NOW, limit=0) == []


def test_no_candidates_no_results() -> None:
    assert HybridRanker().rank([], NOW) == []


def test_hybrid_ranker_ignores_intent() -> None:
    c = [Candidate(memory=memory(), keyword=0.4, vector=0.6)]
    base = HybridRanker().rank(c, NOW)
    assert HybridRanker().rank(c, NOW, intent=Intent.RECALL) == base


# ---------------------------------------------------------------- weights validation


@pytest.mark.parametrize(
    "kwargs",
    [
        {"keyword": -0.1},
        {"keyword": 0, "vector": 0, "reliability": 0, "recency": 0, "frequency": 0},
        {"half_life_days": 0},
        {"half_life_days": -1},
        {"vector": float("nan")},
        {"recency": float("inf")},
    ],
)
def test_invalid_weights_are_rejected(kwargs: dict[str, float]) -> None:
    with pytest.raises(Invalid):
        RankingWeights(**kwargs)


def test_normalised_weights_keep_proportions() -> None:
    w = RankingWeights(keyword=2, vector=2, reliability=0, recency=0, frequency=0).normalised()
    assert (w.keyword, w.vector) == (0.5, 0.5)


# ---------------------------------------------------------------- adaptive


@pytest.mark.parametrize("intent", list(Intent))
def test_adaptive_weights_sum_to_one(intent: Intent) -> None:
    weights = AdaptiveRanker().weights_for(intent)
    assert weights.total == pytest.approx(1.0, abs=1e-12)
    assert weights.half_life_days == 30.0
    assert all(getattr(weights, s) >= 0 for s in SIGNALS)


def test_adaptive_weights_sum_to_one_for_custom_base_weights() -> None:
    ranker = AdaptiveRanker(RankingWeights(keyword=3, vector=1, reliability=1, recency=1, frequency=1))
    for intent in Intent:
        assert ranker.weights_for(intent).total == pytest.approx(1.0, abs=1e-12)


def test_adaptive_shifts_follow_the_table() -> None:
    base = RankingWeights()
    ranker = AdaptiveRanker(base)
    recall = ranker.weights_for(Intent.RECALL)
    question = ranker.weights_for(Intent.QUESTION)
    command = ranker.weights_for(Intent.COMMAND)
    assert recall.recency > base.recency and recall.vector > base.vector
    assert question.keyword > base.keyword and question.recency < base.recency
    assert command.reliability > base.reliability and command.frequency > base.frequency
    # Exact for recall: (0.35, 0.35, 0.16, 0.24, 0.05) / 1.15
    expected = [v / 1.15 for v in (0.35, 0.35, 0.16, 0.24, 0.05)]
    assert [getattr(recall, s) for s in SIGNALS] == pytest.approx(expected, abs=1e-12)


def test_adaptive_without_intent_uses_the_base_weights() -> None:
    base = RankingWeights(keyword=1, vector=1, reliability=1, recency=1, frequency=1)
    assert AdaptiveRanker(base).weights_for(None) is base


def test_adaptive_recall_prefers_the_recent_memory_question_the_keyword_match() -> None:
    recent = Candidate(memory=memory("recent", age_days=0), keyword=0.3, vector=0.6)
    old_exact = Candidate(memory=memory("old", age_days=120), keyword=0.7, vector=0.6)
    ranker = AdaptiveRanker()
    assert [r.memory.id for r in ranker.rank([recent, old_exact], NOW, intent=Intent.RECALL)] == ["recent", "old"]
    assert [r.memory.id for r in ranker.rank([recent, old_exact], NOW, intent=Intent.QUESTION)] == ["old", "recent"]


def test_adaptive_breakdown_carries_the_weights_used() -> None:
    ranker = AdaptiveRanker()
    [r] = ranker.rank([Candidate(memory=memory(), keyword=0.5, vector=0.5)], NOW, intent=Intent.COMMAND)
    assert r.breakdown.weights == ranker.weights_for(Intent.COMMAND)
    assert sum(r.breakdown.contributions().values()) == pytest.approx(r.score, abs=1e-12)


def test_every_intent_has_a_row_in_the_table() -> None:
    assert set(INTENT_MULTIPLIERS) == set(Intent)


def test_unknown_signal_in_multipliers_is_rejected() -> None:
    with pytest.raises(Invalid):
        AdaptiveRanker(multipliers={Intent.RECALL: {"popularity": 2.0}})
