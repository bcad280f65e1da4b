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
    SEED_WEIGHTS,
    AdaptiveRanker,
    HybridRanker,
    Match,
    RankFormula,
    RankingWeights,
    frequency_signal,
    ranker_for,
    recency_signal,
)
from jyntrix_domain.signals import OWN_SIGNALS, PLACE_SIGNALS, SIGNAL_NAMES

# The seed's five signals, in the order the hand-computed cases list them.
SEED_SIGNALS = ("keyword", "vector", "reliability", "recency", "frequency")

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


def found(
    m: Memory, *, keyword: float | None = None, vector: float | None = None, also: tuple[str, ...] = ()
) -> list[Match]:
    """What the keyword and vector strategies (and any nominating ones in `also`) report for `m`."""
    out = [Match(memory_id=m.id, strategy=name, memory=m) for name in also]
    if keyword is not None:
        out.append(Match(memory_id=m.id, strategy="keyword", signal="keyword", strength=keyword, memory=m))
    if vector is not None:
        out.append(Match(memory_id=m.id, strategy="vector", signal="vector", strength=vector, memory=m))
    return out or [Match(memory_id=m.id, strategy="recent", memory=m)]


SEED = HybridRanker(SEED_WEIGHTS)


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
    [r] = SEED.rank([*found(memory(), keyword=1.0, vector=0.5)], NOW)
    assert r.score == pytest.approx(0.785, abs=1e-12)
    b = r.breakdown
    signals = b.signals.as_dict()
    assert [signals[s] for s in SEED_SIGNALS] == pytest.approx((1.0, 0.5, 0.8, 1.0, 0.0))
    assert b.total == r.score
    assert b.weights.as_dict() == SEED_WEIGHTS.as_dict()


def test_total_is_the_weighted_sum_of_signals_old_popular_memory() -> None:
    # keyword 0, vector 0.8, reliability 0.5, recency 0.5 (30 days), frequency 1 (100 accesses)
    # 0 + 0.25*0.8 + 0.20*0.5 + 0.15*0.5 + 0.05*1 = 0.425
    m = memory(age_days=30, reliability=0.5, access_count=100)
    [r] = SEED.rank([*found(m, vector=0.8)], NOW)
    assert r.score == pytest.approx(0.425, abs=1e-12)
    assert sum(r.breakdown.contributions.as_dict().values()) == pytest.approx(r.score, abs=1e-12)


def test_total_with_partial_signals() -> None:
    # keyword 0.4, vector 0.6, reliability 1.0, recency 0.25 (60 days), frequency log(10)/log(101)
    m = memory(age_days=60, reliability=1.0, access_count=9)
    [r] = SEED.rank([*found(m, keyword=0.4, vector=0.6)], NOW)
    expected = 0.35 * 0.4 + 0.25 * 0.6 + 0.20 * 1.0 + 0.15 * 0.25 + 0.05 * (math.log(10) / math.log(101))
    assert r.score == pytest.approx(expected, abs=1e-12)
    assert r.score == pytest.approx(0.5524460, abs=1e-6)


def test_weights_come_from_settings() -> None:
    weights = RankingWeights(**(dict.fromkeys(SIGNAL_NAMES, 0.0) | {"keyword": 1.0}))
    [r] = HybridRanker(weights).rank([*found(memory(), keyword=0.3, vector=0.9)], NOW)
    assert r.score == pytest.approx(0.3)
    assert r.breakdown.weights.as_dict() == weights.as_dict()


def test_recency_is_measured_from_updated_at() -> None:
    # Created 90 days ago and last read 60 days ago, but its content changed 30 days ago.
    m = memory(age_days=30, created_days_ago=90, last_accessed_days_ago=60)
    [r] = SEED.rank([*found(m)], NOW)
    assert r.breakdown.signals.recency == pytest.approx(0.5)


def test_signals_outside_zero_to_one_are_clamped() -> None:
    [r] = SEED.rank([*found(memory(reliability=1.0), keyword=3.0, vector=-0.5)], NOW)
    assert r.breakdown.signals.keyword == 1.0
    assert r.breakdown.signals.vector == 0.0
    assert r.score == pytest.approx(0.35 + 0.20 + 0.15)


# ---------------------------------------------------------------- dedupe, order, limit


def test_duplicates_merge_into_one_result_with_the_best_of_each_signal() -> None:
    m = memory("same")
    candidates = [
        *found(m, keyword=0.2, vector=0.9),
        *found(m, keyword=0.7, vector=0.1),
        Match(memory_id=m.id, strategy="graph", memory=m),
    ]
    [r] = SEED.rank(candidates, NOW)
    assert r.memory.id == "same"
    assert (r.breakdown.signals.keyword, r.breakdown.signals.vector) == (0.7, 0.9)
    assert r.match_types == frozenset({"vector", "keyword", "graph"})
    assert r.score == pytest.approx(0.35 * 0.7 + 0.25 * 0.9 + 0.20 * 0.8 + 0.15)


def test_merge_keeps_the_most_recently_updated_copy() -> None:
    old, new = memory("x", age_days=10), memory("x", age_days=1)
    [r] = SEED.rank([*found(old), *found(new)], NOW)
    assert r.memory.updated_at == new.updated_at


def test_results_are_sorted_by_score_then_id() -> None:
    candidates = [
        *found(memory("c"), keyword=0.5),
        *found(memory("a"), keyword=0.5),
        *found(memory("b"), keyword=0.9),
        *found(memory("d"), keyword=0.1),
    ]
    ranked = SEED.rank(candidates, NOW)
    assert [r.memory.id for r in ranked] == ["b", "a", "c", "d"]
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)


def test_limit_keeps_the_best() -> None:
    candidates = [match for i in range(10) for match in found(memory(f"m{i}"), keyword=i / 10)]
    ranked = SEED.rank(candidates, NOW, limit=3)
    assert [r.memory.id for r in ranked] == ["m9", "m8", "m7"]
    assert SEED.rank(candidates, NOW, limit=0) == []


def test_no_candidates_no_results() -> None:
    assert SEED.rank([], NOW) == []


@pytest.mark.parametrize("adaptive", [False, True])
def test_the_seed_formula_is_reproduced_whatever_the_configured_weights(adaptive: bool) -> None:
    configured = RankingWeights(keyword=9.0, vector=0.0, graph=3.0, time=2.0)
    ranker = ranker_for(RankFormula.SEED, configured, adaptive=adaptive)
    # The fresh-memory case above: 0.35*1 + 0.25*0.5 + 0.20*0.8 + 0.15*1 + 0.05*0 = 0.785 (no intent: base weights)
    [r] = ranker.rank(found(memory(), keyword=1.0, vector=0.5), NOW)
    assert r.score == pytest.approx(0.785, abs=1e-12)
    # The partial case above, and the seed's recall shift: (0.35, 0.35, 0.16, 0.24, 0.05) / 1.15
    m = memory(age_days=60, reliability=1.0, access_count=9)
    [r] = ranker.rank(found(m, keyword=0.4, vector=0.6), NOW, intent=Intent.RECALL)
    freq = math.log(10) / math.log(101)
    if adaptive:
        expected = (0.35 * 0.4 + 0.35 * 0.6 + 0.16 * 1.0 + 0.24 * 0.25 + 0.05 * freq) / 1.15
    else:
        expected = 0.35 * 0.4 + 0.25 * 0.6 + 0.20 * 1.0 + 0.15 * 0.25 + 0.05 * freq
    assert r.score == pytest.approx(expected, abs=1e-12)


def test_the_default_formula_uses_the_configured_weights() -> None:
    configured = RankingWeights(**(dict.fromkeys(SIGNAL_NAMES, 0.0) | {"vector": 1.0}))
    [r] = ranker_for(RankFormula.DEFAULT, configured, adaptive=False).rank(found(memory(), vector=0.7), NOW)
    assert r.score == pytest.approx(0.7)


def test_hybrid_ranker_ignores_intent() -> None:
    c = [*found(memory(), keyword=0.4, vector=0.6)]
    base = SEED.rank(c, NOW)
    assert SEED.rank(c, NOW, intent=Intent.RECALL) == base


# ---------------------------------------------------------------- weights validation


@pytest.mark.parametrize(
    "kwargs",
    [
        {"keyword": -0.1},
        dict.fromkeys(SIGNAL_NAMES, 0),
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
    w = RankingWeights(**(dict.fromkeys(SIGNAL_NAMES, 0.0) | {"keyword": 2, "vector": 2})).normalised()
    assert (w.keyword, w.vector) == (0.5, 0.5)


# ---------------------------------------------------------------- adaptive


@pytest.mark.parametrize("intent", list(Intent))
def test_adaptive_weights_sum_to_one(intent: Intent) -> None:
    weights = AdaptiveRanker(SEED_WEIGHTS).weights_for(intent)
    assert weights.total() == pytest.approx(1.0, abs=1e-12)
    assert weights.half_life_days == 30.0
    assert all(getattr(weights, s) >= 0 for s in SIGNAL_NAMES)


def test_adaptive_weights_of_the_own_signals_sum_to_one_for_custom_base_weights() -> None:
    # neighbour 0.25, session 0.35, speaker 0.5 by default: they add on top, scaled like the others.
    base = RankingWeights(keyword=3, vector=1, reliability=1, recency=1, frequency=1)
    ranker = AdaptiveRanker(base)
    for intent in Intent:
        weights = ranker.weights_for(intent)
        assert weights.total(OWN_SIGNALS) == pytest.approx(1.0, abs=1e-12)
        scale = weights.keyword / (base.keyword * INTENT_MULTIPLIERS[intent]["keyword"])
        for name in PLACE_SIGNALS:
            assert getattr(weights, name) == pytest.approx(getattr(base, name) * scale, abs=1e-12)


def test_adaptive_shifts_follow_the_table() -> None:
    base = SEED_WEIGHTS
    ranker = AdaptiveRanker(base)
    recall = ranker.weights_for(Intent.RECALL)
    question = ranker.weights_for(Intent.QUESTION)
    command = ranker.weights_for(Intent.COMMAND)
    assert recall.recency > base.recency and recall.vector > base.vector
    assert question.keyword > base.keyword and question.recency < base.recency
    assert command.reliability > base.reliability and command.frequency > base.frequency
    # Exact for recall: (0.35, 0.35, 0.16, 0.24, 0.05) / 1.15
    expected = [v / 1.15 for v in (0.35, 0.35, 0.16, 0.24, 0.05)]
    assert [getattr(recall, s) for s in SEED_SIGNALS] == pytest.approx(expected, abs=1e-12)
    assert recall.graph == recall.time == 0.0


def test_adaptive_without_intent_uses_the_base_weights() -> None:
    base = RankingWeights(keyword=1, vector=1, reliability=1, recency=1, frequency=1)
    assert AdaptiveRanker(base).weights_for(None) is base


def test_adaptive_recall_prefers_the_recent_memory_question_the_keyword_match() -> None:
    recent = found(memory("recent", age_days=0), keyword=0.3, vector=0.6)
    old_exact = found(memory("old", age_days=120), keyword=0.7, vector=0.6)
    ranker = AdaptiveRanker(SEED_WEIGHTS)
    assert [r.memory.id for r in ranker.rank([*recent, *old_exact], NOW, intent=Intent.RECALL)] == ["recent", "old"]
    assert [r.memory.id for r in ranker.rank([*recent, *old_exact], NOW, intent=Intent.QUESTION)] == ["old", "recent"]


def test_adaptive_breakdown_carries_the_weights_used() -> None:
    ranker = AdaptiveRanker()
    [r] = ranker.rank([*found(memory(), keyword=0.5, vector=0.5)], NOW, intent=Intent.COMMAND)
    assert r.breakdown.weights.as_dict() == ranker.weights_for(Intent.COMMAND).as_dict()
    assert sum(r.breakdown.contributions.as_dict().values()) == pytest.approx(r.score, abs=1e-12)


def test_every_intent_has_a_row_in_the_table() -> None:
    assert set(INTENT_MULTIPLIERS) == set(Intent)


def test_unknown_signal_in_multipliers_is_rejected() -> None:
    with pytest.raises(Invalid):
        AdaptiveRanker(multipliers={Intent.RECALL: {"popularity": 2.0}})
