"""VectorIndex contract: the same behaviour from every adapter the plan can choose (in-process numpy, Qdrant through
qdrant-client's local mode, Qdrant Edge, pgvector on every Postgres server at hand that has the `vector` extension),
opened as the settings open them (contracts/conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jyntrix_adapters.qdrant.vector_index import QdrantVectorIndex
from jyntrix_bootstrap.resources import in_process_storage, open_vector_index
from jyntrix_bootstrap.settings import load_settings
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import MemoryType, new_id
from jyntrix_domain.ports import VectorIndex
from testsupport.vector_items import DIM, blend, cosine, everything, item, ranked, unit

ALICE, BOB = "alice", "bob"
SEMANTIC, EPISODIC, PROFILE = MemoryType.SEMANTIC, MemoryType.EPISODIC, MemoryType.PROFILE


@pytest.fixture
def index(vector_index: VectorIndex) -> VectorIndex:
    """Each adapter the plan can choose (contracts/conftest.py)."""
    return vector_index


async def test_round_trip_finds_the_item_with_full_similarity(index: VectorIndex) -> None:
    stored = item(unit(1))
    await index.upsert(ALICE, [stored])
    hits = await index.search(ALICE, stored.vector, 5)
    assert [h.id for h in hits] == [stored.id]
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)


async def test_scores_are_cosine_similarities(index: VectorIndex) -> None:
    query = unit(2)
    items = ranked(query, 5)
    await index.upsert(ALICE, items)
    hits = {h.id: h.score for h in await index.search(ALICE, query, 5)}
    for stored in items:
        assert hits[stored.id] == pytest.approx(cosine(query, stored.vector), abs=1e-4)


async def test_results_are_ordered_best_first(index: VectorIndex) -> None:
    query = unit(3)
    items = ranked(query, 8)
    await index.upsert(ALICE, list(reversed(items)))
    hits = await index.search(ALICE, query, 8)
    assert [h.id for h in hits] == [i.id for i in items]
    assert all(a.score > b.score for a, b in itertools.pairwise(hits))


async def test_limit_keeps_the_best_matches(index: VectorIndex) -> None:
    query = unit(4)
    items = ranked(query, 10)
    await index.upsert(ALICE, items)
    assert [h.id for h in await index.search(ALICE, query, 3)] == [i.id for i in items[:3]]
    assert len(await index.search(ALICE, query, 50)) == 10
    assert await index.search(ALICE, query, 0) == []


async def test_negative_limit_is_invalid(index: VectorIndex) -> None:
    with pytest.raises(Invalid):
        await index.search(ALICE, unit(5), -1)


async def test_empty_index_returns_nothing(index: VectorIndex) -> None:
    assert await index.search(ALICE, unit(6), 10) == []


async def test_user_without_items_gets_nothing_even_when_others_have_items(index: VectorIndex) -> None:
    await index.upsert(BOB, [item(unit(7))])
    assert await index.search(ALICE, unit(7), 10) == []


async def test_upsert_of_same_id_replaces_vector_and_type(index: VectorIndex) -> None:
    first, second = unit(8), unit(9)
    memory_id = new_id()
    await index.upsert(ALICE, [item(first, SEMANTIC, memory_id)])
    await index.upsert(ALICE, [item(second, EPISODIC, memory_id)])
    hits = await index.search(ALICE, second, 10)
    assert [h.id for h in hits] == [memory_id]
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert await index.search(ALICE, second, 10, frozenset({SEMANTIC})) == []
    assert [h.id for h in await index.search(ALICE, second, 10, frozenset({EPISODIC}))] == [memory_id]


async def test_upsert_is_idempotent(index: VectorIndex) -> None:
    query = unit(10)
    items = ranked(query, 4)
    await index.upsert(ALICE, items)
    before = await index.search(ALICE, query, 10)
    await index.upsert(ALICE, items)
    after = await index.search(ALICE, query, 10)
    assert [h.id for h in after] == [h.id for h in before]
    assert [h.score for h in after] == pytest.approx([h.score for h in before], abs=1e-6)


async def test_last_write_of_an_id_in_one_batch_wins(index: VectorIndex) -> None:
    memory_id = new_id()
    await index.upsert(ALICE, [item(unit(11), id=memory_id), item(unit(12), id=memory_id)])
    hits = await index.search(ALICE, unit(12), 10)
    assert [h.id for h in hits] == [memory_id]
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)


async def test_ids_that_are_not_uuids_round_trip_unchanged(index: VectorIndex) -> None:
    await index.upsert(ALICE, [item(unit(13), id="memory:42"), item(unit(14), id="ÄÖ-ü ✓")])
    assert await everything(index, ALICE) == {"memory:42", "ÄÖ-ü ✓"}
    await index.delete(ALICE, ["memory:42"])
    assert await everything(index, ALICE) == {"ÄÖ-ü ✓"}


async def test_delete_removes_only_the_given_ids(index: VectorIndex) -> None:
    items = [item(unit(20 + i)) for i in range(4)]
    await index.upsert(ALICE, items)
    await index.delete(ALICE, [items[0].id, items[2].id])
    assert await everything(index, ALICE) == {items[1].id, items[3].id}


async def test_delete_of_unknown_ids_or_nothing_is_a_no_op(index: VectorIndex) -> None:
    stored = item(unit(30))
    await index.upsert(ALICE, [stored])
    await index.delete(ALICE, [new_id()])
    await index.delete(ALICE, [])
    await index.delete(BOB, [new_id()])
    assert await everything(index, ALICE) == {stored.id}


async def test_search_never_returns_another_users_items(index: VectorIndex) -> None:
    shared = unit(40)
    mine, theirs = item(shared), item(shared)
    await index.upsert(ALICE, [mine])
    await index.upsert(BOB, [theirs])
    assert [h.id for h in await index.search(ALICE, shared, 10)] == [mine.id]
    assert [h.id for h in await index.search(BOB, shared, 10)] == [theirs.id]


async def test_user_filter_applies_before_the_limit(index: VectorIndex) -> None:
    query = unit(41)
    await index.upsert(BOB, ranked(query, 30, seed=2000))
    far = item(blend(query, unit(42), 0.9))
    await index.upsert(ALICE, [far])
    assert [h.id for h in await index.search(ALICE, query, 1)] == [far.id]


async def test_another_user_cannot_delete_my_items(index: VectorIndex) -> None:
    stored = item(unit(43))
    await index.upsert(ALICE, [stored])
    await index.delete(BOB, [stored.id])
    assert await everything(index, ALICE) == {stored.id}


async def test_an_id_clash_never_takes_over_another_users_item(index: VectorIndex) -> None:
    original = item(unit(44))
    await index.upsert(ALICE, [original])
    await index.upsert(BOB, [item(unit(45), EPISODIC, original.id)])
    hits = await index.search(ALICE, original.vector, 10)
    assert [h.id for h in hits] == [original.id]
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert [h.id for h in await index.search(ALICE, original.vector, 10, frozenset({SEMANTIC}))] == [original.id]


@pytest.mark.parametrize("spelling", [str.lower, str.upper, lambda i: f"urn:uuid:{i}", lambda i: i])
async def test_no_id_chosen_by_one_user_hides_replaces_or_reveals_anothers(index: VectorIndex, spelling: Any) -> None:
    """Isolation by construction: the attacker squats the victim's future id (in any spelling) first."""
    victim_id = str(uuid.uuid4())
    squatted = spelling(victim_id)
    attacker_vector, victim_vector = unit(46), unit(47)
    await index.upsert("attacker", [item(attacker_vector, id=squatted)])
    before = await index.search("attacker", victim_vector, 10)
    await index.upsert("victim", [item(victim_vector, id=victim_id)])
    # Not hidden: the victim's memory is found with the victim's own vector.
    hits = await index.search("victim", victim_vector, 10)
    assert [h.id for h in hits] == [victim_id] and hits[0].score == pytest.approx(1.0, abs=1e-4)
    # Not replaced: the attacker's point keeps the attacker's vector; nor revealed: the attacker's view
    # is the same before and after the victim's write.
    after = await index.search("attacker", victim_vector, 10)
    assert (
        [(h.id, round(h.score, 4)) for h in after]
        == [(h.id, round(h.score, 4)) for h in before]
        == [(squatted, round(cosine(attacker_vector, victim_vector), 4))]
    )
    # Nor removable: deleting "its" id as the attacker leaves the victim's point.
    await index.delete("attacker", [squatted, victim_id])
    assert await everything(index, "victim", victim_vector) == {victim_id}


async def test_forget_user_removes_only_that_user(index: VectorIndex) -> None:
    alice_items = [item(unit(50 + i)) for i in range(3)]
    bob_items = [item(unit(60 + i)) for i in range(3)]
    await index.upsert(ALICE, alice_items)
    await index.upsert(BOB, bob_items)
    await index.forget_user(ALICE)
    assert await everything(index, ALICE) == set()
    assert await everything(index, BOB) == {i.id for i in bob_items}
    await index.forget_user("nobody")  # a user with nothing stored is not an error


async def test_type_filter_returns_only_those_types(index: VectorIndex) -> None:
    query = unit(70)
    semantic, episodic, profile = ranked(query, 3)
    await index.upsert(
        ALICE,
        [
            item(semantic.vector, SEMANTIC, semantic.id),
            item(episodic.vector, EPISODIC, episodic.id),
            item(profile.vector, PROFILE, profile.id),
        ],
    )
    assert [h.id for h in await index.search(ALICE, query, 10, frozenset({EPISODIC}))] == [episodic.id]
    both = await index.search(ALICE, query, 10, frozenset({SEMANTIC, PROFILE}))
    assert [h.id for h in both] == [semantic.id, profile.id]
    assert len(await index.search(ALICE, query, 10, None)) == 3
    assert await index.search(ALICE, query, 10, frozenset()) == []


async def test_type_filter_applies_before_the_limit(index: VectorIndex) -> None:
    query = unit(71)
    await index.upsert(ALICE, ranked(query, 20, EPISODIC, seed=3000))
    semantic = item(blend(query, unit(72), 0.9), SEMANTIC)
    await index.upsert(ALICE, [semantic])
    assert [h.id for h in await index.search(ALICE, query, 1, frozenset({SEMANTIC}))] == [semantic.id]


async def test_wrong_dimension_or_zero_vector_is_invalid(index: VectorIndex) -> None:
    with pytest.raises(Invalid):
        await index.upsert(ALICE, [item([1.0, 0.0, 0.0])])
    with pytest.raises(Invalid):
        await index.upsert(ALICE, [item([0.0] * DIM)])
    await index.upsert(ALICE, [item(unit(80))])
    with pytest.raises(Invalid):
        await index.search(ALICE, [1.0, 0.0], 5)


async def test_a_batch_larger_than_the_write_chunk_is_stored_whole(index: VectorIndex) -> None:
    vectors = np.random.default_rng(81).standard_normal((2500, DIM))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    items = [item([float(x) for x in row]) for row in vectors]
    await index.upsert(ALICE, items)
    assert len(await index.search(ALICE, unit(82), 3000)) == 2500


async def test_concurrent_writers_and_readers_lose_nothing(index: VectorIndex) -> None:
    batches = {
        user: [[item(unit(10_000 * n + 100 * b + i)) for i in range(10)] for b in range(10)]
        for n, user in enumerate((ALICE, BOB))
    }

    async def read(user: str) -> None:
        for _ in range(5):
            await index.search(user, unit(90), 5)
            await asyncio.sleep(0)

    writes = [index.upsert(user, batch) for user, user_batches in batches.items() for batch in user_batches]
    await asyncio.gather(*writes, read(ALICE), read(BOB))
    for user, user_batches in batches.items():
        assert await everything(index, user) == {i.id for batch in user_batches for i in batch}


async def test_concurrent_deletes_and_upserts_leave_a_consistent_index(index: VectorIndex) -> None:
    keep = [item(unit(100 + i)) for i in range(20)]
    drop = [item(unit(200 + i)) for i in range(20)]
    await index.upsert(ALICE, drop)
    await asyncio.gather(*(index.upsert(ALICE, [k]) for k in keep), *(index.delete(ALICE, [d.id]) for d in drop))
    assert await everything(index, ALICE) == {k.id for k in keep}


# -- persistence of the on-disk adapters ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _on_disk(kind: str, directory: Path) -> AsyncIterator[VectorIndex]:
    """An index keeping its data under `directory`: Qdrant Edge as the plan opens it, or qdrant-client's local
    mode on disk (a mode of the adapter that no setting selects, kept working for embedding apps)."""
    if kind == "qdrant_local_path":
        async with QdrantVectorIndex(path=str(directory / "qdrant"), dimension=DIM) as local:
            yield local
        return
    settings = load_settings({"JYNTRIX_DATA_DIR": str(directory), "VECTOR_INDEX": kind}, create_local_secret=False)
    async with contextlib.asynccontextmanager(open_vector_index)(settings, in_process_storage()) as opened:
        yield opened.adapter


@pytest.mark.parametrize("kind", ["qdrant-edge", "qdrant_local_path"])
async def test_items_survive_reopening(kind: str, tmp_path: Path) -> None:
    query = unit(300)
    items = ranked(query, 5)
    gone = item(unit(301))
    async with _on_disk(kind, tmp_path) as index:
        await index.upsert(ALICE, [*items, gone])
        await index.upsert(BOB, [item(unit(302))])
        await index.delete(ALICE, [gone.id])
        await index.forget_user(BOB)
    async with _on_disk(kind, tmp_path) as index:
        hits = await index.search(ALICE, query, 10)
        assert [h.id for h in hits] == [i.id for i in items]
        assert hits[0].score == pytest.approx(cosine(query, items[0].vector), abs=1e-4)
        assert await index.search(BOB, unit(302), 10) == []
        await index.upsert(ALICE, [item(unit(303))])  # still writable after reopening
        assert len(await index.search(ALICE, query, 10)) == 6
