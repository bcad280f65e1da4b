"""Hybrid ranking: one explainable score per memory, the weighted sum of its signals in 0..1.

    score = Σ w_s · s   over the signals s of `Signals` (keyword, vector, graph, reliability,
                        recency, frequency, time, standing, neighbour, session, speaker)

- keyword, vector, graph, time: match strengths, already calibrated to 0..1 by the retrieval
  service (see `jyntrix_domain.fusion`); the ranker only clamps them, once.
- standing: 1 when the memory is current at the time of the search and the query asks about now
  (`QueryAnalysis.asks_now`), or ended and the query asks about before (`QueryAnalysis.asks_history`);
  else 0, and 0 for every memory when the query asks neither (an event in the past).
- neighbour, session, speaker: a turn's place among the turns found for the query
  (`jyntrix_domain.turn_places`), 0 for memories that are not turns.
- reliability: the memory's own 0..1 confidence.
- recency: ``0.5 ** (age_days / half_life_days)`` where age is measured from the memory's
  ``updated_at`` (the last time its content changed, which is when it was last known true;
  reading a memory does not make it more current). A memory updated now or "in the future"
  (clock skew) scores 1.
- frequency: ``log1p(access_count) / log1p(100)``, capped at 1: 100 reads and more count as
  fully familiar, and the log keeps one popular memory from drowning fresh ones.

Rule "a fact before its turn" (`jyntrix_domain.stand_ins`): a fact drawn from a ranked turn usually
comes just above it, its score raised to the turn's (the breakdown shows the `adjustment` and names the
rule in `adjusted_by`), so results always come in the order of their scores.

The seed's formula is `SEED_WEIGHTS` (0.35 keyword + 0.25 vector + 0.20 reliability + 0.15 recency
+ 0.05 frequency, the graph's strength in the keyword slot); `RankFormula.SEED` selects it.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

import msgspec

from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import Memory, MemoryId
from jyntrix_domain.query import Intent
from jyntrix_domain.signals import OWN_SIGNALS, SIGNAL_NAMES, ScoreBreakdown, Signals, unit

FREQUENCY_CAP = 100  # accesses at which the frequency signal reaches 1


class RankFormula(enum.StrEnum):
    """Which weights and signal calibration ranking uses: the measured defaults or the seed's formula."""

    DEFAULT = "default"
    SEED = "seed"


class RankingWeights(Signals, frozen=True, kw_only=True):
    """Weight of each signal and the recency half-life (defaults measured on LoCoMo, see docs/benchmarks.md)."""

    keyword: float = 0.30
    vector: float = 0.28
    graph: float = 0.35
    reliability: float = 0.20
    recency: float = 0.15
    frequency: float = 0.05
    time: float = 0.30
    standing: float = 0.25
    neighbour: float = 0.25
    session: float = 0.35
    speaker: float = 0.50
    half_life_days: float = 30.0

    def __post_init__(self) -> None:
        values = self.as_dict()
        if any(not math.isfinite(v) or v < 0 for v in values.values()):
            raise Invalid(f"ranking weights must be finite and non-negative: {values}")
        if sum(values.values()) <= 0:
            raise Invalid("at least one ranking weight must be positive")
        if not math.isfinite(self.half_life_days) or self.half_life_days <= 0:
            raise Invalid(f"half_life_days must be positive, got {self.half_life_days}")

    def normalised(self) -> RankingWeights:
        """The same proportions, the memory's own signals' weights summing to 1 (see ADDED_SIGNALS: a turn's
        place signals add on top, so a memory that is not a turn scores as it would without them)."""
        total = self.total(OWN_SIGNALS) or self.total()
        return msgspec.structs.replace(self, **{name: value / total for name, value in self.as_dict().items()})


SEED_WEIGHTS = RankingWeights(
    keyword=0.35,
    vector=0.25,
    graph=0.0,
    reliability=0.20,
    recency=0.15,
    frequency=0.05,
    time=0.0,
    standing=0.0,
    neighbour=0.0,
    session=0.0,
    speaker=0.0,
)


class Match(msgspec.Struct, frozen=True, kw_only=True):
    """One memory found by one strategy: its strength on `signal`, and the row when the strategy read it.

    `strategy` names who found it (the result's match types); `signal` is the `Signals` field its
    strength feeds, or None for strategies that only nominate (profile, recent).
    """

    memory_id: MemoryId
    strategy: str
    signal: str | None = None
    strength: float = 0.0
    memory: Memory | None = None


class RankedMemory(msgspec.Struct, frozen=True, kw_only=True):
    """A memory with its score and the per-signal breakdown that explains it; `current` is whether it was
    true at the time of the search."""

    memory: Memory
    breakdown: ScoreBreakdown
    match_types: frozenset[str]
    current: bool = True

    @property
    def score(self) -> float:
        return self.breakdown.total

    @property
    def own_score(self) -> float:
        """The score without the place signals: what the memory's own signals say of it."""
        return self.breakdown.contributions.total(OWN_SIGNALS)


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


class _Found(msgspec.Struct):
    memory: Memory
    strengths: dict[str, float]
    strategies: set[str]


def group_matches(matches: Sequence[Match]) -> list[_Found]:
    """One entry per memory id: the max strength per signal and the union of strategies.

    Matches without a row are left out; when copies of a memory differ, the most recently
    updated copy is kept.
    """
    found: dict[MemoryId, _Found] = {}
    for match in matches:
        if match.memory is None:
            continue
        seen = found.get(match.memory_id)
        if seen is None:
            seen = found[match.memory_id] = _Found(memory=match.memory, strengths={}, strategies=set())
        elif match.memory.updated_at > seen.memory.updated_at:
            seen.memory = match.memory
        seen.strategies.add(match.strategy)
        if match.signal is not None:
            seen.strengths[match.signal] = max(seen.strengths.get(match.signal, 0.0), unit(match.strength))
    return list(found.values())


class HybridRanker:
    """Scores matches with fixed weights; every result carries its per-signal breakdown."""

    def __init__(self, weights: RankingWeights = RankingWeights()) -> None:
        self._weights = weights

    @property
    def weights(self) -> RankingWeights:
        return self._weights

    def weights_for(self, intent: Intent | None) -> RankingWeights:
        """The weights used for a query of this intent (the same for every intent here)."""
        return self._weights

    def signals(
        self,
        memory: Memory,
        strengths: Mapping[str, float],
        now: datetime,
        half_life: float,
        *,
        asks_history: bool = False,
        asks_now: bool = True,
    ) -> Signals:
        return Signals(
            **{name: strengths[name] for name in SIGNAL_NAMES if name in strengths},
            reliability=unit(memory.reliability),
            recency=recency_signal(memory.updated_at, now, half_life),
            frequency=frequency_signal(memory.access_count),
            standing=_standing(memory.current_at(now), asks_history=asks_history, asks_now=asks_now),
        )

    def rank(
        self,
        matches: Sequence[Match],
        now: datetime,
        intent: Intent | None = None,
        limit: int | None = None,
        *,
        asks_history: bool = False,
        asks_now: bool = True,
        absent: Collection[str] = (),
    ) -> list[RankedMemory]:
        """Deduplicated by memory id, best first; equal scores ordered by memory id. `now` is the time of the
        search; `asks_history` says the query asks about what was true before, `asks_now` (when it does not)
        about what is true now: the `standing` signal, which weighs nothing for a query asking neither.

        `absent` names signals this query cannot give (graph for a query naming nothing, time for one naming
        no time): they weigh 0 in its breakdowns. Scores do not change (those signals are 0 for every
        memory), but the explanation says they played no part, and relevance is reckoned without them.
        """
        weights = self.weights_for(intent)
        if not asks_history and not asks_now:
            absent = (*absent, "standing")
        if absent:
            weights = msgspec.structs.replace(weights, **{name: 0.0 for name in absent})
        ranked = []
        for found in group_matches(matches):
            signals = self.signals(
                found.memory,
                found.strengths,
                now,
                weights.half_life_days,
                asks_history=asks_history,
                asks_now=asks_now,
            )
            ranked.append(
                RankedMemory(
                    memory=found.memory,
                    breakdown=ScoreBreakdown.of(signals, weights),
                    match_types=frozenset(found.strategies),
                    current=found.memory.current_at(now),
                )
            )
        ranked.sort(key=lambda r: (-r.score, r.memory.id))
        return ranked if limit is None else ranked[: max(0, limit)]


# How AdaptiveRanker shifts the base weights per intent (multipliers, then renormalised to sum 1;
# a signal not in a row keeps its weight):
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

    With no intent it uses the base weights unchanged; with one, the shifted weights of the memory's own
    signals sum to 1 (the place signals' weights are scaled alike, on top).
    """

    def __init__(
        self,
        weights: RankingWeights = RankingWeights(),
        multipliers: Mapping[Intent, Mapping[str, float]] = INTENT_MULTIPLIERS,
    ) -> None:
        super().__init__(weights)
        self._by_intent: dict[Intent, RankingWeights] = {}
        for intent, factors in multipliers.items():
            unknown = set(factors) - set(SIGNAL_NAMES)
            if unknown:
                raise Invalid(f"unknown ranking signals for {intent.value}: {sorted(unknown)}")
            base = weights.as_dict()
            shifted = {name: base[name] * factors.get(name, 1.0) for name in SIGNAL_NAMES}
            self._by_intent[intent] = msgspec.structs.replace(weights, **shifted).normalised()

    def weights_for(self, intent: Intent | None) -> RankingWeights:
        if intent is None:
            return self.weights
        return self._by_intent.get(intent, self.weights.normalised())


def ranker_for(formula: RankFormula, weights: RankingWeights, *, adaptive: bool) -> HybridRanker:
    """The ranker for a formula: the seed's weights for SEED, the given (configured) ones otherwise."""
    chosen = SEED_WEIGHTS if formula is RankFormula.SEED else weights
    return AdaptiveRanker(chosen) if adaptive else HybridRanker(chosen)


def _standing(current: bool, *, asks_history: bool, asks_now: bool) -> float:
    """The `standing` signal (module docstring)."""
    if asks_history:
        return 0.0 if current else 1.0
    return 1.0 if asks_now and current else 0.0
