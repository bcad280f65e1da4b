"""Calibration: how each strategy's raw strengths become 0..1 signals before the ranker weighs them.

Raw strengths have no common scale: a BM25 score depends on the query's length and the user's
vocabulary, a cosine on the embedding model. Each strategy's hits are calibrated on their own, over
the hits of that one query:

- ``max``: divide by the best hit (the seed's rule for BM25): the best is always 1, however weak.
- ``raw``: the strength as it is, clamped to 0..1 (the seed's rule for cosine and graph hops).
- ``zscore``: ``sigmoid(slope · (x - mean) / stdev)`` over the strategy's hits: a hit counts by how
  far it stands out from the others, so one strong match is 1-ish and a flat field is 0.5-ish.
  With fewer than two hits, or no spread, every hit gets ``sigmoid(slope)``.
"""

from __future__ import annotations

import enum
import math
import statistics
from collections.abc import Sequence

import msgspec

from jyntrix_domain.ranking import Match


class Calibration(enum.StrEnum):
    MAX = "max"
    RAW = "raw"
    ZSCORE = "zscore"


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def calibrate(matches: Sequence[Match], how: Calibration, slope: float = 1.0) -> list[Match]:
    """The same matches with strengths mapped to 0..1 by `how` (see the module docstring)."""
    if not matches:
        return []
    raw = [m.strength for m in matches]
    if how is Calibration.RAW:
        return list(matches)
    if how is Calibration.MAX:
        best = max(raw)
        if best <= 0:
            return []
        return [msgspec.structs.replace(m, strength=m.strength / best) for m in matches if m.strength > 0]
    spread = statistics.pstdev(raw) if len(raw) > 1 else 0.0
    centre = statistics.fmean(raw)
    return [
        msgspec.structs.replace(m, strength=_sigmoid(slope * ((m.strength - centre) / spread if spread > 0 else 1.0)))
        for m in matches
    ]
