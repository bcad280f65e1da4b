from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.support.index_terms import keyword_terms
from jyntrix_domain.analytics import AnalyticsService
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.memories import NewMemory
from jyntrix_domain.model import USER_NODE, Hit, MemoryType, SpanKind, UserId, Vector, VectorItem
from jyntrix_domain.ranking import RankedMemory, RankFormula
from jyntrix_domain.retrieval import RetrievalConfig, RetrievalResult, feedback_terms, retrieval_config_for
from jyntrix_domain.signals import SIGNAL_NAMES
from tests.domain.kit import Kit, relation_memory

STRATEGIES = ("vector", "keyword", "graph", "profile", "recent")


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


async def create_each(kit: Kit, user: str, *memories: NewMemory) -> None:
    """Create the memories one by one, in order, as separate writes (not one bulk import)."""
    for memory in memories:
        await kit.memories.create(user, memory)


def graph_matches(result: RetrievalResult) -> list[RankedMemory]:
    """The results the graph strategy found, in rank order."""
    return [r for r in result.memories if "graph" in r.match_types]


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
    kit.retrieval._ports = replace(kit.ports, vectors=BrokenVectorIndex())
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
    kit.retrieval._ports = replace(kit.ports, vectors=SlowVectorIndex())
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


async def test_superseded_memories_are_history_found_below_the_current_truth() -> None:
    kit = Kit()
    [paris] = await seed(kit, "alice", "The user lives in Paris")
    await kit.memories.supersede("alice", paris, NewMemory(content="The user lives in Berlin"))
    result = await kit.retrieval.retrieve("alice", "where does the user live, Paris?")
    found = {r.memory.content: r for r in result.memories}
    assert found["The user lives in Berlin"].current and not found["The user lives in Paris"].current
    assert found["The user lives in Berlin"].breakdown.signals.standing == 1.0
    assert found["The user lives in Paris"].breakdown.signals.standing == 0.0
    now = await kit.retrieval.retrieve("alice", "where does the user live?")
    assert now.memories[0].memory.content == "The user lives in Berlin"
    # Asked about before, the ended one stands first.
    before = await kit.retrieval.retrieve("alice", "where did the user live before?")
    assert before.memories[0].memory.content == "The user lives in Paris"


async def test_as_of_searches_the_memory_as_it_stood_then() -> None:
    kit = Kit()
    [paris] = await seed(kit, "alice", "The user lives in Paris")
    then = kit.clock.now()
    kit.clock.advance(timedelta(days=10))
    await kit.memories.supersede("alice", paris, NewMemory(content="The user lives in Berlin"))
    kit.clock.advance(timedelta(days=10))
    await seed(kit, "alice", "The user lives near the river")
    result = await kit.retrieval.retrieve("alice", "where does the user live?", as_of=then + timedelta(days=1))
    found = {r.memory.content: r.current for r in result.memories}
    # Then, Paris was current, Berlin not yet said, and the river not at all.
    assert found == {"The user lives in Paris": True}


async def test_graph_strategy_reaches_memories_through_entities() -> None:
    kit = Kit()
    await kit.memories.create("alice", NewMemory(content="My sister's name is Anna", entities=("Anna",)))
    result = await kit.retrieval.retrieve("alice", "What does Anna like?")
    assert [r.memory.content for r in graph_matches(result)] == ["My sister's name is Anna"]


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
        expected = sum(getattr(b.weights, name) * getattr(b.signals, name) for name in SIGNAL_NAMES)
        assert abs(ranked.score - expected) < 1e-9
        assert b.contributions == b.signals.weighted(b.weights)
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
    await create_each(
        kit,
        "alice",
        relation_memory("The user's sister is Anna", USER_NODE, "sister", "Anna"),
        relation_memory("The user lives in Berlin", USER_NODE, "lives_in", "Berlin"),
    )
    result = await kit.retrieval.retrieve("alice", "What does Anna do?")
    assert [r.memory.content for r in graph_matches(result)] == ["The user's sister is Anna"]


async def test_graph_reaches_an_entity_two_hops_away() -> None:
    kit = Kit()
    await create_each(
        kit,
        "alice",
        relation_memory("Anna works at Siemens", "Anna", "works_at", "Siemens"),
        relation_memory("Siemens is based in Munich", "Siemens", "based_in", "Munich"),
        NewMemory(content="Munich has a great beer garden", entities=("Munich",)),
    )
    result = await kit.retrieval.retrieve("alice", "Tell me about Anna")
    graph = {r.memory.content: r.breakdown.signals.graph for r in graph_matches(result)}
    assert set(graph) == {"Anna works at Siemens", "Siemens is based in Munich", "Munich has a great beer garden"}
    # Its own signal now (the seed carried it in the keyword slot): 1 for the named entity, halved per hop.
    assert graph == {
        "Anna works at Siemens": 1.0,
        "Siemens is based in Munich": 0.5,
        "Munich has a great beer garden": 0.25,
    }


async def test_consolidation_lookups_are_not_counted_as_chat_strategy_runs() -> None:
    kit = Kit()
    await seed(kit, "alice", "The user likes jazz")
    turns = ["My sister Maya lives in Lisbon. I work as a nurse.", "I moved to Porto. I love surfing."]
    for text in turns:
        [_ async for _ in kit.chat.send_message_stream("alice", text)]
    extraction = ExtractionService(kit.conversation_ports, memories=kit.memories, extractor=DeterministicExtractor())
    extracted = 0
    for task in kit.enqueued:
        report = await extraction.extract("alice", task.conversation_id, task.message_ids)
        extracted += report.added
    assert extracted >= 2  # consolidation looked up similar memories for each of these
    await kit.emitter.flush()
    now = kit.clock.now()
    stats = await AnalyticsService(kit.sink, kit.clock).strategies(now - timedelta(hours=1), now + timedelta(hours=1))
    assert {s.name: s.runs for s in stats} == dict.fromkeys(STRATEGIES, len(turns))


async def test_a_lookup_that_is_not_recorded_still_ranks_the_same() -> None:
    kit = Kit()
    await seed(kit, "alice", "The user lives in Berlin", "The user likes jazz")
    recorded = await kit.retrieval.retrieve("alice", "Berlin jazz")
    quiet = await kit.retrieval.retrieve("alice", "Berlin jazz", record=False)
    assert [(r.memory.id, r.score) for r in quiet.memories] == [(r.memory.id, r.score) for r in recorded.memories]
    await kit.emitter.flush()
    now = kit.clock.now()
    spans = await kit.sink.query(now - timedelta(hours=1), now + timedelta(hours=1), kind=SpanKind.STRATEGY.value)
    assert len(spans) == len(STRATEGIES)


async def test_the_seed_formula_carries_the_graph_strength_in_the_keyword_slot() -> None:
    kit = Kit()
    kit.retrieval._config = retrieval_config_for(RankFormula.SEED, RetrievalConfig(strategy_timeout_s=0.5))
    await kit.memories.create("alice", NewMemory(content="Anna works at Siemens", entities=("Anna", "Siemens")))
    result = await kit.retrieval.retrieve("alice", "Tell me about Anna")
    [found] = graph_matches(result)
    assert (found.breakdown.signals.keyword, found.breakdown.signals.graph) == (1.0, 0.0)


async def test_a_memory_from_the_time_the_query_names_gets_the_time_signal() -> None:
    kit = Kit()
    now = kit.clock.now()
    await kit.memories.bulk_import(
        "alice",
        [
            NewMemory(
                content="Went hiking in the hills", type=MemoryType.EPISODIC, created_at=now - timedelta(hours=12)
            ),
            NewMemory(content="Went hiking by the lake", type=MemoryType.EPISODIC, created_at=now - timedelta(days=20)),
        ],
    )
    result = await kit.retrieval.retrieve("alice", "where did I go hiking yesterday?")
    time = {r.memory.content: r.breakdown.signals.time for r in result.memories}
    assert time == {"Went hiking in the hills": 1.0, "Went hiking by the lake": 0.0}
    assert result.memories[0].memory.content == "Went hiking in the hills"
    assert "time" in result.memories[0].match_types


def test_feedback_terms_are_the_new_words_most_top_hits_share() -> None:
    texts = ["Max the puppy likes the beach", "The puppy Max chews shoes", "A beach day with Max", "Shoes on sale"]
    assert feedback_terms("puppy", texts, 5, keyword_terms) == ["max", "beach", "shoes"]
    assert feedback_terms("puppy", texts, 1, keyword_terms) == ["max"]
    assert feedback_terms("puppy max beach shoes", texts, 5, keyword_terms) == []


async def test_pseudo_relevance_feedback_finds_what_the_best_hits_talk_about() -> None:
    async def keyword_found(prf_terms: int) -> set[str]:
        kit = Kit()
        kit.retrieval._config = RetrievalConfig(strategy_timeout_s=0.5, prf_terms=prf_terms, prf_docs=2)
        await seed(kit, "alice", "Caroline adopted a puppy named Biscuit", "Biscuit the puppy sleeps all day")
        await seed(kit, "alice", "Biscuit chewed the sofa again", "The sofa is new")
        result = await kit.retrieval.retrieve("alice", "puppy")
        return {r.memory.content for r in result.memories if "keyword" in r.match_types}

    assert await keyword_found(0) == {"Caroline adopted a puppy named Biscuit", "Biscuit the puppy sleeps all day"}
    assert await keyword_found(2) == {
        "Caroline adopted a puppy named Biscuit",
        "Biscuit the puppy sleeps all day",
        "Biscuit chewed the sofa again",
    }
