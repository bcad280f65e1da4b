"""The served load benchmark runs end to end on tiny sizes: its JSON has every figure, and no strategy timed out.

Wall-clock values are not asserted (the machine is shared); the shape and the outcomes are.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SUMMARY = {"n", "p50_ms", "p95_ms", "p99_ms", "mean_ms", "max_ms"}
STRATEGIES = {"vector", "keyword", "graph", "profile", "recent"}


@pytest.mark.slow
def test_the_quick_bench_reports_every_figure_without_a_strategy_timeout(
    tmp_path: Path, minilm_model_dir: Path
) -> None:
    out = tmp_path / "out"
    command = [
        sys.executable,
        str(REPO / "bench" / "serve_load.py"),
        "--quick",
        *("--sizes", "40,120", "--queries", "6", "--turns", "2", "--burst", "6", "--loads", "4,8"),
        *("--sustain-s", "1", "--transcripts", "1", "--transcript-turns", "10"),
        *("--data-dir", str(tmp_path / "data"), "--out", str(out)),
        *("--env", f"EMBEDDING_MODEL_DIR={minilm_model_dir}"),
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=REPO)
    assert finished.returncode == 0, finished.stderr[-4000:]
    report = json.loads((out / "serve_load.json").read_text())
    assert json.loads(finished.stdout) == report
    assert (out / "serve_load_sizes.png").stat().st_size > 0
    assert (out / "serve_load_loads.png").stat().st_size > 0

    assert [s["memories_per_user"] for s in report["sizes"]] == [40, 120]
    for size in report["sizes"]:
        assert set(size["search"]) == SUMMARY and size["search"]["n"] == 6
        assert size["search_with_writes"]["n"] == 6 and size["search_with_writes"]["failed"] == 0
        assert size["chat_one_at_a_time"]["completed"] == 2 and size["chat_one_at_a_time"]["errors"] == 0
        assert size["rss"]["api_mb"] > 0 and size["rss"]["with_postgres_mb"] >= size["rss"]["api_mb"]
        assert size["import"]["memories"] > 0
    assert report["import"]["transcript"]["turns"] == 10

    burst = report["burst"]
    assert (burst["turns"], burst["completed"], burst["errors"]) == (6, 6, 0)
    assert burst["ttft"]["n"] == 6
    analytics = burst["phases_from_analytics"]
    assert analytics["users_reported"] == 6
    assert {"setup", "retrieval", "context_building", "llm_streaming", "save_response"} <= set(analytics["phases"])
    assert set(analytics["strategies"]) == STRATEGIES
    assert set(burst["cpu_per_turn"]) == {"api_ms", "postgres_ms", "client_ms"}

    assert [r["offered_per_s"] for r in report["sustained"]] == [4.0, 8.0]
    assert all(r["errors"] == 0 and r["planned"] == r["completed"] for r in report["sustained"])

    assert set(report["search_strategy_outcomes"]) == STRATEGIES
    assert report["failing_timeouts"] == 0
    for outcomes in (*report["search_strategy_outcomes"].values(), *report["chat_strategy_outcomes"].values()):
        assert outcomes.get("timeout", 0) == 0
