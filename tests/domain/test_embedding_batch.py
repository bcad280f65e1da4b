"""BatchingEmbedder: concurrent queries share one model run; a lone query runs at once; failures reach every caller."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from jyntrix_adapters.inprocess.embedder import HashEmbedder
from jyntrix_domain.embedding_batch import BatchingEmbedder
from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.model import Vector


class GatedEmbedder:
    """A test double of the Embedder port: records each batch, and holds a run until `release` is set."""

    def __init__(self) -> None:
        self.inner = HashEmbedder()
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.fail_with: Exception | None = None

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    async def embed(self, texts: Sequence[str]) -> list[Vector]:
        self.batches.append(list(texts))
        await self.release.wait()
        if self.fail_with is not None:
            raise self.fail_with
        return await self.inner.embed(texts)

    async def embed_query(self, text: str, *, user_id: str | None = None) -> Vector:
        raise AssertionError("the batcher embeds queries through embed()")


def start(batching: BatchingEmbedder, texts: list[str]) -> list[asyncio.Task[Vector]]:
    return [asyncio.create_task(batching.embed_query(t, user_id=f"user-{n}")) for n, t in enumerate(texts)]


async def test_a_lone_query_runs_at_once_and_gets_the_inner_vector() -> None:
    inner = GatedEmbedder()
    batching = BatchingEmbedder(inner)
    vector = await batching.embed_query("Where do I live?", user_id="alice")
    assert vector == (await HashEmbedder().embed(["Where do I live?"]))[0]
    assert inner.batches == [["Where do I live?"]]


async def test_queries_arriving_while_a_run_is_busy_share_the_next_run() -> None:
    inner = GatedEmbedder()
    batching = BatchingEmbedder(inner)
    inner.release.clear()
    first = start(batching, ["first"])
    await asyncio.sleep(0)
    others = start(batching, [f"q{i}" for i in range(5)])
    await asyncio.sleep(0)
    inner.release.set()
    results = await asyncio.gather(*first, *others)
    assert inner.batches == [["first"], ["q0", "q1", "q2", "q3", "q4"]]
    expected = await HashEmbedder().embed(["first", "q0", "q1", "q2", "q3", "q4"])
    assert results == expected
    assert [len(run) for run in inner.batches] == [1, 5]


async def test_a_run_takes_at_most_max_batch_queries() -> None:
    inner = GatedEmbedder()
    batching = BatchingEmbedder(inner, max_batch=2)
    inner.release.clear()
    tasks = start(batching, [f"q{i}" for i in range(5)])
    await asyncio.sleep(0)
    inner.release.set()
    await asyncio.gather(*tasks)
    assert [len(b) for b in inner.batches] == [2, 2, 1]


async def test_a_failed_run_fails_each_of_its_queries_and_the_next_run_still_goes() -> None:
    inner = GatedEmbedder()
    batching = BatchingEmbedder(inner)
    inner.fail_with = Unavailable("model gone")
    inner.release.clear()
    failing = start(batching, ["q0", "q1", "q2"])
    await asyncio.sleep(0)
    inner.release.set()
    for task in failing:
        with pytest.raises(Unavailable):
            await task
    inner.fail_with = None
    assert len(await batching.embed_query("after")) == inner.dimension


async def test_a_caller_that_gives_up_leaves_the_others_their_vectors() -> None:
    inner = GatedEmbedder()
    batching = BatchingEmbedder(inner)
    inner.release.clear()
    (busy,) = start(batching, ["busy"])
    await asyncio.sleep(0)
    quitter, stayer = start(batching, ["quitter", "stayer"])
    await asyncio.sleep(0)
    quitter.cancel()
    inner.release.set()
    await busy
    assert len(await stayer) == inner.dimension
    with pytest.raises(asyncio.CancelledError):
        await quitter
    assert inner.batches == [["busy"], ["stayer"]]


async def test_documents_pass_through_as_one_call() -> None:
    inner = GatedEmbedder()
    batching = BatchingEmbedder(inner)
    assert len(await batching.embed(["a", "b", "c"])) == 3
    assert inner.batches == [["a", "b", "c"]]
    assert batching.dimension == inner.dimension


def test_max_batch_must_be_positive() -> None:
    with pytest.raises(Invalid):
        BatchingEmbedder(HashEmbedder(), max_batch=0)
