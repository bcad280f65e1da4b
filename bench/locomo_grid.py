"""Choose ranking weights by leave-one-conversation-out on LoCoMo and BEAM pools together, offline.

Reads the pools `bench/locomo_recall.py --pool 100` (either path) and `bench/beam_recall.py --pool 100`
write (each question's top results with their signals; several pools are one set of conversations, a BEAM chat
being one) and re-ranks every question's pool for each combination of the weights given
on the grid, the other weights being the defaults (`RankingWeights()`), shifted by the question's
intent as the adaptive ranker does. It prints, best first, the combinations' in-sample recall@10,
and the leave-one-conversation-out figure: each conversation's questions ranked with the
combination that does best on the other conversations' questions.

    .venv/bin/python bench/locomo_grid.py locomo_pool.json --grid neighbour=0,0.25,0.5 --grid speaker=0,0.5
    .venv/bin/python bench/locomo_grid.py locomo_pool.json beam_pool.json --grid session=0,0.2,0.35

An assistant's turn keeps the default share of its score (`RETRIEVAL_ASSISTANT_SHARE`'s default), as a server
with default settings ranks it (the server has already left out the ones too weak to answer). The held-out
figure is also given for each pool alone.

It re-ranks, it does not re-retrieve: the signals are those the server computed in the pooled run,
so a weight that would change a signal itself (the keyword and vector weights feed the place signals'
relevance) is only approximated, and the rule "a fact before its turn" is not applied. Every figure
to report comes from a real server run (`bench/locomo_recall.py`) with the chosen weights.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from statistics import mean
from typing import Any

from jyntrix_adapters.english.language import EnglishLanguage

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from evidence_recall import recall as evidence_recall  # noqa: E402

from jyntrix_domain.query import Intent, QueryAnalyzer  # noqa: E402
from jyntrix_domain.ranking import AdaptiveRanker, RankingWeights  # noqa: E402
from jyntrix_domain.retrieval_config import RetrievalConfig  # noqa: E402
from jyntrix_domain.signals import SIGNAL_NAMES  # noqa: E402

KS = (5, 10, 20)


def cited_dias(item: dict[str, Any]) -> list[str | None]:
    """The dia_ids a pooled result cites (memory-import path: its own; transcript path: its messages')."""
    return item["dia_ids"] if "dia_ids" in item else [item.get("dia_id")]


def recall(ranked: list[dict[str, Any]], evidence: set[str], k: int) -> float:
    """Evidence recall at k (see `evidence_recall`)."""
    return evidence_recall([cited_dias(item) for item in ranked], evidence, k)


def scored(questions: list[dict[str, Any]], intents: list[Intent], weights: RankingWeights, k: int) -> list[float]:
    ranker = AdaptiveRanker(weights)
    by_intent = {intent: ranker.weights_for(intent).as_dict() for intent in set(intents)}
    out = []
    share = RetrievalConfig().assistant_share
    for q, intent in zip(questions, intents, strict=True):
        w = by_intent[intent]

        def score(item: dict[str, Any], w: dict[str, float] = w) -> float:
            total: float = sum(w[n] * item["signals"].get(n, 0.0) for n in SIGNAL_NAMES)
            return total * share if item.get("role") == "assistant" else total

        ranked = sorted(q["pool"], key=lambda item: -score(item))
        out.append(recall(ranked, set(q["evidence"]), k))
    return out


def parse_grid(items: list[str]) -> dict[str, list[float]]:
    grid = {}
    for item in items:
        name, _, values = item.partition("=")
        if name not in SIGNAL_NAMES:
            raise SystemExit(f"unknown signal {name!r}; one of {', '.join(SIGNAL_NAMES)}")
        grid[name] = [float(v) for v in values.split(",")]
    return grid


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pool", type=Path, nargs="+")
    parser.add_argument("--grid", action="append", default=[], metavar="SIGNAL=V1,V2,...")
    parser.add_argument("--top", type=int, default=10, help="how many combinations to print")
    args = parser.parse_args()
    pools: dict[str, list[str]] = {}
    pool: dict[str, list[dict[str, Any]]] = {}
    for path in args.pool:
        one: dict[str, list[dict[str, Any]]] = json.loads(path.read_text())
        pools[path.name] = list(one)
        pool |= one
    if any("question" not in q for qs in pool.values() for q in qs):
        raise SystemExit("the pool has no question texts: write it again with bench/locomo_recall.py --pool")
    if len(pool) < 2:
        raise SystemExit("leaving one conversation out needs two conversations or more")
    grid = parse_grid(args.grid)
    analyzer = QueryAnalyzer(EnglishLanguage())
    now = datetime.now(UTC)
    intents = {stem: [analyzer.analyze(q["question"], now).intent for q in qs] for stem, qs in pool.items()}
    combos = [dict(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())]
    at10: dict[int, dict[str, list[float]]] = {}
    for n, combo in enumerate(combos):
        weights = RankingWeights(**combo)
        at10[n] = {stem: scored(qs, intents[stem], weights, 10) for stem, qs in pool.items()}

    def overall(n: int, stems: list[str]) -> float:
        return mean(x for stem in stems for x in at10[n][stem])

    stems = list(pool)
    best = sorted(range(len(combos)), key=lambda n: (-overall(n, stems), n))
    rows = []
    for n in best[: args.top]:
        weights = RankingWeights(**combos[n])
        every = [q for stem in stems for q in pool[stem]]
        every_intent = [i for stem in stems for i in intents[stem]]
        rows.append(
            {
                "weights": combos[n],
                **{f"recall@{k}": round(mean(scored(every, every_intent, weights, k)), 4) for k in KS},
                "by_conversation": {stem: round(mean(at10[n][stem]), 4) for stem in stems},
            }
        )
    held_out = {}
    loco: list[float] = []
    at10_held: dict[str, list[float]] = {}
    for held in stems:
        train = [s for s in stems if s != held]
        chosen = min(range(len(combos)), key=lambda n: (-overall(n, train), n))
        held_out[held] = {"weights": combos[chosen], "recall@10": round(mean(at10[chosen][held]), 4)}
        at10_held[held] = at10[chosen][held]
        loco += at10[chosen][held]
    by_pool = {
        name: {
            "in_sample_best_recall@10": round(mean(x for stem in held for x in at10[best[0]][stem]), 4),
            "loco_recall@10": round(mean(x for stem in held for x in at10_held[stem]), 4),
        }
        for name, held in pools.items()
    }
    report = {"in_sample": rows, "held_out": held_out, "loco_recall@10": round(mean(loco), 4), "by_pool": by_pool}
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
