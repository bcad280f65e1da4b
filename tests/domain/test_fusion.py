"""Calibration of raw strategy strengths into 0..1 signals, on hand-computed cases."""

from __future__ import annotations

import math

import pytest

from jyntrix_domain.fusion import Calibration, calibrate
from jyntrix_domain.ranking import Match


def matches(*strengths: float) -> list[Match]:
    return [Match(memory_id=f"m{i}", strategy="vector", signal="vector", strength=s) for i, s in enumerate(strengths)]


def strengths(found: list[Match]) -> list[float]:
    return [m.strength for m in found]


def test_max_divides_by_the_best_and_drops_what_did_not_score() -> None:
    assert strengths(calibrate(matches(4.0, 2.0, 0.0, 1.0), Calibration.MAX)) == [1.0, 0.5, 0.25]
    assert calibrate(matches(0.0, -1.0), Calibration.MAX) == []


def test_raw_keeps_the_strengths() -> None:
    assert strengths(calibrate(matches(0.7, 0.2), Calibration.RAW)) == [0.7, 0.2]


def test_zscore_is_the_sigmoid_of_how_far_a_hit_stands_out() -> None:
    # mean 2, population stdev sqrt(2/3): z = -1.2247, 0, 1.2247; slope 1.5 -> sigmoid(-1.8371), 0.5, sigmoid(1.8371)
    found = strengths(calibrate(matches(1.0, 2.0, 3.0), Calibration.ZSCORE, slope=1.5))
    z = 1.5 / math.sqrt(2 / 3)
    assert found == pytest.approx([1 / (1 + math.exp(z)), 0.5, 1 / (1 + math.exp(-z))], abs=1e-12)
    assert found == pytest.approx([0.137393, 0.5, 0.862607], abs=1e-6)


def test_zscore_ignores_the_scale_of_the_raw_strengths() -> None:
    small = strengths(calibrate(matches(0.1, 0.3, 0.2), Calibration.ZSCORE))
    large = strengths(calibrate(matches(10.0, 30.0, 20.0), Calibration.ZSCORE))
    assert small == pytest.approx(large, abs=1e-12)


@pytest.mark.parametrize("raw", [(0.42,), (0.3, 0.3, 0.3)])
def test_zscore_without_spread_gives_every_hit_the_sigmoid_of_the_slope(raw: tuple[float, ...]) -> None:
    assert strengths(calibrate(matches(*raw), Calibration.ZSCORE, slope=2.0)) == [1 / (1 + math.exp(-2.0))] * len(raw)


def test_no_matches_no_signals() -> None:
    for how in Calibration:
        assert calibrate([], how) == []
