"""Qdrant Edge optimises in the background: searches and writes go on meanwhile, nothing is lost on a crash.

The optimiser child is held at a gate (a file the test creates) where a test needs an optimisation in progress,
so "during" never depends on timing.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from jyntrix_adapters.qdrant.edge_optimize import ACTIVE_FILE
from jyntrix_adapters.qdrant.edge_vector_index import QdrantEdgeVectorIndex
from jyntrix_domain.model import MemoryType, VectorItem

DIM = 32
ALICE, BOB = "alice", "bob"
ROOT = Path(__file__).resolve().parents[3]

# Waits for the gate file, then runs the real optimiser on the directory it is given.
GATED = (
    "import pathlib, sys, time\n"
    "gate = pathlib.Path(sys.argv[1])\n"
    "while not gate.exists(): time.sleep(0.02)\n"
    "from jyntrix_adapters.qdrant.edge_optimize import main\n"
    "raise SystemExit(main(sys.argv[2:]))\n"
)


def vectors(n: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, DIM))
    normed: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return normed


def items(prefix: str, n: int, seed: int) -> list[VectorItem]:
    return [
        VectorItem(id=f"{prefix}{i}", vector=v.tolist(), type=MemoryType.SEMANTIC)
        for i, v in enumerate(vectors(n, seed))
    ]


def gated(tmp_path: Path) -> tuple[Path, tuple[str, ...]]:
    gate = tmp_path / "gate"
    return gate, (sys.executable, "-c", GATED, str(gate))


def generations(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir() if p.name.startswith("gen-"))


async def until(predicate: object, bound_s: float = 60.0) -> None:
    for _ in range(int(bound_s / 0.02)):
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met")


async def test_searches_and_writes_during_an_optimisation_succeed_and_see_the_writes(tmp_path: Path) -> None:
    gate, command = gated(tmp_path)
    stored = items("m", 400, seed=1)
    async with QdrantEdgeVectorIndex(tmp_path / "edge", dimension=DIM, optimizer_command=command) as index:
        await index.upsert(ALICE, stored)
        await index.upsert(BOB, items("b", 50, seed=2))
        optimising = asyncio.create_task(index.optimize())
        await until(lambda: index.optimizing and generations(tmp_path / "edge"))

        added = items("new", 5, seed=3)
        await index.upsert(ALICE, added)
        await index.delete(ALICE, ["m0", "m1"])
        await index.forget_user(BOB)
        assert index.optimizing  # all of the above happened while the copy waited at the gate
        for item in added:
            assert (await index.search(ALICE, item.vector, 1))[0].id == item.id
        assert {h.id for h in await index.search(ALICE, stored[0].vector, 5)}.isdisjoint({"m0", "m1"})
        assert await index.search(BOB, items("b", 1, seed=2)[0].vector, 5) == []

        gate.touch()
        assert await optimising in (True, False)  # small segments may need no change; the copy serves either way
        assert not index.optimizing
        for item in added:
            assert (await index.search(ALICE, item.vector, 1))[0].id == item.id
        assert {h.id for h in await index.search(ALICE, stored[0].vector, 5)}.isdisjoint({"m0", "m1"})
        assert await index.search(BOB, items("b", 1, seed=2)[0].vector, 5) == []
        assert await index.count() == 400 - 2 + 5
        # a write after the swap goes to the optimised shard
        late = items("late", 1, seed=4)
        await index.upsert(ALICE, late)
        assert (await index.search(ALICE, late[0].vector, 1))[0].id == "late0"
    active = json.loads((tmp_path / "edge" / ACTIVE_FILE).read_text())["dir"]
    assert generations(tmp_path / "edge") == [active]
    assert not (tmp_path / "edge" / "segments").exists()  # the unoptimised shard is gone from the top


async def test_results_are_the_same_set_after_an_optimisation(tmp_path: Path) -> None:
    stored = items("m", 600, seed=5)
    queries = vectors(20, seed=6)
    async with QdrantEdgeVectorIndex(tmp_path / "edge", dimension=DIM) as index:
        await index.upsert(ALICE, stored)
        await index.upsert(BOB, items("b", 600, seed=7))
        before = [{h.id for h in await index.search(ALICE, q.tolist(), 20)} for q in queries]
        exact_before = [(await index.search(ALICE, s.vector, 1))[0].id for s in stored[:50]]
        await index.optimize()
        after = [{h.id for h in await index.search(ALICE, q.tolist(), 20)} for q in queries]
        exact_after = [(await index.search(ALICE, s.vector, 1))[0].id for s in stored[:50]]
    assert after == before
    assert exact_after == exact_before == [s.id for s in stored[:50]]


async def test_it_optimises_past_the_size_and_again_after_more_writes(tmp_path: Path) -> None:
    path = tmp_path / "edge"
    async with QdrantEdgeVectorIndex(path, dimension=DIM, optimize_points=300, optimize_after_writes=200) as index:
        await index.upsert(ALICE, items("a", 299, seed=8))
        assert not index.optimizing
        await index.upsert(ALICE, items("b", 1, seed=9))
        assert index.optimizing
        await index.optimize()  # waits for the one in progress
        first = generations(path)
        assert len(first) == 1
        await index.upsert(ALICE, items("c", 150, seed=10))
        assert not index.optimizing
        await index.upsert(ALICE, items("d", 50, seed=11))
        assert index.optimizing
        await index.optimize()
        second = generations(path)
        assert len(second) == 1 and second != first
        assert await index.count() == 500


async def test_a_failed_optimisation_leaves_the_shard_serving(tmp_path: Path) -> None:
    broken = (sys.executable, "-c", "import sys; sys.exit(3)")
    stored = items("m", 50, seed=12)
    async with QdrantEdgeVectorIndex(tmp_path / "edge", dimension=DIM, optimizer_command=broken) as index:
        await index.upsert(ALICE, stored)
        with pytest.raises(RuntimeError, match="exited with 3"):
            await index.optimize()
        await index.upsert(ALICE, items("after", 1, seed=13))
        assert (await index.search(ALICE, stored[3].vector, 1))[0].id == "m3"
        assert await index.count() == 51
    assert generations(tmp_path / "edge") == []
    assert not (tmp_path / "edge" / ACTIVE_FILE).exists()


async def test_closing_during_an_optimisation_drops_the_copy_and_keeps_every_write(tmp_path: Path) -> None:
    _gate, command = gated(tmp_path)  # never opened: close() must not wait for the optimiser
    path = tmp_path / "edge"
    index = QdrantEdgeVectorIndex(path, dimension=DIM, optimizer_command=command)
    await index.upsert(ALICE, items("m", 100, seed=14))
    optimising = asyncio.create_task(index.optimize())
    await until(lambda: index.optimizing and generations(path))
    await index.upsert(ALICE, items("during", 3, seed=15))
    await index.close()
    with pytest.raises(asyncio.CancelledError):
        await optimising
    assert generations(path) == []
    async with QdrantEdgeVectorIndex(path, dimension=DIM) as reopened:
        assert await reopened.count() == 103


async def test_an_optimised_shard_is_loaded_again_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "edge"
    stored = items("m", 200, seed=16)
    async with QdrantEdgeVectorIndex(path, dimension=DIM) as index:
        await index.upsert(ALICE, stored)
        await index.optimize()
        await index.upsert(ALICE, items("later", 2, seed=17))
    async with QdrantEdgeVectorIndex(path, dimension=DIM) as reopened:
        assert await reopened.count() == 202
        assert (await reopened.search(ALICE, stored[7].vector, 1))[0].id == "m7"


# A process that writes, starts an optimisation held at the gate, writes more, says so, and waits to be killed.
CRASHING = """
import asyncio, sys
import numpy as np
from jyntrix_adapters.qdrant.edge_vector_index import QdrantEdgeVectorIndex
from jyntrix_domain.model import MemoryType, VectorItem

path, gate, dim = sys.argv[1], sys.argv[2], int(sys.argv[3])
GATED = sys.argv[4]

def items(prefix, n, seed):
    rows = np.random.default_rng(seed).standard_normal((n, dim))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return [VectorItem(id=f"{prefix}{i}", vector=r.tolist(), type=MemoryType.SEMANTIC) for i, r in enumerate(rows)]

async def main():
    index = QdrantEdgeVectorIndex(path, dimension=dim, optimizer_command=(sys.executable, "-c", GATED, gate))
    await index.upsert("alice", items("m", 300, 1))
    optimising = asyncio.create_task(index.optimize())
    while not index.optimizing:
        await asyncio.sleep(0.01)
    await index.upsert("alice", items("during", 20, 2))
    await index.delete("alice", ["m0"])
    print("acknowledged", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


@pytest.mark.slow
async def test_a_crash_during_an_optimisation_loses_no_acknowledged_write(tmp_path: Path) -> None:
    path, gate = tmp_path / "edge", tmp_path / "gate"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CRASHING, str(path), str(gate), str(DIM), GATED, stdout=subprocess.PIPE, cwd=ROOT
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), 120)
        assert line.decode().strip() == "acknowledged"
        assert generations(path)  # the copy being optimised
        gate.touch()  # the optimiser child now runs; its parent dies under it
        os.kill(child.pid, signal.SIGKILL)
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()
    async with QdrantEdgeVectorIndex(path, dimension=DIM) as reopened:
        assert await reopened.count() == 300 + 20 - 1
        hits = await reopened.search(ALICE, items("during", 1, seed=2)[0].vector, 1)
        assert hits[0].id == "during0"
        assert generations(path) == []  # the interrupted copy was removed at load
        await reopened.optimize()
        assert await reopened.count() == 319
