"""The offline responder: grounded in the prompt's memories, citing them, honest when it knows nothing.

Which memories answer a question is the domain's decision (ContextItem.relevant, set by the context
builder from retrieval's signals); these prompts mark the ones that retrieval would.
"""

from __future__ import annotations

import msgspec
import pytest

from jyntrix_adapters.english.offline.language_model import NOTHING_REMEMBERED, OfflineLanguageModel, addressed
from jyntrix_domain.errors import Unsupported
from jyntrix_domain.model import MemoryType, Role
from jyntrix_domain.prompts import ChatTurn, ContextItem, Prompt

MEMORIES = (
    ContextItem(ref=1, memory_id="a", type=MemoryType.PROFILE, content="User lives in Berlin", score=0.9, tokens=4),
    ContextItem(
        ref=2, memory_id="b", type=MemoryType.SEMANTIC, content="User likes sushi and ramen", score=0.5, tokens=5
    ),
    ContextItem(ref=3, memory_id="c", type=MemoryType.PROFILE, content="User's name is Ada", score=0.7, tokens=4),
    ContextItem(
        ref=4, memory_id="d", type=MemoryType.PROCEDURAL, content="Answer in short sentences", score=0.4, tokens=4
    ),
)


def ask(text: str, memories: tuple[ContextItem, ...] = MEMORIES, relevant: frozenset[int] = frozenset()) -> Prompt:
    """A prompt with `memories`, those numbered in `relevant` marked relevant."""
    marked = tuple(msgspec.structs.replace(m, relevant=m.ref in relevant) for m in memories)
    return Prompt(system="system", context_items=marked, messages=(ChatTurn(role=Role.USER, content=text),))


@pytest.fixture
def model() -> OfflineLanguageModel:
    return OfflineLanguageModel()


@pytest.mark.parametrize(
    ("question", "ref", "fact"),
    [
        ("Where do I live?", 1, "Berlin"),
        ("What food do I like?", 2, "sushi"),
        ("Do you remember my name?", 3, "Ada"),
    ],
)
async def test_answers_from_the_relevant_memory_and_cites_it(
    model: OfflineLanguageModel, question: str, ref: int, fact: str
) -> None:
    answer = (await model.complete(ask(question, relevant=frozenset({ref})))).text
    assert fact in answer
    assert f"[{ref}]" in answer
    cited = {r for r in range(1, 5) if f"[{r}]" in answer}
    assert cited == {ref}


async def test_says_plainly_when_nothing_relevant_is_remembered(model: OfflineLanguageModel) -> None:
    answer = (await model.complete(ask("What is the capital of Peru?"))).text
    assert answer == NOTHING_REMEMBERED
    assert (await model.complete(ask("Where do I live?", memories=()))).text == NOTHING_REMEMBERED


async def test_acknowledges_a_statement_in_the_second_person(model: OfflineLanguageModel) -> None:
    answer = (await model.complete(ask("My sister is called Grace.", memories=()))).text
    assert answer == "Noted: Your sister is called Grace."


async def test_a_statement_related_to_a_memory_mentions_it(model: OfflineLanguageModel) -> None:
    answer = (await model.complete(ask("I no longer live in Berlin.", relevant=frozenset({1})))).text
    assert answer.startswith("Noted: You no longer live in Berlin.")
    assert "[1]" in answer


async def test_what_do_you_know_about_me_lists_the_best_memories(model: OfflineLanguageModel) -> None:
    answer = (await model.complete(ask("What do you know about me?"))).text
    assert "[1]" in answer and "[3]" in answer


async def test_answers_only_the_last_user_message(model: OfflineLanguageModel) -> None:
    prompt = Prompt(
        system="s",
        context_items=ask("", relevant=frozenset({3})).context_items,
        messages=(
            ChatTurn(role=Role.USER, content="Where do I live?"),
            ChatTurn(role=Role.ASSISTANT, content="Berlin [1]."),
            ChatTurn(role=Role.USER, content="And what is my name?"),
        ),
    )
    answer = (await model.complete(prompt)).text
    assert "[3]" in answer and "[1]" not in answer


async def test_the_same_prompt_gets_the_same_answer(model: OfflineLanguageModel) -> None:
    first = (await model.complete(ask("What food do I like?", relevant=frozenset({2})))).text
    assert first == (await OfflineLanguageModel().complete(ask("What food do I like?", relevant=frozenset({2})))).text


async def test_streams_word_by_word(model: OfflineLanguageModel) -> None:
    chunks = [c async for c in model.stream(ask("Where do I live?", relevant=frozenset({1})))]
    text = "".join(c.text for c in chunks)
    assert len([c for c in chunks if c.text]) == len(text.split())
    assert chunks[-1].usage is not None and chunks[-1].usage.output_tokens == len(text.split())


async def test_restates_the_best_two_relevant_memories_only(model: OfflineLanguageModel) -> None:
    answer = (await model.complete(ask("Tell me about my family", relevant=frozenset({1, 2, 3})))).text
    assert answer.startswith("Here is what I remember:")
    assert "[1]" in answer and "[3]" in answer and "[2]" not in answer  # the two best scored of the three
    assert "Berlin" in answer and "Ada" in answer


async def test_a_memory_naming_the_question_answers_before_one_only_marked(model: OfflineLanguageModel) -> None:
    answer = (await model.complete(ask("Where do I live?", relevant=frozenset({2})))).text
    assert answer == "Here is what I remember: User lives in Berlin [1]."


async def test_a_memory_sharing_no_word_answers_only_with_the_mark(model: OfflineLanguageModel) -> None:
    assert (await model.complete(ask("What is my favourite colour?"))).text == NOTHING_REMEMBERED


async def test_greets_back(model: OfflineLanguageModel) -> None:
    assert (await model.complete(ask("Hello!", memories=()))).text.startswith("Hello!")


async def test_has_no_structured_output(model: OfflineLanguageModel) -> None:
    with pytest.raises(Unsupported):
        await model.structured(ask("I live in Berlin."), {"type": "object"})


@pytest.mark.parametrize(
    ("memory", "spoken"),
    [
        ("The user's sister Maya lives in Lisbon", "Your sister Maya lives in Lisbon"),
        ("The user lives in Berlin. The user is vegan", "You live in Berlin. You are vegan"),
        ("The user studies physics", "You study physics"),
        ("The user watches anime", "You watch anime"),
        ("The user has a dog named Rex", "You have a dog named Rex"),
        ("Maya is the user's sister", "Maya is your sister"),
        ("The user doesn't drink coffee", "You don't drink coffee"),
        ("The user wasn't at home", "You weren't at home"),
        ("Caroline: I went to the user group", "Caroline: I went to the user group"),
    ],
)
def test_memories_about_the_user_are_spoken_to_the_user(memory: str, spoken: str) -> None:
    assert addressed(memory) == spoken


def _said(*turns: str) -> Prompt:
    """A prompt with no memories whose messages alternate user and assistant, the user's last."""
    roles = [Role.USER if n % 2 == 0 else Role.ASSISTANT for n in range(len(turns))]
    return Prompt(system="s", messages=tuple(ChatTurn(role=r, content=t) for r, t in zip(roles, turns, strict=True)))


@pytest.mark.parametrize(
    ("said", "asked", "named"),
    [
        ("I am allergic to peanuts.", "What am I allergic to?", "peanuts"),
        ("I'm a teacher in Hull.", "What's my job?", "teacher"),  # the slot the rules extractor fills
        ("My train to Bergen leaves at noon.", "When does my train leave?", "Bergen"),
        ("We booked a flight to Rome.", "Where am I flying?", "Rome"),  # "flight" and "flying" are one word
    ],
)
async def test_answers_from_what_the_user_said_earlier_in_the_conversation(
    model: OfflineLanguageModel, said: str, asked: str, named: str
) -> None:
    answer = (await model.complete(_said(said, "Thanks for telling me.", asked))).text
    assert answer.startswith("You told me: ") and named in answer
    assert "I am" not in answer and "I'm" not in answer and "We " not in answer


async def test_what_was_said_earlier_answers_only_when_it_names_the_question(model: OfflineLanguageModel) -> None:
    prompt = _said("I am allergic to peanuts.", "Noted.", "What car do I drive?")
    assert (await model.complete(prompt)).text == NOTHING_REMEMBERED


def _memory(ref: int, content: str, *, relevant: bool = False, score: float = 0.5) -> ContextItem:
    return ContextItem(
        ref=ref, memory_id=str(ref), type=MemoryType.SEMANTIC, content=content, score=score, tokens=5, relevant=relevant
    )


async def test_a_question_about_a_set_gathers_every_member(model: OfflineLanguageModel) -> None:
    memories = (
        _memory(1, "The user has a kitten named Mochi", relevant=True),
        _memory(2, "The user has a tortoise called Sheldon", score=0.2),
        _memory(3, "The user's name is Hannah", relevant=True, score=0.9),
        _memory(4, "The user's dog Pepper is a greyhound", score=0.3),
    )
    answer = (
        await model.complete(Prompt(system="s", context_items=memories, messages=(_user("What pets do I have?"),)))
    ).text
    assert all(f"[{ref}]" in answer for ref in (1, 2, 4)) and "Hannah" not in answer


async def test_a_note_on_a_statement_shares_a_word_with_it(model: OfflineLanguageModel) -> None:
    memories = (_memory(1, "The user's sister Maya lives in Lisbon", relevant=True),)
    unrelated = Prompt(system="s", context_items=memories, messages=(_user("My brother Leo is a chef."),))
    assert (await model.complete(unrelated)).text == "Noted: Your brother Leo is a chef."
    related = Prompt(system="s", context_items=memories, messages=(_user("Maya is visiting next week."),))
    assert "[1]" in (await model.complete(related)).text


async def test_a_question_about_before_answers_with_what_held_before(model: OfflineLanguageModel) -> None:
    memories = (
        _memory(1, "The user works as a nurse", relevant=True, score=0.8),
        _memory(2, "I was a paramedic for five years before I retrained as a nurse.", score=0.4),
    )
    prompt = Prompt(system="s", context_items=memories, messages=(_user("What was my job before nursing?"),))
    answer = (await model.complete(prompt)).text
    assert answer == "Here is what I remember: You were a paramedic for five years before you retrained as a nurse [2]."


async def test_a_deadline_is_not_a_question_about_before(model: OfflineLanguageModel) -> None:
    memories = (
        _memory(1, "I want to get my sailing licence before I turn forty.", relevant=True),
        _memory(2, "I was a paramedic before I retrained as a nurse."),
    )
    prompt = Prompt(system="s", context_items=memories, messages=(_user("What do I want before my fortieth?"),))
    assert "sailing licence" in (await model.complete(prompt)).text


def _user(text: str) -> ChatTurn:
    return ChatTurn(role=Role.USER, content=text)


def _asked(question: str, *memories: ContextItem) -> Prompt:
    return Prompt(system="s", context_items=memories, messages=(_user(question),))


async def test_a_fact_and_the_turn_that_says_more_are_said_once(model: OfflineLanguageModel) -> None:
    memories = (
        _memory(1, "The user works as a nurse", relevant=True),
        _memory(2, "The user works at St Thomas' Hospital", relevant=True),
        _memory(3, "I'm a nurse at St Thomas' Hospital, mostly on the cardiac ward.", relevant=True),
    )
    answer = (await model.complete(_asked("Which ward do I work on?", *memories))).text
    assert answer == "Here is what I remember: You're a nurse at St Thomas' Hospital, mostly on the cardiac ward [3]."


async def test_a_question_about_now_prefers_what_holds_now(model: OfflineLanguageModel) -> None:
    memories = (
        _memory(1, "I used to live in Glasgow, I moved to London for work.", relevant=True),
        _memory(2, "The user works as a nurse"),
    )
    answer = (await model.complete(_asked("What do I do for a living?", *memories))).text
    assert "You work as a nurse [2]." in answer  # though retrieval marked only the other relevant


async def test_a_member_of_a_kind_asks_for_that_member_only(model: OfflineLanguageModel) -> None:
    memories = (_memory(1, "The user has a kitten named Mochi"), _memory(2, "The user has a dog called Rex"))
    assert "[1]" not in (await model.complete(_asked("What is my dog called?", *memories))).text
    # The kind itself asks for any of its members.
    assert "[1]" in (await model.complete(_asked("Which pet do I have?", *memories))).text


async def test_a_greeting_the_user_opened_with_is_not_restated(model: OfflineLanguageModel) -> None:
    assert (await model.complete(_asked("Hi there, my name is Nina."))).text == "Noted: Your name is Nina."
    turn = msgspec.structs.replace(
        _memory(1, "Oh, and we've just got a kitten called Mochi.", relevant=True), role=Role.USER
    )
    answer = (await model.complete(_asked("What is my kitten called?", turn))).text
    assert answer == "Here is what I remember: You've just got a kitten called Mochi [1]."


def _ended(memory: ContextItem) -> ContextItem:
    return msgspec.structs.replace(memory, current=False)


async def test_a_question_about_now_is_answered_from_what_holds_now_when_anything_does(
    model: OfflineLanguageModel,
) -> None:
    memories = (
        _ended(_memory(1, "I'm learning Dutch on Duolingo to get ready.", relevant=True, score=0.8)),
        _memory(2, "The user switched from Duolingo to Babbel", relevant=True, score=0.5),
    )
    answer = (await model.complete(_asked("Which app do I use to learn Dutch?", *memories))).text
    assert "[2]" in answer and "[1]" not in answer  # the ended one names more of the question's words


async def test_what_a_question_about_before_is_relative_to_does_not_answer_it(model: OfflineLanguageModel) -> None:
    memories = (
        _ended(_memory(1, "The user lives in Oslo", relevant=True, score=0.6)),
        _memory(2, "We moved into our flat in Bergen last week.", score=0.7),
    )
    answer = (await model.complete(_asked("Where did I live before Bergen?", *memories))).text
    assert "Oslo" in answer and "[2]" not in answer


async def test_a_family_member_asked_about_is_that_member_not_the_whole_family(model: OfflineLanguageModel) -> None:
    memories = (
        _memory(1, "My son Leo starts at a bilingual school in March.", relevant=True, score=0.9),
        _memory(2, "The user's brother Sam is a pilot", score=0.5),
        _memory(3, "The user's mum June is visiting next week", score=0.4),
    )
    answer = (await model.complete(_asked("Where does my son go to school?", *memories))).text
    assert "[1]" in answer and "[2]" not in answer and "[3]" not in answer
    # The family asked about by its name is every member.
    whole = (await model.complete(_asked("Who is in my family?", *memories))).text
    assert all(f"[{n}]" in whole for n in (1, 2, 3))


async def test_a_parent_is_found_by_any_of_their_words(model: OfflineLanguageModel) -> None:
    memories = (_memory(1, "The user's mum is called Grace"), _memory(2, "The user has a cat called Tom"))
    answer = (await model.complete(_asked("What's my mother called?", *memories))).text
    assert "Grace" in answer and "[2]" not in answer


async def test_a_question_about_before_ones_own_change_answers_with_what_held_before(
    model: OfflineLanguageModel,
) -> None:
    memories = (
        _memory(1, "The user lives in Leeds", relevant=True, score=0.8),
        _memory(2, "I used to live in York, I moved to Leeds for my studies.", relevant=True, score=0.7),
    )
    answer = (await model.complete(_asked("Where did I live before I moved to Leeds?", *memories))).text
    assert "York" in answer and "[1]" not in answer
    # Told in the present, "before I turn forty" is a deadline: what holds now answers.
    now = (await model.complete(_asked("Where do I live before I turn forty?", *memories))).text
    assert "[1]" in now


async def test_what_the_question_calls_the_users_own_is_not_someone_elses(model: OfflineLanguageModel) -> None:
    memories = (
        _memory(1, "The user is going to the user's friend Ana's wedding in May", relevant=True, score=0.9),
        _memory(2, "Tom and the user got married in a registry office in Leeds", score=0.5),
    )
    answer = (await model.complete(_asked("Where was my wedding?", *memories))).text
    # Ana's wedding is hers; the user's own is told with the user as one of the two, in the second person.
    assert answer == "Here is what I remember: Tom and you got married in a registry office in Leeds [2]."


async def test_a_question_about_when_is_answered_by_what_says_when(model: OfflineLanguageModel) -> None:
    memories = (
        _memory(1, "The user has a dog named Rex (a beagle)", relevant=True, score=0.9),
        _memory(2, "We adopted Rex last March from a shelter in Leeds.", score=0.5),
    )
    answer = (await model.complete(_asked("When did we get Rex?", *memories))).text
    assert answer == "Here is what I remember: You adopted Rex last March from a shelter in Leeds [2]."


async def test_among_equals_the_questions_own_words_win_over_their_kind(model: OfflineLanguageModel) -> None:
    memories = (
        _memory(1, "The user lives in Oslo", relevant=True, score=0.9),
        _memory(2, "Quick update: we moved to Oslo last week.", relevant=True, score=0.8),
    )
    answer = (await model.complete(_asked("Where do I live?", *memories))).text
    assert answer == "Here is what I remember: You live in Oslo [1]."
