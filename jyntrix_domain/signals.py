"""The ranking signals: one field list for the weights, the per-signal breakdown and every view of them.

A signal is a 0..1 strength. The match signals (keyword, vector, graph) come from the strategies that
found a memory; the memory signals (reliability, recency, frequency) from the memory itself; `time`
says how well the memory's date falls in the time range the query names; `standing` whether the memory is
current or ended, as the query asks; the place signals (neighbour,
session, speaker) relate a turn to the other turns found and to the names the query asks about. Adding a field here adds
the signal to the weights (RankingWeights), to the breakdown of every result, to the settings and
to both HTTP views (the search response and the SSE ``context`` event).
"""

from __future__ import annotations

import math

import msgspec


class Signals(msgspec.Struct, frozen=True, kw_only=True):
    """One value per ranking signal (strengths in 0..1, or the weights applied to them)."""

    # How well the memory matches the query, from the strategies that found it.
    keyword: float = 0.0
    vector: float = 0.0
    graph: float = 0.0
    # The memory's own standing, whatever the query.
    reliability: float = 0.0
    recency: float = 0.0
    frequency: float = 0.0
    # Derived from the query's analysis and the memory's dates.
    time: float = 0.0
    # 1 when the memory's standing is what the query asks about: current (true at the time of the search)
    # for a question about now, ended for one about before ("where did I live before?").
    standing: float = 0.0
    # Derived from a turn's place among the turns found (jyntrix_domain.turn_places).
    neighbour: float = 0.0
    session: float = 0.0
    speaker: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {name: float(getattr(self, name)) for name in SIGNAL_NAMES}

    def weighted(self, weights: Signals) -> Signals:
        """weight * signal for each signal: the contributions, which add up to the score."""
        return Signals(**{name: getattr(weights, name) * getattr(self, name) for name in SIGNAL_NAMES})

    def total(self, names: tuple[str, ...] | None = None) -> float:
        """The sum of every signal, or of those `names`."""
        return math.fsum(getattr(self, name) for name in names or SIGNAL_NAMES)

    def only_signals(self) -> Signals:
        """The signal fields alone (a subclass such as RankingWeights carries more)."""
        return self if type(self) is Signals else Signals(**self.as_dict())


SIGNAL_NAMES: tuple[str, ...] = Signals.__struct_fields__
# The signals of a turn's place among the turns found: they lift a turn in the ranking, on top of its
# own score; they never make a memory an answer (jyntrix_domain.context) nor dilute the other weights.
PLACE_SIGNALS: tuple[str, ...] = ("neighbour", "session", "speaker")
# Signals that add on top of a memory's own score rather than share its weight: the place signals, and
# `standing`, which lifts what the query asks about (current or ended) without diluting the others.
ADDED_SIGNALS: tuple[str, ...] = (*PLACE_SIGNALS, "standing")
OWN_SIGNALS: tuple[str, ...] = tuple(name for name in SIGNAL_NAMES if name not in ADDED_SIGNALS)
# The signals that say whether a memory answers a query: how well it matches, and how far it is to be
# trusted. How recent, how often read and whether still current order the answers; they never decide
# whether a memory is one (an imported fact from years ago answers as well as one told today).
RELEVANCE_SIGNALS: tuple[str, ...] = ("keyword", "vector", "graph", "reliability", "time")


def unit(value: float) -> float:
    """Clamp to 0..1 (NaN counts as 0): the one place a strength is clamped."""
    if math.isnan(value):
        return 0.0
    return min(1.0, max(0.0, float(value)))


class ScoreBreakdown(msgspec.Struct, frozen=True, kw_only=True):
    """Each signal in 0..1, the weights applied, what each added, and the score: their sum, plus `adjustment`
    when a ranking rule moved the memory (`adjusted_by` names the rule): raised above one that scored higher,
    or lowered, so that results always come in the order of the score they show."""

    signals: Signals
    weights: Signals
    contributions: Signals
    total: float
    adjustment: float = 0.0
    adjusted_by: str | None = None

    def raised_to(self, score: float, rule: str) -> ScoreBreakdown:
        """This breakdown with `score` as its total, the difference an adjustment by `rule`."""
        if score <= self.total:
            return self
        lift = score - self.total + self.adjustment
        return msgspec.structs.replace(self, total=score, adjustment=lift, adjusted_by=rule)

    def scaled(self, share: float, rule: str) -> ScoreBreakdown:
        """This breakdown with `share` of its total, the difference a (negative) adjustment by `rule`."""
        cut = self.total * (1.0 - share)
        return msgspec.structs.replace(self, total=self.total - cut, adjustment=self.adjustment - cut, adjusted_by=rule)

    @classmethod
    def none(cls) -> ScoreBreakdown:
        """No signal, no weight: the score of something nothing ranked."""
        return cls(signals=Signals(), weights=Signals(), contributions=Signals(), total=0.0)

    @classmethod
    def of(cls, signals: Signals, weights: Signals) -> ScoreBreakdown:
        weights = weights.only_signals()
        contributions = signals.weighted(weights)
        return cls(signals=signals, weights=weights, contributions=contributions, total=contributions.total())

    @property
    def relevance(self) -> float:
        """How well the memory answers the query, in 0..1: the weighted mean of RELEVANCE_SIGNALS."""
        weight = self.weights.total(RELEVANCE_SIGNALS)
        return self.contributions.total(RELEVANCE_SIGNALS) / weight if weight > 0 else 0.0
