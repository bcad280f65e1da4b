"""Choosing weights over several pools: LoCoMo's and BEAM's conversations are one set to leave out one at a time.

The pools are made up here (two conversations each, one question each), small enough to work out by hand.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def item(cites: str, keyword: float, role: str | None = None) -> dict[str, Any]:
    return {"dia_ids": [cites], "signals": {"keyword": keyword}, "role": role}


def question(text: str, evidence: str, pool: list[dict[str, Any]]) -> dict[str, Any]:
    return {"question": text, "category": 1, "evidence": [evidence], "pool": pool}


def grid(tmp_path: Path, pools: dict[str, dict[str, Any]], *weights: str) -> dict[str, Any]:
    paths = []
    for name, pool in pools.items():
        path = tmp_path / name
        path.write_text(json.dumps(pool))
        paths.append(str(path))
    command = [sys.executable, str(REPO / "bench" / "locomo_grid.py"), *paths]
    command += [arg for w in weights for arg in ("--grid", w)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True, cwd=REPO)
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_conversations_of_every_pool_are_held_out_in_turn_and_each_pool_is_reported(tmp_path: Path) -> None:
    # The evidence is always the first item of 25 (others fill the top 10), whichever keyword weight is chosen.
    filler = [item(f"x{n}", 0.9) for n in range(12)]
    locomo = {
        "conv-1": [question("Where did Ann go in May?", "D1:1", [item("D1:1", 1.0), *filler])],
        "conv-2": [question("What does Bob play?", "D2:3", [*filler[:12], item("D2:3", 0.1)])],
    }
    beam = {"beam-7": [question("What city do I work in?", "m1", [item("m1", 1.0), *filler])]}
    report = grid(tmp_path, {"locomo.json": locomo, "beam.json": beam}, "keyword=0.3,0.6")

    assert set(report["held_out"]) == {"conv-1", "conv-2", "beam-7"}
    assert report["held_out"]["conv-1"]["recall@10"] == 1.0
    assert report["held_out"]["conv-2"]["recall@10"] == 0.0  # ranked 13th whatever the weight
    assert report["by_pool"]["locomo.json"]["loco_recall@10"] == 0.5
    assert report["by_pool"]["beam.json"]["loco_recall@10"] == 1.0
    assert report["loco_recall@10"] == round(2 / 3, 4)


def test_an_assistant_turn_keeps_only_its_share_of_the_score(tmp_path: Path) -> None:
    # Ten assistant turns that match a little better than the evidence, a user's turn: cut to 0.85, they rank below.
    answers = [item(f"a{n}", 1.0, role="assistant") for n in range(10)]
    asked = question("What breed is my dog?", "u1", [*answers, item("u1", 0.9, role="user")])
    pool = {"beam-1": [asked], "beam-2": [asked]}
    report = grid(tmp_path, {"beam.json": pool}, "keyword=0.3")

    assert report["in_sample"][0]["recall@5"] == 1.0


def test_one_conversation_cannot_be_left_out(tmp_path: Path) -> None:
    pool = {"beam-1": [question("What breed is my dog?", "u1", [item("u1", 0.9)])]}
    (tmp_path / "beam.json").write_text(json.dumps(pool))
    command = [sys.executable, str(REPO / "bench" / "locomo_grid.py"), str(tmp_path / "beam.json")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)

    assert done.returncode == 1
    assert "two conversations or more" in done.stderr
