"""How a score is explained on the wire: one value per ranking signal, and the breakdown of a score."""

from __future__ import annotations

import msgspec


class Signals(msgspec.Struct, frozen=True, kw_only=True):
    """One value per ranking signal: a strength in 0..1, a weight, or what a signal added to a score.

        keyword, vector and graph say how well the memory matched; reliability, recency and frequency are the
        memory's own standing; time is how well its date falls in the range the query names; standing whether it is
    current or ended, as the query asks (now, or before); neighbour,
        session and speaker relate a turn to the other turns found.
    """

    keyword: float = 0.0
    vector: float = 0.0
    graph: float = 0.0
    reliability: float = 0.0
    recency: float = 0.0
    frequency: float = 0.0
    time: float = 0.0
    standing: float = 0.0
    neighbour: float = 0.0
    session: float = 0.0
    speaker: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """Each signal by name."""
        return msgspec.structs.asdict(self)


class ScoreBreakdown(msgspec.Struct, frozen=True, kw_only=True):
    """Each signal, the weights applied, what each added (weight * signal), and their sum: the score."""

    signals: Signals
    weights: Signals
    contributions: Signals
    total: float
    # What a ranking rule added so that results come in the order of their scores (`adjusted_by` names it).
    adjustment: float = 0.0
    adjusted_by: str | None = None

    @classmethod
    def none(cls) -> ScoreBreakdown:
        """No signal, no weight (a context item built without a ranking)."""
        return cls(signals=Signals(), weights=Signals(), contributions=Signals(), total=0.0)
