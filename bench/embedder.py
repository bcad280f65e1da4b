"""Embedder throughput and query latency of the fastembed adapter (all-MiniLM-L6-v2 on CPU).

Prints one JSON document: sentences/s at batch sizes 1, 32 and 256, and single-query latency
percentiles (medians over rounds, and the best round, since a shared machine is noisy); writes the
same numbers and a plot under bench/out/. Run: `python bench/embedder.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import time
from pathlib import Path

from jyntrix_adapters.fastembed.embedder import FastEmbedder
from jyntrix_adapters.fastembed.onnx_export import DEFAULT_MODEL_DIR, ensure_model

SUBJECTS = ["My sister", "I", "Our team", "My landlord", "The doctor", "Ada", "My manager", "We"]
VERBS = [
    "moved to",
    "visited",
    "works in",
    "talked about",
    "recommended",
    "dislikes",
    "booked a trip to",
    "wrote about",
]
OBJECTS = [
    "Berlin last spring",
    "a small ramen place near the station",
    "the quarterly planning meeting on Tuesday",
    "hiking in the Alps with friends",
    "learning Japanese before the summer",
    "the new project deadline in March",
    "green tea instead of coffee in the morning",
    "a vegetarian restaurant in Lisbon",
]


def sentences(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}." for _ in range(n)]


async def throughput(embedder: FastEmbedder, batch: int, total: int, rounds: int = 3) -> list[float]:
    """Sentences per second of each round; several rounds because a shared machine is noisy."""
    texts = sentences(total, seed=batch)
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        for i in range(0, total, batch):
            await embedder.embed(texts[i : i + batch])
        rates.append(total / (time.perf_counter() - started))
    return rates


async def query_latency_ms(embedder: FastEmbedder, n: int) -> list[float]:
    latencies = []
    for query in sentences(n, seed=7):
        started = time.perf_counter()
        await embedder.embed_query(query)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run(model_dir: Path, queries: int) -> dict[str, object]:
    started = time.perf_counter()
    ensure_model(model_dir)
    build_s = time.perf_counter() - started
    embedder = FastEmbedder(model_dir, build=False)  # as the app builds it
    started = time.perf_counter()
    await embedder.warm()
    load_s = time.perf_counter() - started
    load_before = os.getloadavg()[0]
    rounds = {
        "batch_1": await throughput(embedder, 1, 200),
        "batch_32": await throughput(embedder, 32, 512),
        "batch_256": await throughput(embedder, 256, 1024),
    }
    latencies = await query_latency_ms(embedder, queries)
    return {
        "benchmark": "embedder",
        "model": "all-MiniLM-L6-v2 (ONNX, fastembed, CPU)",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": round(load_before, 2),
            "load_average_after": round(os.getloadavg()[0], 2),
        },
        "model_ready_s": round(build_s, 3),
        "load_and_warm_s": round(load_s, 3),
        "sentences_per_s": {k: round(statistics.median(v), 1) for k, v in rounds.items()},
        "sentences_per_s_best_round": {k: round(max(v), 1) for k, v in rounds.items()},
        "query_latency_ms": {
            "n": len(latencies),
            "p50": round(percentile(latencies, 0.50), 2),
            "p95": round(percentile(latencies, 0.95), 2),
            "mean": round(statistics.fmean(latencies), 2),
        },
    }


def plot(result: dict[str, object], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates: dict[str, float] = result["sentences_per_s"]  # type: ignore[assignment]
    latency: dict[str, float] = result["query_latency_ms"]  # type: ignore[assignment]
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
    left.bar([k.replace("batch_", "") for k in rates], list(rates.values()), color="#4c72b0")
    left.set(title="Throughput", xlabel="batch size", ylabel="sentences / s")
    right.bar(["p50", "p95"], [latency["p50"], latency["p95"]], color="#dd8452")
    right.set(title="Single query", ylabel="ms")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    result = asyncio.run(run(args.model_dir, args.queries))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "embedder.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(result, args.out / "embedder.png")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
