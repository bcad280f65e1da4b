"""Retrieval at scale: search latency of each index, and the Postgres fetch of the hits, as one user's memories grow.

For each size N the target user holds N memories and 99 other users share another N, so every search has to
leave out half of the stored points (the tenant filter matters). Vectors are seeded random unit vectors
(384-d): index timing does not depend on what the vectors mean. Texts are synthetic sentences from a small
vocabulary. Prints JSON on stdout, progress on stderr, and draws bench/out/retrieval_scale.png.

    python bench/retrieval_scale.py --sizes 1000,10000,100000 --queries 200
    python bench/retrieval_scale.py --keywords-only   # bm25s against Postgres full-text, nothing else
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from jyntrix_adapters.bm25.keyword_index import Bm25sKeywordIndex
from jyntrix_adapters.inprocess.vector_index import InProcessVectorIndex
from jyntrix_adapters.qdrant.edge_vector_index import QdrantEdgeVectorIndex
from jyntrix_adapters.qdrant.vector_index import QdrantVectorIndex
from jyntrix_domain.model import KeywordDoc, MemoryType, VectorItem

sys.path.insert(0, str(Path(__file__).parent))
from retrieval_scale_postgres import (
    bench_pgvector,
    bench_postgres_fts,
    embedded_server,
    scratch_database,
)
from scale_timing import Progress, fill_keywords, log, percentiles, timed
from synthetic_text import queries, sentences

DIM = 384
USERS = 100
TOP = 20
BATCH = 1000
OUT = Path(__file__).parent / "out"

TYPES = list(MemoryType)


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


class Corpus:
    """Memories of one size: the target user's N, and N more spread over 99 other users."""

    def __init__(self, size: int, run: str, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.target = f"bench-{run}-target"
        others = [f"bench-{run}-u{i:02d}" for i in range(USERS - 1)]
        self.owners = [self.target] * size + [others[i % len(others)] for i in range(size)]
        self.ids = [str(uuid.UUID(int=int(rng.integers(2**63)) << 64 | i)) for i in range(2 * size)]
        self.types = [TYPES[int(t)] for t in rng.integers(len(TYPES), size=2 * size)]
        self.vectors = unit_vectors(rng, 2 * size)
        self.texts = sentences(rng, 2 * size)
        self.size = size
        self.target_ids = set(self.ids[:size])

    def batches(self) -> list[tuple[str, list[int]]]:
        """(user, row numbers) in chunks of at most BATCH rows of one user."""
        by_user: dict[str, list[int]] = {}
        for row, owner in enumerate(self.owners):
            by_user.setdefault(owner, []).append(row)
        return [(user, rows[i : i + BATCH]) for user, rows in by_user.items() for i in range(0, len(rows), BATCH)]

    @property
    def users(self) -> list[str]:
        return list(dict.fromkeys(self.owners))


async def fill_vectors(name: str, index: Any, corpus: Corpus) -> float:
    progress = Progress(f"{name} points", 2 * corpus.size)
    start = time.perf_counter()
    for user, rows in corpus.batches():
        items = [VectorItem(id=corpus.ids[r], vector=corpus.vectors[r].tolist(), type=corpus.types[r]) for r in rows]
        await index.upsert(user, items)
        progress.add(len(rows))
    return time.perf_counter() - start


async def bench_vector(
    name: str, index: Any, corpus: Corpus, query_vectors: np.ndarray, n_queries: int, note: str | None = None
) -> tuple[dict[str, Any], list[list[str]]]:
    insert_s = await fill_vectors(name, index, corpus)
    await index.search(corpus.target, query_vectors[0].tolist(), TOP)  # warm caches and threads
    calls = [partial(index.search, corpus.target, q.tolist(), TOP) for q in query_vectors[:n_queries]]
    log(f"  {name}: {n_queries} searches")
    samples, results = await timed(calls)
    leaked = sum(1 for hits in results for h in hits if h.id not in corpus.target_ids)
    result: dict[str, Any] = {"insert_s": round(insert_s, 2), "queries": n_queries, **percentiles(samples)}
    result["foreign_hits"] = leaked
    if note:
        result["note"] = note
    return result, [[h.id for h in hits] for hits in results]


async def bench_bm25s(corpus: Corpus, texts: list[str], n_queries: int) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="jyntrix-bench-bm25-"))
    try:
        index = Bm25sKeywordIndex(directory)
        insert_s = await fill_keywords("bm25s", index, corpus)
        start = time.perf_counter()
        await index.search(corpus.target, texts[0], TOP)  # small users build inline, large ones in the background
        first_search_s = time.perf_counter() - start
        start = time.perf_counter()
        await index.settle()
        background_build_s = time.perf_counter() - start
        log(f"  bm25s: {n_queries} searches")
        samples, results = await timed([partial(index.search, corpus.target, t, TOP) for t in texts[:n_queries]])

        async def write_then_search(i: int) -> list[Any]:
            await index.upsert(corpus.target, [KeywordDoc(id=f"new-{i}", text=texts[i], type=MemoryType.EPISODIC)])
            return await index.search(corpus.target, texts[i], TOP)

        builds_before = dict(index.builds)
        write_samples, written = await timed([partial(write_then_search, i) for i in range(min(50, n_queries))])
        found_new = sum(1 for i, hits in enumerate(written) if f"new-{i}" in {h.id for h in hits})
        await index.settle()
        restarted = Bm25sKeywordIndex(directory)
        start = time.perf_counter()
        await restarted.search(corpus.target, texts[0], TOP)  # loads the saved index, no rebuild
        reload_s = time.perf_counter() - start
        leaked = sum(1 for hits in results for h in hits if h.id not in corpus.target_ids)
        return {
            "insert_s": round(insert_s, 2),
            "first_search_after_load_s": round(first_search_s, 3),
            "background_build_s": round(background_build_s, 3),
            "builds_after_load": builds_before,
            "write_then_search": {**percentiles(write_samples), "new_doc_found": found_new, "n": len(written)},
            "builds_after_writes": dict(index.builds),
            "restart_first_search_s": round(reload_s, 3),
            "queries": n_queries,
            **percentiles(samples),
            "mean_hits": round(float(np.mean([len(r) for r in results])), 1),
            "foreign_hits": leaked,
        }
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def bench_postgres(dsn: str, corpus: Corpus, hit_ids: list[list[str]], n_queries: int) -> dict[str, Any]:
    from jyntrix_adapters.postgres.stores import open_postgres

    stores = await open_postgres(dsn, max_size=4)
    now = datetime.now(UTC)
    try:
        start = time.perf_counter()
        # The adapter has no bulk insert; rows go in with executemany under each user's RLS scope, as the
        # adapter's own transactions do. Only the fetch below is measured through PostgresMemoryStore.
        progress = Progress("postgres rows", 2 * corpus.size)
        for user, rows in corpus.batches():
            async with stores.db.user_tx(user) as conn:
                await conn.executemany(
                    "INSERT INTO memories (user_id, id, type, content, reliability, created_at, updated_at,"
                    " valid_from) VALUES ($1, $2, $3, $4, 0.8, $5, $5, $5)",
                    [(user, corpus.ids[r], corpus.types[r].value, corpus.texts[r], now) for r in rows],
                )
            progress.add(len(rows))
        insert_s = time.perf_counter() - start
        ids = [h for h in hit_ids[:n_queries] if h]
        await stores.memories.get_many(corpus.target, ids[0])
        log(f"  postgres: {len(ids)} fetches of the top {TOP}")
        samples, results = await timed([partial(stores.memories.get_many, corpus.target, i) for i in ids])
        complete = all(len(r) == len(i) for r, i in zip(results, ids, strict=True))
        return {
            "insert_s": round(insert_s, 2),
            "queries": len(ids),
            **percentiles(samples),
            "all_rows_found": complete,
            "via": "PostgresMemoryStore.get_many",
        }
    finally:
        log("  postgres: deleting the benchmark rows")
        for user in corpus.users:
            await stores.memories.forget_user(user)
        await stores.close()


async def run_size(size: int, args: argparse.Namespace, run: str) -> dict[str, Any]:
    log(f"size {size:,}: generating {2 * size:,} memories for {USERS} users")
    corpus = Corpus(size, run, seed=size)
    rng = np.random.default_rng(size + 1)
    query_vectors = unit_vectors(rng, args.queries)
    texts = queries(rng, args.queries)
    result: dict[str, Any] = {"size": size, "total_points": 2 * size, "users": USERS, "indexes": {}}
    indexes = result["indexes"]

    if args.keywords_only:
        log("bm25s")
        indexes["bm25s"] = await bench_bm25s(corpus, texts, args.queries)
        async with scratch_database(args.pg_server) as dsn:
            log("postgres full-text (embedded Postgres 18)")
            indexes["postgres_fts"] = await bench_postgres_fts(
                dsn, corpus, texts, args.queries, args.exact_queries, args.baseline
            )
        return result

    directory = Path(tempfile.mkdtemp(prefix="jyntrix-bench-edge-"))
    try:
        log("qdrant edge")
        async with QdrantEdgeVectorIndex(directory / "shard", dimension=DIM) as edge:
            indexes["qdrant_edge"], hit_ids = await bench_vector(
                "qdrant edge", edge, corpus, query_vectors, args.queries
            )
            if args.edge_optimize:
                start = time.perf_counter()
                await edge.optimize()
                optimise_s = time.perf_counter() - start
                samples, _ = await timed([partial(edge.search, corpus.target, q.tolist(), TOP) for q in query_vectors])
                indexes["qdrant_edge_optimised"] = {
                    "optimise_s": round(optimise_s, 2),
                    "queries": args.queries,
                    **percentiles(samples),
                }
    finally:
        shutil.rmtree(directory, ignore_errors=True)

    log("qdrant-client local mode")
    local_queries = args.queries if size <= args.local_full_up_to else min(args.queries, args.local_queries)
    note = None
    if local_queries < args.queries:
        note = f"local mode brute-forces filters in Python: {local_queries} queries instead of {args.queries}"
    async with QdrantVectorIndex(location=":memory:", dimension=DIM) as local:
        indexes["qdrant_local"], _ = await bench_vector(
            "qdrant local", local, corpus, query_vectors, local_queries, note
        )

    log("in-process numpy (reference)")
    indexes["in_process_numpy"], exact_ids = await bench_vector(
        "numpy", InProcessVectorIndex(dimension=DIM), corpus, query_vectors, args.queries
    )

    log("bm25s")
    indexes["bm25s"] = await bench_bm25s(corpus, texts, args.queries)

    if args.pg_server:
        async with scratch_database(args.pg_server) as dsn:
            log("pgvector (embedded Postgres 18)")
            indexes["pgvector"] = await bench_pgvector(dsn, corpus, query_vectors, args.queries, exact_ids)
            log("postgres full-text (embedded Postgres 18)")
            indexes["postgres_fts"] = await bench_postgres_fts(dsn, corpus, texts, args.queries, args.exact_queries)

    log("postgres fetch of the top hits")
    try:
        result["postgres_fetch_top20"] = await bench_postgres(args.dsn, corpus, hit_ids, args.queries)
    except Exception as error:  # the index numbers stand on their own; report why this part is missing
        result["postgres_fetch_top20"] = {"error": f"{type(error).__name__}: {error}"}
        log(f"  postgres failed: {error}")
    return result


def version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series: dict[str, list[tuple[int, float, float]]] = {}
    for entry in results:
        for name, numbers in entry["indexes"].items():
            series.setdefault(name, []).append((entry["size"], numbers["p50_ms"], numbers["p95_ms"]))
        pg = entry.get("postgres_fetch_top20", {})
        if "p50_ms" in pg:
            series.setdefault("postgres fetch top 20", []).append((entry["size"], pg["p50_ms"], pg["p95_ms"]))
    fig, ax = plt.subplots(figsize=(8, 5))
    for name, points in series.items():
        sizes = [p[0] for p in points]
        (line,) = ax.plot(sizes, [p[1] for p in points], marker="o", label=f"{name} p50")
        ax.plot(sizes, [p[2] for p in points], marker="x", linestyle="--", color=line.get_color(), label=f"{name} p95")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(f"memories of the searched user (as many again spread over {USERS - 1} other users)")
    ax.set_ylabel(f"latency of one top-{TOP} call (ms)")
    ax.set_title(f"Jyntrix retrieval at scale ({os.cpu_count()} cores)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--local-full-up-to", type=int, default=1_000, help="largest size with all queries")
    parser.add_argument("--local-queries", type=int, default=20, help="qdrant local-mode queries above that")
    parser.add_argument("--edge-optimize", action="store_true", help="also time Edge after optimize()")
    parser.add_argument("--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--no-postgres-indexes", action="store_true", help="skip pgvector and Postgres full-text")
    parser.add_argument(
        "--keywords-only", action="store_true", help="only the keyword indexes: bm25s and Postgres full-text"
    )
    parser.add_argument(
        "--exact-queries", type=int, default=50, help="queries also run by exact BM25 over every match, for reference"
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="a checkout of another revision: its Postgres keyword adapter is timed beside this one, in turns",
    )
    parser.add_argument("--plot", type=Path, default=OUT / "retrieval_scale.png")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    run = uuid.uuid4().hex[:8]
    started = time.perf_counter()
    async with contextlib.AsyncExitStack() as stack:
        args.pg_server = None
        if args.keywords_only and args.no_postgres_indexes:
            parser.error("--keywords-only needs the Postgres indexes")
        if not args.no_postgres_indexes:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="jyntrix-bench-pg-")))
            args.pg_server = await stack.enter_async_context(embedded_server(directory))
        results = [await run_size(size, args, run) for size in sizes]
    report = {
        "benchmark": "retrieval_scale",
        "top_k": TOP,
        "dimension": DIM,
        "users": USERS,
        "layout": "target user holds N memories; 99 other users share another N",
        "vectors": "seeded random unit vectors (index timing does not depend on meaning)",
        "texts": "synthetic sentences from a small vocabulary; queries are three vocabulary words",
        "timing": "wall clock around each awaited adapter call, one call at a time, after one warm-up call",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        },
        "versions": {p: version(p) for p in ("qdrant-edge-py", "qdrant-client", "numpy", "asyncpg", "pgvector")},
        "postgres_dsn_host": args.dsn.split("@")[-1],
        "results": results,
        "total_s": round(time.perf_counter() - started, 1),
    }
    plot(results, args.plot)
    report["plot"] = str(args.plot)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
