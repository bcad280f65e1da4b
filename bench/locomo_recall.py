"""Evidence recall@k on the LoCoMo development split (research data in ../shared, never copied here).

Each turn becomes one episodic memory of one user per conversation ("Speaker: text", created_at
from its session date); each question of categories 1-4 is searched through the real
RetrievalService; recall@k is the share of its evidence turns found in the top k, averaged.
Prints JSON. The reference point from the data's README: a BM25 turn-level baseline, 0.52 @10.

    .venv/bin/python bench/locomo_recall.py [--data ../shared/data/locomo-dev] [--embedder fastembed|hash]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import mean
from typing import Any

from jyntrix_adapters.inprocess.embedder import HashEmbedder
from jyntrix_adapters.inprocess.keyword_index import InProcessKeywordIndex
from jyntrix_bootstrap.container import build_services
from jyntrix_bootstrap.settings import DeploymentProfile, Settings
from jyntrix_domain.memories import NewMemory
from jyntrix_domain.model import MemoryType, stable_id
from jyntrix_domain.ranking import HybridRanker, RankingWeights
from jyntrix_domain.retrieval import RetrievalConfig
from testsupport.clock import ManualClock

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo-dev"
KS = (5, 10, 20)

# Ranking variants measured side by side: the seed's weights and single-signal baselines.
VARIANTS = {
    "hybrid_seed": RankingWeights(),
    "keyword_only": RankingWeights(keyword=1.0, vector=0.0, reliability=0.0, recency=0.0, frequency=0.0),
    "vector_only": RankingWeights(keyword=0.0, vector=1.0, reliability=0.0, recency=0.0, frequency=0.0),
    "keyword_vector": RankingWeights(keyword=0.5, vector=0.5, reliability=0.0, recency=0.0, frequency=0.0),
}


def session_date(text: str) -> datetime:
    return datetime.strptime(text, "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def turns(conversation: dict[str, Any]) -> list[tuple[str, datetime, str]]:
    out = []
    n = 1
    while f"session_{n}" in conversation:
        at = session_date(conversation[f"session_{n}_date_time"])
        for turn in conversation[f"session_{n}"]:
            text = f"{turn['speaker']}: {turn['text']}"
            if turn.get("blip_caption"):
                text += f" [shares a photo: {turn['blip_caption']}]"
            out.append((turn["dia_id"], at, text))
        n += 1
    return out


def make_embedder(kind: str) -> Any:
    if kind == "hash":
        return HashEmbedder()
    from jyntrix_adapters.fastembed.embedder import FastEmbedder

    return FastEmbedder()


def make_keywords(kind: str, directory: Path) -> Any:
    if kind == "in_process":
        return InProcessKeywordIndex()
    from jyntrix_adapters.bm25.keyword_index import Bm25sKeywordIndex

    return Bm25sKeywordIndex(directory)


async def evaluate(
    path: Path, conversation: dict[str, Any], embedder: Any, keyword_kind: str, work: Path
) -> dict[str, Any]:
    user = f"locomo-{path.stem}"
    clock = ManualClock()
    # The services come from the composition root, on in-process stores, with the embedder, the keyword
    # index and the clock this benchmark chose.
    settings = Settings(
        jyntrix_profile=DeploymentProfile.IN_PROCESS,
        jyntrix_data_dir=str(work),
        rank_adaptive=False,
        retrieval=RetrievalConfig(limit=max(KS), strategy_timeout_s=30.0),
    )
    runtime = await build_services(
        settings,
        overrides={
            "clock": clock,
            "base_embedder": embedder,
            "keywords": make_keywords(keyword_kind, work / path.stem),
        },
    )
    memories, retrieval = runtime.services.memories, runtime.retrieval
    rows = turns(conversation)
    clock.set(max(at for _, at, _ in rows))
    started = time.perf_counter()
    imported = await memories.bulk_import(
        user,
        [
            NewMemory(
                id=stable_id(user, dia), content=text, type=MemoryType.EPISODIC, created_at=at, metadata={"dia_id": dia}
            )
            for dia, at, text in rows
        ],
    )
    ingest_s = time.perf_counter() - started
    dia_of = {m.id: m.metadata["dia_id"] for m in imported}
    questions = [q for q in conversation["qa"] if q["category"] in (1, 2, 3, 4) and q.get("evidence")]
    results: dict[str, Any] = {}
    for variant, weights in VARIANTS.items():
        retrieval._ranker = HybridRanker(weights)
        per_k: dict[int, list[float]] = {k: [] for k in KS}
        by_category: dict[int, list[float]] = {}
        latencies = []
        for q in questions:
            t0 = time.perf_counter()
            result = await retrieval.retrieve(user, q["question"], limit=max(KS))
            latencies.append((time.perf_counter() - t0) * 1000)
            found = [dia_of[r.memory.id] for r in result.memories]
            evidence = set(q["evidence"])
            for k in KS:
                per_k[k].append(len(evidence & set(found[:k])) / len(evidence))
            by_category.setdefault(q["category"], []).append(per_k[10][-1])
        latencies.sort()
        results[variant] = {
            **{f"recall@{k}": round(mean(v), 4) for k, v in per_k.items()},
            "recall@10_by_category": {c: round(mean(v), 4) for c, v in sorted(by_category.items())},
            "retrieve_p50_ms": round(latencies[len(latencies) // 2], 2),
            "retrieve_p95_ms": round(latencies[int(len(latencies) * 0.95)], 2),
        }
    await runtime.aclose()
    return {
        "conversation": path.stem,
        "turns": len(rows),
        "questions": len(questions),
        "ingest_s": round(ingest_s, 2),
        "variants": results,
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--embedder", choices=["fastembed", "hash"], default="fastembed")
    parser.add_argument("--keywords", choices=["bm25s", "in_process"], default="bm25s")
    args = parser.parse_args()
    files = sorted(args.data.glob("*.json"))
    if not files:
        # The data set is research data kept outside the project; without it there is nothing to measure.
        print(f"locomo: no LoCoMo files under {args.data}; not measured", file=sys.stderr)
        return 0
    import tempfile

    embedder = make_embedder(args.embedder)
    per_conversation = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            print(f"locomo {path.stem}: ingesting and querying…", file=sys.stderr)
            per_conversation.append(
                await evaluate(path, json.loads(path.read_text()), embedder, args.keywords, Path(tmp))
            )
    overall: dict[str, dict[str, float]] = {}
    for variant in VARIANTS:
        weights = [c["questions"] for c in per_conversation]
        overall[variant] = {
            f"recall@{k}": round(
                sum(c["variants"][variant][f"recall@{k}"] * w for c, w in zip(per_conversation, weights, strict=True))
                / sum(weights),
                4,
            )
            for k in KS
        }
    print(
        json.dumps(
            {
                "embedder": args.embedder,
                "keywords": args.keywords,
                "baseline_bm25_recall@10": 0.52,
                "overall": overall,
                "conversations": per_conversation,
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
