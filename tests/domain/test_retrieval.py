from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

from jyntrix_domain.memories import NewMemory
from jyntrix_domain.model import USER_NODE, Hit, MemoryType, Relation, UserId, Vector, VectorItem
from tests.domain.kit import Kit


class BrokenVectorIndex:
    async def upsert(self, user_id: UserId, items: Sequence[VectorItem]) -> None:
        return None

    async def delete(self, user_id: UserId, ids: Sequence[str]) -> None:
        return None

    async def forget_user(self, user_id: UserId) -> None:
        return None

    async def search(
        self, user_id: UserId, vector: Vector, limit: int, types: frozenset[MemoryType] | None = None
    ) -> list[Hit]:
        raise ConnectionError("vector backend is down")


class SlowVectorIndex(BrokenVectorIndex):
    async def search(
        self, user_id: UserId, vector: Vector, limit: int, types: frozenset[MemoryType] | None = None
    ) -> list[Hit]:
        await asyncio.sleep(30)
        return []


async def seed(kit: Kit, user: str, *facts: str, type: MemoryType = MemoryType.SEMANTIC) -> list[str]:
    created = await kit.memories.bulk_import(user, [NewMemory(content=f, type=type) for f in facts])
    return [m.id for m in created]


async def test_finds_the_relevant_memory_first() -> None:
    kit = Kit()
    await seed(kit, "alice", "The user lives in Berlin", "The user likes jazz music", "The user's dog is called Rex")
    result = await kit.retrieval.retrieve("alice", "Where do I live? Berlin or somewhere else")
    assert result.memories[0].memory.content == "The user lives in Berlin"
    assert {"keyword", "vector"} <= result.memories[0].match_types


async def test_another_users_memories_never_appear() -> None:
    kit = Kit()
    mine = set(await seed(kit, "alice", "The user lives in Berlin"))
    theirs = set(await seed(kit, "bob", "The user lives in Berlin too", "Bob's sister Anna lives in Berlin"))
    await seed(kit, "bob", "Anna is a profile fact of bob", type=MemoryType.PROFILE)
    await seed(kit, "bob", "Bob went to Berlin yesterday", type=MemoryType.EPISODIC)
    for query in ("Berlin", "Where does Anna live?", "what did I do yesterday", "who am I"):
        result = await kit.retrieval.retrieve("alice", query)
        ids = {r.memory.id for r in result.memories}
        assert not ids & theirs
        assert all(r.memory.user_id == "alice" for r in result.memories)
    assert mine <= {r.memory.id for r in (await kit.retrieval.retrieve("alice", "Berlin")).memories}


async def test_a_failing_strategy_is_recorded_and_skipped() -> None:
    kit = Kit()
    kit.retrieval._vectors = BrokenVectorIndex()
    await seed(kit, "alice", "The user lives in Berlin")
    result = await kit.retrieval.retrieve("alice", "Berlin")
    assert [r.memory.content for r in result.memories] == ["The user lives in Berlin"]
    outcomes = {o.name: o for o in result.strategies}
    assert outcomes["vector"].status == "error"
    assert "vector backend is down" in (outcomes["vector"].error or "")
    assert outcomes["keyword"].status == "ok"
    assert outcomes["keyword"].hits == 1


async def test_a_slow_strategy_times_out_without_failing_retrieval() -> None:
    kit = Kit()
    kit.retrieval._vectors = SlowVectorIndex()
    await seed(kit, "alice", "The user lives in Berlin")
    result = await kit.retrieval.retrieve("alice", "Berlin")
    outcomes = {o.name: o for o in result.strategies}
    assert outcomes["vector"].status == "timeout"
    assert [r.memory.content for r in result.memories] == ["The user lives in Berlin"]


async def test_every_strategy_runs_and_is_tracked_as_a_span() -> None:
    kit = Kit()
    await seed(kit, "alice", "The user lives in Berlin")
    result = await kit.retrieval.retrieve("alice", "Berlin")
    assert {o.name for o in result.strategies} == {"vector", "keyword", "graph", "profile", "recent"}
    await kit.emitter.flush()
    spans = await kit.sink.query(kit.clock.now() - timedelta(days=1), kit.clock.now() + timedelta(days=1))
    assert {s.name for s in spans} == {"vector", "keyword", "graph", "profile", "recent"}
    assert all(s.kind == "strategy" for s in spans)


async def test_superseded_memories_are_not_returned() -> None:
    kit = Kit()
    [paris] = await seed(kit, "alice", "The user lives in Paris")
    await kit.memories.supersede("alice", paris, NewMemory(content="The user lives in Berlin"))
    result = await kit.retrieval.retrieve("alice", "where does the user live, Paris?")
    contents = [r.memory.content for r in result.memories]
    assert "The user lives in Berlin" in contents
    assert "The user lives in Paris" not in contents


async def test_graph_strategy_reaches_memories_through_entities() -> None:
    kit = Kit()
    await kit.memories.create("alice", NewMemory(content="My sister's name is Anna", entities=("Anna",)))
    result = await kit.retrieval.retrieve("alice", "What does Anna like?")
    graph = [r for r in result.memories if "graph" in r.match_types]
    assert [r.memory.content for r in graph] == ["My sister's name is Anna"]


async def test_profile_memories_come_back_even_without_a_lexical_match() -> None:
    kit = Kit()
    await seed(kit, "alice", "The user's name is Maria", type=MemoryType.PROFILE)
    result = await kit.retrieval.retrieve("alice", "tell me something nice")
    assert [r.memory.content for r in result.memories] == ["The user's name is Maria"]
    assert result.memories[0].match_types == frozenset({"profile"})


async def test_each_result_explains_its_score() -> None:
    kit = Kit()
    await seed(kit, "alice", "The user lives in Berlin", "The user likes jazz")
    result = await kit.retrieval.retrieve("alice", "Berlin jazz")
    for ranked in result.memories:
        b = ranked.breakdown
        w = b.weights
        expected = (
            w.keyword * b.keyword
            + w.vector * b.vector
            + w.reliability * b.reliability
            + w.recency * b.recency
            + w.frequency * b.frequency
        )
        assert abs(ranked.score - expected) < 1e-9
        assert abs(b.total - ranked.score) < 1e-9


async def test_type_filter_is_applied_to_every_strategy() -> None:
    kit = Kit()
    await seed(kit, "alice", "The user lives in Berlin")
    await seed(kit, "alice", "The user visited Berlin last spring", type=MemoryType.EPISODIC)
    result = await kit.retrieval.retrieve("alice", "Berlin", types=frozenset({MemoryType.EPISODIC}))
    assert [r.memory.type for r in result.memories] == [MemoryType.EPISODIC]


async def test_time_reference_brings_episodes_of_that_range() -> None:
    kit = Kit()
    now = kit.clock.now()
    await kit.memories.bulk_import(
        "alice",
        [
            NewMemory(content="Went hiking", type=MemoryType.EPISODIC, created_at=now - timedelta(hours=12)),
            NewMemory(content="Went swimming", type=MemoryType.EPISODIC, created_at=now - timedelta(days=20)),
        ],
    )
    result = await kit.retrieval.retrieve("alice", "what did I do yesterday?")
    recent = [r.memory.content for r in result.memories if "recent" in r.match_types]
    assert recent == ["Went hiking"]


async def test_graph_does_not_walk_through_the_users_own_node() -> None:
    kit = Kit()
    await kit.memories.create(
        "alice",
        NewMemory(
            content="The user's sister is Anna",
            entities=("Anna",),
            relations=(Relation(source=USER_NODE, predicate="sister", target="Anna"),),
        ),
    )
    await kit.memories.create(
        "alice",
        NewMemory(
            content="The user lives in Berlin",
            entities=("Berlin",),
            relations=(Relation(source=USER_NODE, predicate="lives_in", target="Berlin"),),
        ),
    )
    result = await kit.retrieval.retrieve("alice", "What does Anna do?")
    graph = [r.memory.content for r in result.memories if "graph" in r.match_types]
    assert graph == ["The user's sister is Anna"]


async def test_graph_reaches_an_entity_two_hops_away() -> None:
    kit = Kit()
    await kit.memories.create(
        "alice",
        NewMemory(
            content="Anna works at Siemens",
            entities=("Anna", "Siemens"),
            relations=(Relation(source="Anna", predicate="works_at", target="Siemens"),),
        ),
    )
    await kit.memories.create(
        "alice",
        NewMemory(
            content="Siemens is based in Munich",
            entities=("Siemens", "Munich"),
            relations=(Relation(source="Siemens", predicate="based_in", target="Munich"),),
        ),
    )
    await kit.memories.create("alice", NewMemory(content="Munich has a great beer garden", entities=("Munich",)))
    result = await kit.retrieval.retrieve("alice", "Tell me about Anna")
    graph = {r.memory.content: r.breakdown.keyword for r in result.memories if "graph" in r.match_types}
    assert set(graph) == {"Anna works at Siemens", "Siemens is based in Munich", "Munich has a great beer garden"}
