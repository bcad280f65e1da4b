"""Turn memories in a chat turn: stored before the answer, embedded once, never context for themselves.

Also the rules that keep a turn and its fact from competing: the fact ranks first, the context
does not spend its budget on both, consolidation never touches a turn, and deleting a
conversation forgets its turns (its facts stay).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_domain.chat_events import ContextEvent, ConversationEvent, DoneEvent
from jyntrix_domain.consolidation import Consolidator
from jyntrix_domain.conversations import ConversationService
from jyntrix_domain.fact_candidates import FactCandidate
from jyntrix_domain.memories import NewMemory
from jyntrix_domain.model import MemoryFilter, MemoryKind, MemoryType, UserId, Vector
from jyntrix_domain.stand_ins import FACT_BEFORE_TURN
from jyntrix_domain.turn_places import turn_place
from jyntrix_domain.turns import turn_memory_id
from tests.domain.kit import Kit

USER = "alice"


class CountingEmbedder:
    """The kit's embedder, counting query embeddings."""

    def __init__(self, kit: Kit) -> None:
        self.inner = kit.embedder
        self.queries: list[str] = []

    async def embed_query(self, text: str, *, user_id: UserId | None = None) -> Vector:
        self.queries.append(text)
        return await self.inner.embed_query(text)

    async def embed_documents(self, texts: Sequence[str], *, user_id: UserId | None = None) -> list[Vector]:
        return await self.inner.embed_documents(texts)


async def chat(kit: Kit, text: str, conversation_id: str | None = None) -> list[object]:
    return [e async for e in kit.chat.send_message_stream(USER, text, conversation_id)]


async def test_the_turn_memory_is_stored_before_the_answer_and_the_message_embedded_once() -> None:
    kit = Kit()
    counting = CountingEmbedder(kit)
    counted = replace(kit.ports, embedder=counting)
    kit.retrieval._ports = counted
    kit.memories._indexer._ports = counted
    stream = kit.chat.send_message_stream(USER, "The spare key is under the blue flowerpot.")
    first = await anext(stream)
    assert isinstance(first, ConversationEvent)
    turns = await kit.memories.list(USER, MemoryFilter(kinds=frozenset({MemoryKind.TURN})))
    assert [(t.content, t.source_message_ids) for t in turns] == [
        ("The spare key is under the blue flowerpot.", (first.user_message_id,))
    ]
    rest = [e async for e in stream]
    assert isinstance(rest[-1], DoneEvent)
    assert counting.queries == ["The spare key is under the blue flowerpot."]


async def test_a_turn_is_never_context_for_itself_nor_for_turns_that_hold_it_in_history() -> None:
    kit = Kit()
    events = await chat(kit, "The spare key is under the blue flowerpot.")
    own = turn_memory_id(USER, events[0].user_message_id)  # type: ignore[attr-defined]
    context = next(e for e in events if isinstance(e, ContextEvent))
    assert own not in {m.memory_id for m in context.memories}
    conversation = events[0].id  # type: ignore[attr-defined]
    later = await chat(kit, "Where is the spare key, under the flowerpot?", conversation)
    context = next(e for e in later if isinstance(e, ContextEvent))
    assert own not in {m.memory_id for m in context.memories}  # the history holds that message
    elsewhere = await chat(kit, "Where is the spare key, under the flowerpot?")
    context = next(e for e in elsewhere if isinstance(e, ContextEvent))
    assert own in {m.memory_id for m in context.memories}  # a new conversation recalls it


async def test_a_fact_ranks_before_its_turn_and_the_context_keeps_the_turn_only_when_it_answers() -> None:
    kit = Kit()
    events = await chat(kit, "Our dog Biscuit is a border collie.")
    message_id = events[0].user_message_id  # type: ignore[attr-defined]
    fact = await kit.memories.create(
        USER,
        NewMemory(content="The user's dog Biscuit is a collie", reliability=0.5, source_message_ids=(message_id,)),
    )
    ranked = await kit.memories.search(USER, "Our dog Biscuit is a border collie")
    ids = [r.memory.id for r in ranked]
    turn = turn_memory_id(USER, message_id)
    assert ids.index(fact.id) < ids.index(turn)
    placed_fact, its_turn = ranked[ids.index(fact.id)], ranked[ids.index(turn)]
    # Moved by the rule, not by its own signals: its score is raised to its turn's, and says so.
    assert placed_fact.breakdown.contributions.total() < its_turn.score == placed_fact.score
    assert placed_fact.breakdown.adjusted_by == FACT_BEFORE_TURN
    context = next(e for e in await chat(kit, "Tell me about Biscuit the border collie") if isinstance(e, ContextEvent))
    placed = {m.memory_id: m for m in context.memories}
    # The turn says more than its fact ("border collie"), and answers the question: kept beside it.
    assert fact.id in placed and turn in placed and placed[turn].relevant
    # tests/domain/test_context.py: one that does not answer is left out where its fact is placed.


async def test_consolidation_never_updates_or_supersedes_a_turn() -> None:
    kit = Kit()
    events = await chat(kit, "I live in Berlin")
    turn = turn_memory_id(USER, events[0].user_message_id)  # type: ignore[attr-defined]
    consolidator = Consolidator(kit.memories, EnglishLanguage())
    candidate = FactCandidate(content="I live in Berlin", type=MemoryType.EPISODIC)
    found = await consolidator.find(USER, candidate)
    assert turn not in {m.id for m in (*found.holders, *found.similar, *found.ended)}
    decision = await consolidator.apply(USER, await consolidator.decide(USER, candidate))
    # The same words are one memory: the turn answers for the candidate, and stays the turn it was.
    assert decision.memory_id == turn and turn not in decision.replaced
    kept = await kit.memories.get(USER, turn)
    assert kept.is_current and kept.content == "I live in Berlin" and kept.kind is MemoryKind.TURN


async def test_deleting_a_conversation_forgets_its_turns_and_keeps_its_facts() -> None:
    kit = Kit()
    events = await chat(kit, "Our dog Biscuit is a border collie.")
    message_id = events[0].user_message_id  # type: ignore[attr-defined]
    fact = await kit.memories.create(
        USER, NewMemory(content="The user's dog Biscuit is a collie", source_message_ids=(message_id,))
    )
    other = await chat(kit, "I bought a red kayak.")
    service = ConversationService(kit.conversations, kit.memories)
    await service.delete(USER, events[0].id)  # type: ignore[attr-defined]
    left = await kit.memories.list(USER, MemoryFilter())
    assert {m.id for m in left} == {fact.id, turn_memory_id(USER, other[0].user_message_id)}  # type: ignore[attr-defined]
    assert all(r.memory.id != turn_memory_id(USER, message_id) for r in await kit.memories.search(USER, "collie"))


async def test_a_chat_turn_follows_the_user_message_before_it_in_its_conversation_only() -> None:
    kit = Kit()
    first = await chat(kit, "We drove to Porto in May.")
    conversation = first[0].id  # type: ignore[attr-defined]
    second = await chat(kit, "It rained the whole week.", conversation)
    elsewhere = await chat(kit, "I start a new job on Monday.")
    turns = {
        t.source_message_ids[0]: t
        for t in await kit.memories.list(USER, MemoryFilter(kinds=frozenset({MemoryKind.TURN})))
    }
    places = {m: turn_place(t) for m, t in turns.items()}
    first_id = first[0].user_message_id  # type: ignore[attr-defined]
    second_id = second[0].user_message_id  # type: ignore[attr-defined]
    elsewhere_id = elsewhere[0].user_message_id  # type: ignore[attr-defined]
    assert places[first_id] is not None and places[first_id].follows is None
    assert places[second_id] is not None and places[second_id].follows == first_id
    assert places[second_id].before is None  # a live turn keeps no words of the turn before (see chat._turn_before)
    assert places[elsewhere_id] is not None and places[elsewhere_id].follows is None
