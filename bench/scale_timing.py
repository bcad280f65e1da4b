"""Progress and latency helpers shared by the retrieval-scale benchmark's modules."""

from __future__ import annotations

import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import numpy as np

from jyntrix_domain.model import KeywordDoc


def log(message: str) -> None:
    print(f"[retrieval_scale] {message}", file=sys.stderr, flush=True)


class Progress:
    """Logs every tenth of `total` to stderr."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self.next = label, total, 0, total / 10

    def add(self, n: int) -> None:
        self.done += n
        if self.done >= self.next or self.done == self.total:
            log(f"  {self.label}: {self.done:,}/{self.total:,}")
            self.next = (int(self.done / self.total * 10) + 1) * self.total / 10


def percentiles(samples_s: Sequence[float]) -> dict[str, float]:
    ms = np.asarray(samples_s) * 1000.0
    return {
        "p50_ms": round(float(np.percentile(ms, 50)), 3),
        "p95_ms": round(float(np.percentile(ms, 95)), 3),
        "mean_ms": round(float(ms.mean()), 3),
    }


async def timed(calls: Sequence[Callable[[], Awaitable[Any]]]) -> tuple[list[float], list[Any]]:
    samples, results = [], []
    for call in calls:
        start = time.perf_counter()
        results.append(await call())
        samples.append(time.perf_counter() - start)
    return samples, results


async def fill_keywords(name: str, index: Any, corpus: Any) -> float:
    """Upsert every document of `corpus` into the keyword `index`, user by user in batches; seconds taken."""
    progress = Progress(f"{name} documents", 2 * corpus.size)
    start = time.perf_counter()
    for user, rows in corpus.batches():
        await index.upsert(
            user, [KeywordDoc(id=corpus.ids[r], text=corpus.texts[r], type=corpus.types[r]) for r in rows]
        )
        progress.add(len(rows))
    return time.perf_counter() - start
