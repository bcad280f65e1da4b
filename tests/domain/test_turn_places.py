"""The place signals (neighbour, session, speaker) on hand-computed cases, and where turns keep their place."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_domain.model import Memory, MemoryKind, MemoryType, Message, Place, Role, TranscriptMessage
from jyntrix_domain.ranking import SEED_WEIGHTS, Match, RankingWeights
from jyntrix_domain.signals import Signals
from jyntrix_domain.transcripts import TranscriptService
from jyntrix_domain.turn_places import keyword_text, place_matches, turn_place
from jyntrix_domain.turns import new_turns, remember_turns, turn_memory_id
from tests.domain.kit import Kit

AT = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
# keyword 0.6, vector 0.4 of their sum: relevance = 0.6 · keyword + 0.4 · vector
WEIGHTS = Signals(keyword=0.3, vector=0.2, neighbour=0.5, session=0.35, speaker=0.5)


def turn(n: int, conversation: str = "c1", speaker: str | None = "Caroline", follows: int | None = None) -> Memory:
    place = Place(
        conversation_id=conversation,
        message_id=f"m{n}",
        follows=f"m{follows}" if follows is not None else None,
        speaker=speaker,
    )
    return Memory(
        id=f"t{n}",
        user_id="alice",
        type=MemoryType.EPISODIC,
        kind=MemoryKind.TURN,
        content=f"turn {n}",
        created_at=AT,
        updated_at=AT,
        valid_from=AT,
        place=place,
    )


def found(memory: Memory, keyword: float = 0.0, vector: float = 0.0) -> list[Match]:
    out = [Match(memory_id=memory.id, strategy="recent", memory=memory)]
    if keyword:
        out.append(Match(memory_id=memory.id, strategy="keyword", signal="keyword", strength=keyword, memory=memory))
    if vector:
        out.append(Match(memory_id=memory.id, strategy="vector", signal="vector", strength=vector, memory=memory))
    return out


def signals_of(matches: list[Match]) -> dict[tuple[str, str], float]:
    return {(m.memory_id, m.strategy): m.strength for m in matches}


def test_neighbour_is_the_best_relevance_of_the_turns_just_before_and_after() -> None:
    # t1 <- t2 <- t3 in c1; t2 matches by keyword 1.0 and vector 0.5: relevance 0.6 + 0.2 = 0.8.
    # t3 matches by vector 1.0 only: relevance 0.4. t1 matches nothing.
    t1, t2, t3 = turn(1), turn(2, follows=1), turn(3, follows=2)
    out = signals_of(place_matches([*found(t1), *found(t2, 1.0, 0.5), *found(t3, vector=1.0)], WEIGHTS, ()))
    assert out[("t1", "neighbour")] == pytest.approx(0.8)  # t2 after it
    assert out[("t2", "neighbour")] == pytest.approx(0.4)  # t1 (0) before, t3 (0.4) after
    assert out[("t3", "neighbour")] == pytest.approx(0.8)  # t2 before it
    # session: the best relevance in c1, each turn itself included.
    assert all(out[(t, "session")] == pytest.approx(0.8) for t in ("t1", "t2", "t3"))


def test_turns_of_another_conversation_are_neither_neighbours_nor_one_session() -> None:
    a = turn(1, conversation="c1")
    b = turn(2, conversation="c2")  # follows nothing in c1
    out = signals_of(place_matches([*found(a, keyword=1.0), *found(b)], WEIGHTS, ()))
    assert out[("t1", "session")] == pytest.approx(0.6)
    assert ("t2", "session") not in out and ("t2", "neighbour") not in out and ("t1", "neighbour") not in out


def test_speaker_is_one_when_the_query_names_who_said_the_turn() -> None:
    caroline, melanie = turn(1, speaker="Caroline"), turn(2, speaker="Melanie Smith", follows=1)
    out = signals_of(place_matches([*found(caroline), *found(melanie)], WEIGHTS, ("melanie's",)))
    assert out[("t2", "speaker")] == 1.0
    assert ("t1", "speaker") not in out
    both = signals_of(place_matches([*found(caroline), *found(melanie)], WEIGHTS, ("Caroline", "Smith")))
    assert both[("t1", "speaker")] == both[("t2", "speaker")] == 1.0


def test_memories_without_a_place_and_zero_weights_get_no_place_signals() -> None:
    fact = Memory(
        id="f1", user_id="alice", type=MemoryType.SEMANTIC, content="x", created_at=AT, updated_at=AT, valid_from=AT
    )
    assert place_matches(found(fact, keyword=1.0), WEIGHTS, ("Caroline",)) == []
    assert place_matches([*found(turn(1), keyword=1.0)], SEED_WEIGHTS, ("Caroline",)) == []
    placed_fact = msgspec.structs.replace(turn(1), kind=MemoryKind.FACT)
    assert turn_place(placed_fact) is None


def test_the_defaults_weigh_the_place_signals_and_the_seed_does_not() -> None:
    defaults = RankingWeights()
    assert (defaults.neighbour, defaults.session, defaults.speaker) == (0.25, 0.35, 0.5)
    assert (SEED_WEIGHTS.neighbour, SEED_WEIGHTS.session, SEED_WEIGHTS.speaker) == (0.0, 0.0, 0.0)


def said(n: int, role: Role = Role.USER, conversation: str = "c1") -> Message:
    return Message(
        id=f"m{n}",
        conversation_id=conversation,
        user_id="alice",
        role=role,
        content=f"line {n}",
        created_at=AT,
        name="Ann",
    )


async def test_each_turn_follows_the_remembered_message_before_it_and_keeps_what_it_said() -> None:
    kit = Kit()
    messages = [said(1), said(2, Role.ASSISTANT), said(3), said(4, conversation="c2")]
    stored = await kit.memories.bulk_import("alice", new_turns(messages, EnglishLanguage(), follows="m0"))
    places = [turn_place(t) for t in stored]
    assistant = Role.ASSISTANT
    assert places == [
        # m0 was stored earlier: m1 follows it without keeping its words (m0 does not know it is followed).
        Place(conversation_id="c1", message_id="m1", follows="m0", speaker="Ann", precedes="m2"),
        # What the assistant said is a turn too: evidence, with its role.
        Place(
            conversation_id="c1",
            message_id="m2",
            role=assistant,
            follows="m1",
            speaker="Ann",
            before="Ann: line 1",
            precedes="m3",
        ),
        Place(conversation_id="c1", message_id="m3", follows="m2", speaker="Ann", before="Ann: line 2"),
        Place(conversation_id="c2", message_id="m4", speaker="Ann"),
    ]
    assert [keyword_text(t) for t in stored] == [
        "Ann: line 1",
        "Ann: line 1\nAnn: line 2",
        "Ann: line 2\nAnn: line 3",
        "Ann: line 4",
    ]


async def test_a_forgotten_turn_leaves_the_keyword_text_of_the_turn_after_it() -> None:
    kit = Kit()
    secret = Message(
        id="s", conversation_id="c1", user_id="alice", role=Role.USER, content="My PIN is 4321.", created_at=AT
    )
    reply = Message(id="r", conversation_id="c1", user_id="alice", role=Role.USER, content="Noted!", created_at=AT)
    await remember_turns(kit.memories, "alice", [secret, reply], language=EnglishLanguage())
    assert len(await kit.keywords.search("alice", "PIN 4321", 10)) == 2
    await kit.memories.delete("alice", turn_memory_id("alice", "s"))
    assert await kit.keywords.search("alice", "PIN 4321", 10) == []
    after = await kit.memories.get("alice", turn_memory_id("alice", "r"))
    assert "4321" not in str(after.place) and keyword_text(after) == "Noted!"
    # The same through forget (several at once, as a deleted conversation's turns go).
    code = msgspec.structs.replace(secret, id="s2", content="The alarm code is 8765.")
    await remember_turns(
        kit.memories,
        "alice",
        [code, msgspec.structs.replace(reply, id="r2", content="I wrote it on the fridge.")],
        language=EnglishLanguage(),
    )
    assert len(await kit.keywords.search("alice", "alarm code 8765", 10)) == 2
    assert await kit.memories.forget("alice", [turn_memory_id("alice", "s2"), "no-such-memory"]) == 1
    assert await kit.keywords.search("alice", "alarm code 8765", 10) == []


async def test_a_turn_is_found_by_the_words_of_the_turn_before_it_and_shows_only_itself() -> None:
    kit = Kit()
    question = Message(
        id="q", conversation_id="c1", user_id="alice", role=Role.USER, content="We thought about Porto.", created_at=AT
    )
    answer = Message(
        id="a", conversation_id="c1", user_id="alice", role=Role.USER, content="Yes, last May!", created_at=AT
    )
    await remember_turns(kit.memories, "alice", [question, answer], language=EnglishLanguage())
    hits = await kit.keywords.search("alice", "porto", 10)
    assert {h.id for h in hits} == {turn_memory_id("alice", "q"), turn_memory_id("alice", "a")}
    shown = await kit.memories.get("alice", turn_memory_id("alice", "a"))
    assert shown.content == "Yes, last May!"


async def test_an_import_that_continues_a_conversation_follows_its_last_turn() -> None:
    kit = Kit()
    transcripts = TranscriptService(kit.conversation_ports, memories=kit.memories, tasks=kit.tasks)

    def lines(*ns: int) -> list[TranscriptMessage]:
        return [TranscriptMessage(role=Role.USER, content=f"line {n}", created_at=AT, id=f"a{n}") for n in ns]

    first = await transcripts.import_transcript("alice", lines(1, 2))
    more = await transcripts.import_transcript("alice", lines(3), conversation_id=first.conversation_id)
    one, two, three = [
        turn_place(await kit.memories.get("alice", turn_memory_id("alice", m)))
        for m in [*first.message_ids, *more.message_ids]
    ]
    assert one is not None and two is not None and three is not None
    assert (one.follows, two.follows, three.follows) == (None, first.message_ids[0], first.message_ids[1])
    assert one.conversation_id == three.conversation_id == first.conversation_id
