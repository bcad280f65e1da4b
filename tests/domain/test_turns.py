"""Turn memories: what was said (statements of the user, what the assistant said), as said, idempotent per
message; a message that only asks is no memory."""

from __future__ import annotations

from datetime import UTC, datetime

from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_domain.model import MemoryFilter, MemoryKind, MemoryType, Message, Role, new_id
from jyntrix_domain.turns import (
    ASSISTANT_RELIABILITY,
    STATEMENT_RELIABILITY,
    is_evidence,
    remember_turns,
    restates,
    turn_memory_id,
)
from tests.domain.kit import Kit

SAID_AT = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


def message(text: str, role: Role = Role.USER, name: str | None = None) -> Message:
    return Message(
        id=new_id(), conversation_id="c1", user_id="alice", role=role, content=text, created_at=SAID_AT, name=name
    )


async def test_statements_and_what_the_assistant_said_become_turns_and_questions_do_not() -> None:
    kit = Kit()
    said = [
        message("I went to a support group.", name="Caroline"),
        message("That sounds lovely, tell me more about the group!", role=Role.ASSISTANT),
        message("Did you like it?"),
        message("Where do I live now"),
        message("Thanks!"),
        message("Tell me a joke."),
    ]
    turns = await remember_turns(kit.memories, "alice", said, language=EnglishLanguage())
    assert [(t.content, t.kind, t.type, t.role) for t in turns] == [
        ("Caroline: I went to a support group.", MemoryKind.TURN, MemoryType.EPISODIC, Role.USER),
        ("That sounds lovely, tell me more about the group!", MemoryKind.TURN, MemoryType.EPISODIC, Role.ASSISTANT),
    ]
    assert [t.source_message_ids for t in turns] == [(said[0].id,), (said[1].id,)]
    assert all(t.created_at == t.valid_from == SAID_AT for t in turns)
    assert [t.reliability for t in turns] == [STATEMENT_RELIABILITY, ASSISTANT_RELIABILITY]
    assert turns[0].id == turn_memory_id("alice", said[0].id)
    assert await kit.memories.count("alice", MemoryFilter()) == 2
    found = await kit.memories.search("alice", "support group")
    assert found[0].memory.id == turns[0].id


def test_a_message_states_something_unless_it_only_asks_recalls_instructs_for_now_or_chats() -> None:
    stating = [
        "I moved to Amsterdam. Where is a good bakery?",
        "Had a great time at the concert.",
        "What I love most is hiking",
        "From now on answer in French.",
        "Call me Nina.",
        "Remember that my PIN is in the drawer.",
        "Quick update: I actually left Zalando last month",
        # a question that tells of the speaker on the way
        "I've booked bus tickets for $45 each to the April 20 game, should I also book a hotel?",
        "How can I keep this up now that I've reached 74% on May 3?",
        "What's the best way to use the new mixers, considering we spent $600 on them?",
        "Help me plan the trip, I'm going to Lisbon in March",
        # a question that carries its context with it
        "What's the best way to help Scott, who's in 7th grade, improve his recent math test score of 68%?",
    ]
    asking = [
        "Where do I live now?",
        "Which app do I use to learn Dutch",
        "Do you remember my sister?",
        "Hi!",
        "ok thanks",
        "Tell me a joke",
        "Make it shorter.",
        "What pets do I have?",
        "Do you think I should move?",
        "What can I cook if I'm vegetarian?",
        "What did I say I was allergic to?",
        "Where was I living before?",
        "Do you think I'm changing jobs too often?",
        "Should I learn some phrases before we go?",
        "What did I do for work before I retired?",
    ]
    assert all(is_evidence(message(text), EnglishLanguage()) for text in stating)
    assert not any(is_evidence(message(text), EnglishLanguage()) for text in asking)
    # A named speaker talks to other people (a transcript of a conversation): what they ask is said too.
    assert all(is_evidence(message(text, name="Caroline"), EnglishLanguage()) for text in asking)


def test_an_answer_that_only_restates_what_it_was_given_says_nothing_new() -> None:
    given = ["The user's sister Maya lives in Lisbon", "Where does my sister live?"]
    assert restates("Here is what I remember: your sister Maya lives in Lisbon [1].", given, EnglishLanguage())
    assert not restates(
        "Try this recipe: simmer lentils with cumin, garlic and tomatoes for forty minutes.", given, EnglishLanguage()
    )


async def test_the_same_words_said_twice_are_one_turn_citing_both_messages() -> None:
    kit = Kit()
    first, again = message("I live in Berlin."), message("i live   in berlin.")
    (one,) = await remember_turns(kit.memories, "alice", [first], language=EnglishLanguage())
    (two,) = await remember_turns(kit.memories, "alice", [again], language=EnglishLanguage())
    assert two.id == one.id and two.source_message_ids == (first.id, again.id)
    assert await kit.memories.count("alice", MemoryFilter()) == 1


async def test_a_retried_turn_adds_nothing() -> None:
    kit = Kit()
    said = message("The spare key is under the blue flowerpot.")
    first = await remember_turns(kit.memories, "alice", [said], language=EnglishLanguage())
    again = await remember_turns(kit.memories, "alice", [said], language=EnglishLanguage())
    assert [m.id for m in first] == [m.id for m in again]
    assert await kit.memories.count("alice", MemoryFilter()) == 1


async def test_a_given_vector_is_used_instead_of_embedding_again() -> None:
    kit = Kit()
    said = message("We painted the hallway a deep teal colour.")
    vector = await kit.embedder.embed_query("something else entirely")
    (turn,) = await remember_turns(kit.memories, "alice", [said], [vector], language=EnglishLanguage())
    hits = await kit.vectors.search("alice", vector, 1)
    assert hits[0].id == turn.id and hits[0].score > 0.999
