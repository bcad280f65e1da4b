"""Qdrant Edge before, during and after its background optimisation, as one user's memories grow.

The layout of bench/retrieval_scale.py: the target user holds N memories, 99 other users share another N
(seeded 384-d unit vectors, random or clustered around 200 topics). For each N: top-20 search latency and
recall@20 (against numpy's exact answer over the target's vectors) before optimising; then `optimize()` runs
(a copy optimised in a child process) while this process keeps searching and writing for the target user, one
call at a time, and every search and write during it is timed; then latency and recall after. Prints JSON on
stdout and writes bench/out/edge_optimize.json.

    python bench/edge_optimize.py --sizes 10000,100000 --queries 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from jyntrix_adapters.qdrant.edge_vector_index import QdrantEdgeVectorIndex
from jyntrix_domain.model import MemoryType, VectorItem

sys.path.insert(0, str(Path(__file__).parent))
from retrieval_scale import DIM, OUT, TOP, USERS, Corpus, fill_vectors, unit_vectors, version
from scale_timing import log, percentiles, timed


def recall(found: list[list[str]], exact: list[list[str]]) -> float:
    return round(float(np.mean([len(set(f) & set(e)) / len(e) for f, e in zip(found, exact, strict=True)])), 4)


async def searches(index: QdrantEdgeVectorIndex, user: str, queries: np.ndarray) -> tuple[list[float], list[Any]]:
    await index.search(user, queries[0].tolist(), TOP)  # warm threads and caches
    return await timed([partial(index.search, user, q.tolist(), TOP) for q in queries])


async def during_optimisation(index: QdrantEdgeVectorIndex, user: str, rng: np.random.Generator) -> dict[str, Any]:
    """Optimise while searching and writing for `user` in turn; time each call and the whole optimisation."""
    search_s: list[float] = []
    write_s: list[float] = []
    written: list[tuple[str, list[float]]] = []
    started = time.perf_counter()
    optimising = asyncio.create_task(index.optimize())
    while not optimising.done():
        vector = unit_vectors(rng, 1)[0].tolist()
        memory_id = str(uuid.uuid4())
        t = time.perf_counter()
        await index.upsert(user, [VectorItem(id=memory_id, vector=vector, type=MemoryType.SEMANTIC)])
        write_s.append(time.perf_counter() - t)
        written.append((memory_id, vector))
        t = time.perf_counter()
        hits = await index.search(user, vector, 1)
        search_s.append(time.perf_counter() - t)
        if not hits or hits[0].id != memory_id:
            raise AssertionError(f"a write during the optimisation was not found by the next search: {memory_id}")
        await asyncio.sleep(0.01)  # some 50 writes and searches a second
    changed = await optimising
    optimise_s = time.perf_counter() - started
    found_after = sum([(await index.search(user, v, 1))[0].id == m for m, v in written])
    # Removed again, so that recall after compares the same memories as recall before.
    await index.delete(user, [m for m, _ in written])
    return {
        "optimise_s": round(optimise_s, 2),
        "segments_changed": changed,
        "writes": len(write_s),
        "writes_found_after": found_after,
        "write": {**percentiles(write_s), "max_ms": round(max(write_s) * 1000, 3)} if write_s else None,
        "search": {**percentiles(search_s), "max_ms": round(max(search_s) * 1000, 3)} if search_s else None,
    }


def clustered(rng: np.random.Generator, n: int, centres: np.ndarray, spread: float) -> np.ndarray:
    """Unit vectors around `centres`, as embeddings of texts on a few hundred topics are."""
    noise = unit_vectors(rng, n)
    points = centres[rng.integers(len(centres), size=n)] + spread * noise
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    return points.astype(np.float32)


async def run_size(size: int, n_queries: int, vectors: str) -> dict[str, Any]:
    log(f"size {size:,}: {2 * size:,} points for {USERS} users, {vectors} vectors")
    corpus = Corpus(size, uuid.uuid4().hex[:8], seed=size)
    rng = np.random.default_rng(size + 1)
    if vectors == "clustered":
        centres = unit_vectors(rng, 200)
        corpus.vectors = clustered(rng, 2 * size, centres, 0.6)
        # queries near what the user stored: a paraphrase of a remembered fact
        picked = corpus.vectors[rng.integers(size, size=n_queries)]
        queries = picked + 0.3 * unit_vectors(rng, n_queries)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    else:
        queries = unit_vectors(rng, n_queries)
    target = corpus.vectors[:size]
    exact = [[corpus.ids[int(i)] for i in np.argsort(-(target @ q))[:TOP]] for q in queries]
    directory = Path(tempfile.mkdtemp(prefix="jyntrix-bench-edge-opt-"))
    try:
        async with QdrantEdgeVectorIndex(directory / "shard", dimension=DIM) as index:
            insert_s = await fill_vectors("qdrant edge", index, corpus)
            log("  searches before")
            before_s, before = await searches(index, corpus.target, queries)
            log("  optimising, searching and writing meanwhile")
            during = await during_optimisation(index, corpus.target, rng)
            log(f"  optimised in {during['optimise_s']} s; searches after")
            after_s, after = await searches(index, corpus.target, queries)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    ids = [[h.id for h in hits] for hits in before], [[h.id for h in hits] for hits in after]
    return {
        "size": size,
        "vectors": vectors,
        "total_points": 2 * size,
        "insert_s": round(insert_s, 2),
        "before": {**percentiles(before_s), "recall_at_20": recall(ids[0], exact)},
        "during": during,
        "after": {**percentiles(after_s), "recall_at_20": recall(ids[1], exact)},
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--vectors", default="random,clustered", help="random (HNSW's worst case), clustered or both")
    parser.add_argument("--out", type=Path, default=OUT / "edge_optimize.json")
    args = parser.parse_args()
    started = time.perf_counter()
    load_before = [round(x, 2) for x in os.getloadavg()]
    results = [
        await run_size(int(s), args.queries, kind)
        for kind in args.vectors.split(",")
        for s in args.sizes.split(",")
        if s
    ]
    report = {
        "benchmark": "edge_optimize",
        "top_k": TOP,
        "layout": "target user holds N memories; 99 other users share another N",
        "vectors": "random: seeded unit vectors, random queries; clustered: around 200 centres (spread 0.6),"
        " queries near a stored vector (noise 0.3)",
        "recall": "share of numpy's exact top 20 over the target user's vectors",
        "during": "one write, then one search that must find it, about 50 a second, while optimize() runs;"
        " those writes are deleted before the searches after",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_start": load_before,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "versions": {p: version(p) for p in ("qdrant-edge-py", "numpy")},
        "results": results,
        "total_s": round(time.perf_counter() - started, 1),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
