"""Hybrid ranking: one explainable score per memory from five signals in 0..1.

    score = w_keyword * keyword + w_vector * vector + w_reliability * reliability
          + w_recency * recency + w_frequency * frequency

- keyword, vector: match strengths already normalised to 0..1 by the retrieval service.
- reliability: the memory's own 0..1 confidence.
- recency: ``0.5 ** (age_days / half_life_days)`` where age is measured from the memory's
  ``updated_at`` (the last time its content changed, which is when it was last known true;
  reading a memory does not make it more current). A memory updated now or "in the future"
  (clock skew) scores 1.
- frequency: ``log1p(access_count) / log1p(100)``, capped at 1: 100 reads and more count as
  fully familiar, and the log keeps one popular memory from drowning fresh ones.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime

import msgspec

from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import Memory, MemoryId
from jyntrix_domain.query import Intent

SIGNALS = ("keyword", "vector", "reliability", "recency", "frequency")
FREQUENCY_CAP = 100  # accesses at which the frequency signal reaches 1


class RankingWeights(msgspec.Struct, frozen=True, kw_only=True):
    """Weight of each signal (the seed's defaults) and the recency half-life."""

    keyword: float = 0.35
    vector: float = 0.25
    reliability: float = 0.20
    recency: float = 0.15
    frequency: float = 0.05
    half_life_days: float = 30.0

    def __post_init__(self) -> None:
        values = self.as_dict()
        if any(not math.isfinite(v) or v < 0 for v in values.values()):
            raise Invalid(f"ranking weights must be finite and non-negative: {values}")
        if sum(values.values()) <= 0:
            raise Invalid("at least one ranking weight must be positive")
        if not math.isfinite(self.half_life_days) or self.half_life_days <= 0:
            raise Invalid(f"half_life_days must be positive, got {self.half_life_days}")

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in SIGNALS}

    @property
    def total(self) -> float:
        return sum(self.as_dict().values())

    def normalised(self) -> RankingWeights:
        """The same proportions, summing to 1."""
        total = self.total
        return msgspec.structs.replace(self, **{name: value / total for name, value in self.as_dict().items()})


class ScoreBreakdown(msgspec.Struct, frozen=True, kw_only=True):
    """Each signal in 0..1, the weights applied, and their weighted sum."""

    keyword: float
    vector: float
    reliability: float
    recency: float
    frequency: float
    weights: RankingWeights
    total: float

    def contributions(self) -> dict[str, float]:
        """weight * signal for each signal; they add up to `total`."""
        w = self.weights
        return {name: getattr(w, name) * getattr(self, name) for name in SIGNALS}


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """A memory found by one or more strategies, with its 0..1 match strengths."""

    memory: Memory
    keyword: float = 0.0
    vector: float = 0.0
    match_types: frozenset[str] = frozenset()


class RankedMemory(msgspec.Struct, frozen=True, kw_only=True):
    memory: Memory
    score: float
    breakdown: ScoreBreakdown
    match_types: frozenset[str]


def _unit(value: float) -> float:
    if math.isnan(value):
        return 0.0
    return min(1.0, max(0.0, float(value)))


def recency_signal(at: datetime, now: datetime, half_life_days: float) -> float:
    """Exponential decay: 1 at `now` (and for future times), 0.5 after one half-life, 0.25 after two."""
    age_days = (now - at).total_seconds() / 86400.0
    if age_days <= 0:
        return 1.0
    return float(0.5 ** (age_days / half_life_days))


def frequency_signal(access_count: int) -> float:
    """``log1p(n) / log1p(100)``, capped at 1 (see FREQUENCY_CAP); 0 for no accesses."""
    if access_count <= 0:
        return 0.0
    return min(1.0, math.log1p(access_count) / math.log1p(FREQUENCY_CAP))


def merge_candidates(candidates: Sequence[Candidate]) -> list[Candidate]:
    """One candidate per memory id: the max of each match signal and the union of match types.

    When copies of a memory differ, the most recently updated copy is kept.
    """
    merged: dict[MemoryId, Candidate] = {}
    for c in candidates:
        seen = merged.get(c.memory.id)
        if seen is None:
            merged[c.memory.id] = Candidate(
                memory=c.memory, keyword=_unit(c.keyword), vector=_unit(c.vector), match_types=c.match_types
            )
            continue
        merged[c.memory.id] = Candidate(
            memory=c.memory if c.memory.updated_at > seen.memory.updated_at else seen.memory,
            keyword=max(seen.keyword, _unit(c.keyword)),
            vector=max(seen.vector, _unit(c.vector)),
            match_types=seen.match_types | c.match_types,
        )
    return list(merged.values())


class HybridRanker:
    """Scores candidates with fixed weights; every result carries its per-signal breakdown."""

    def __init__(self, weights: RankingWeights = RankingWeights()) -> None:
        self._weights = weights

    @property
    def weights(self) -> RankingWeights:
        return self._weights

    def weights_for(self, intent: Intent | None) -> RankingWeights:
        """The weights used for a query of this intent (the same for every intent here)."""
        return self._weights

    def score(self, candidate: Candidate, now: datetime, weights: RankingWeights) -> ScoreBreakdown:
        m = candidate.memory
        signals = {
            "keyword": _unit(candidate.keyword),
            "vector": _unit(candidate.vector),
            "reliability": _unit(m.reliability),
            "recency": recency_signal(m.updated_at, now, weights.half_life_days),
            "frequency": frequency_signal(m.access_count),
        }
        total = math.fsum(getattr(weights, name) * value for name, value in signals.items())
        return ScoreBreakdown(**signals, weights=weights, total=total)

    def rank(
        self,
        candidates: Sequence[Candidate],
        now: datetime,
        intent: Intent | None = None,
        limit: int | None = None,
    ) -> list[RankedMemory]:
        """Deduplicated by memory id, best first; equal scores ordered by memory id."""
        weights = self.weights_for(intent)
        ranked = []
        for c in merge_candidates(candidates):
            breakdown = self.score(c, now, weights)
            ranked.append(
                RankedMemory(memory=c.memory, score=breakdown.total, breakdown=breakdown, match_types=c.match_types)
            )
        ranked.sort(key=lambda r: (-r.score, r.memory.id))
        return ranked if limit is None else ranked[: max(0, limit)]


# How AdaptiveRanker shifts the base weights per intent (multipliers, then renormalised to sum 1):
#
# intent        keyword  vector  reliability  recency  frequency   why
# recall          1.0     1.4       0.8         1.6       1.0      "do you remember..." is about past sessions:
#                                                                  fuzzy wording, recent events
# question        1.4     1.0       1.0         0.6       1.0      facts asked by name; old facts are still true
# command         0.8     0.8       1.4         1.0       1.6      rules and preferences are durable, trusted and
#                                                                  used often (procedural memories)
# conversation    0.8     1.4       1.0         1.2       1.0      small talk matches loosely; recent context helps
INTENT_MULTIPLIERS: Mapping[Intent, Mapping[str, float]] = {
    Intent.RECALL: {"keyword": 1.0, "vector": 1.4, "reliability": 0.8, "recency": 1.6, "frequency": 1.0},
    Intent.QUESTION: {"keyword": 1.4, "vector": 1.0, "reliability": 1.0, "recency": 0.6, "frequency": 1.0},
    Intent.COMMAND: {"keyword": 0.8, "vector": 0.8, "reliability": 1.4, "recency": 1.0, "frequency": 1.6},
    Intent.CONVERSATION: {"keyword": 0.8, "vector": 1.4, "reliability": 1.0, "recency": 1.2, "frequency": 1.0},
}


class AdaptiveRanker(HybridRanker):
    """A HybridRanker whose weights shift with the query's intent (table INTENT_MULTIPLIERS).

    With no intent it uses the base weights unchanged; with one, the shifted weights sum to 1.
    """

    def __init__(
        self,
        weights: RankingWeights = RankingWeights(),
        multipliers: Mapping[Intent, Mapping[str, float]] = INTENT_MULTIPLIERS,
    ) -> None:
        super().__init__(weights)
        self._by_intent: dict[Intent, RankingWeights] = {}
        for intent, factors in multipliers.items():
            unknown = set(factors) - set(SIGNALS)
            if unknown:
                raise Invalid(f"unknown ranking signals for {intent.value}: {sorted(unknown)}")
            base = weights.as_dict()
            shifted = {name: base[name] * factors.get(name, 1.0) for name in SIGNALS}
            self._by_intent[intent] = msgspec.structs.replace(weights, **shifted).normalised()

    def weights_for(self, intent: Intent | None) -> RankingWeights:
        if intent is None:
            return self.weights
        return self._by_intent.get(intent, self.weights.normalised())
