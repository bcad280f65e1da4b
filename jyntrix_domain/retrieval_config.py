"""How retrieval is configured: how many candidates each strategy fetches, and how their raw strengths become
signals; and the seed's configuration, which `RankProfile.SEED` selects."""

from __future__ import annotations

import msgspec

from jyntrix_domain.errors import Invalid
from jyntrix_domain.fusion import Calibration
from jyntrix_domain.ranking import RankProfile


class RetrievalConfig(msgspec.Struct, frozen=True, kw_only=True):
    """How many candidates each strategy fetches, and how their raw strengths become signals."""

    limit: int = 20
    per_strategy_limit: int = 40
    # Cosine below this is noise for sentence embeddings; such hits would only crowd the context.
    min_vector_score: float = 0.1
    strategy_timeout_s: float = 1.0
    graph_depth: int = 2
    recent_days: int = 7
    profile_limit: int = 20
    recent_limit: int = 10
    keyword_calibration: Calibration = Calibration.MAX
    # Measured on LoCoMo (docs/benchmarks.md): cosines ranked by how far they stand out beat raw cosines.
    vector_calibration: Calibration = Calibration.ZSCORE
    calibration_slope: float = 1.5
    # The signal the graph's strength feeds: its own, or (the seed's way) the keyword slot.
    graph_signal: str = "graph"
    # Pseudo-relevance feedback: search BM25 again with up to `prf_terms` words shared by its
    # `prf_docs` best hits (0 turns it off).
    prf_terms: int = 0
    prf_docs: int = 3
    # An assistant's turn answers a query that does not ask what the assistant said only when its keyword or
    # vector match is at least this strong (calibrated 0..1).
    assistant_min_match: float = 0.8
    # The share of its score an assistant's turn keeps for a query that does not ask what the assistant said
    # (jyntrix_domain.assistant_turns; 1 keeps it whole).
    assistant_share: float = 0.85

    def __post_init__(self) -> None:
        if self.limit < 1:
            raise Invalid("limit must be at least 1")
        if not self.strategy_timeout_s > 0:
            raise Invalid("strategy_timeout_s must be positive")
        if not 0.0 < self.assistant_share <= 1.0:
            raise Invalid("assistant_share must be in (0, 1]")
        if self.graph_signal not in ("graph", "keyword"):
            raise Invalid("graph_signal must be 'graph' or 'keyword'")


SEED_RETRIEVAL = RetrievalConfig(
    per_strategy_limit=40,
    keyword_calibration=Calibration.MAX,
    vector_calibration=Calibration.RAW,
    calibration_slope=1.0,
    graph_signal="keyword",
    prf_terms=0,
)


def retrieval_config_for(profile: RankProfile, config: RetrievalConfig) -> RetrievalConfig:
    """The configured retrieval, with the seed's candidate counts and calibration under RankProfile.SEED."""
    if profile is not RankProfile.SEED:
        return config
    seed = {name: getattr(SEED_RETRIEVAL, name) for name in _SEED_FIELDS}
    return msgspec.structs.replace(config, **seed)


# What the seed profile fixes; timeouts and limits stay as configured.
_SEED_FIELDS = (
    "per_strategy_limit",
    "keyword_calibration",
    "vector_calibration",
    "calibration_slope",
    "graph_signal",
    "prf_terms",
)
