"""Which context items are relevant (RelevanceConfig), tuned on these cases, and the offline answer from them.

On the default embedder (all-MiniLM-L6-v2, as `make run` has it) and the in-process stores.

A user with profile facts and a few things said in passing asks about one of them: the answer
names it and leaves the unrelated profile facts out; a question about nothing remembered gets the
plain "nothing remembered" answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_adapters.english.offline.language_model import NOTHING_REMEMBERED, OfflineLanguageModel
from jyntrix_adapters.inprocess.token_counter import RegexTokenCounter
from jyntrix_domain.chat import ChatService
from jyntrix_domain.chat_events import ContextEvent
from jyntrix_domain.context import ContextBuilder
from jyntrix_domain.errors import Invalid
from jyntrix_domain.memories import NewMemory
from jyntrix_domain.model import MemoryType
from jyntrix_domain.relevance import RelevanceConfig, relevant_ids
from tests.domain.kit import Kit

USER = "alice"
PROFILE = ("The user's name is Ada", "The user lives in Berlin", "The user works as a nurse")
SAID = (
    "Our dog Biscuit is a border collie, so he needs long walks.",
    "I bought a red kayak last summer and paddle on the lake.",
    "My favourite film is Spirited Away.",
    "I've started learning the cello with a teacher on Thursdays.",
)
CASES = [
    ("What breed is Biscuit?", "collie"),
    ("What colour is my kayak?", "red"),
    ("Which film is my favourite?", "Spirited"),
    ("Which instrument am I learning?", "cello"),
    # No word in common: the vector signal alone carries these.
    ("Tell me about my pets", "collie"),
    ("What sports do I do?", "kayak"),
]


async def remembering(embedder: Any) -> tuple[Kit, ChatService]:
    kit = Kit(embedder=embedder)
    for fact in PROFILE:
        await kit.memories.create(USER, NewMemory(content=fact, type=MemoryType.PROFILE))
    chat = ChatService(
        kit.conversation_ports,
        retrieval=kit.retrieval,
        memories=kit.memories,
        context=ContextBuilder(RegexTokenCounter(), language=EnglishLanguage()),
        llm=OfflineLanguageModel(),
        tasks=kit.tasks,
    )
    for remark in SAID:
        [_ async for _ in chat.send_message_stream(USER, remark)]
    return kit, chat


async def ask(chat: ChatService, question: str) -> tuple[ContextEvent, str]:
    events = [e async for e in chat.send_message_stream(USER, question)]
    context = next(e for e in events if isinstance(e, ContextEvent))
    return context, "".join(getattr(e, "delta", "") for e in events)


@pytest.mark.parametrize(("question", "named"), CASES)
async def test_the_answer_names_what_was_said_and_leaves_the_profile_out(
    fast_embedder: Any, question: str, named: str
) -> None:
    _, chat = await remembering(fast_embedder)
    context, answer = await ask(chat, question)
    assert named in answer, (answer, context.memories)
    relevant = [m for m in context.memories if m.relevant]
    assert relevant and all(named in m.content for m in relevant), relevant
    for fact in ("Berlin", "nurse", "Ada"):
        assert fact not in answer
    cited = [m for m in context.memories if f"[{m.ref}]" in answer]
    assert cited and all(m.relevant for m in cited)


async def test_nothing_relevant_is_said_plainly(fast_embedder: Any) -> None:
    _, chat = await remembering(fast_embedder)
    context, answer = await ask(chat, "What is the capital of Peru?")
    assert not any(m.relevant for m in context.memories), context.memories
    assert answer == NOTHING_REMEMBERED


async def test_a_memory_only_nominated_is_never_relevant(fast_embedder: Any) -> None:
    kit, _ = await remembering(fast_embedder)
    result = await kit.retrieval.retrieve(USER, "What is the capital of Peru?")
    profile = [r for r in result.memories if r.match_types == frozenset({"profile"})]
    assert profile and not relevant_ids(profile, RelevanceConfig(min_match=0.0, min_score=0.0), EnglishLanguage())


def test_thresholds_are_checked() -> None:
    with pytest.raises(Invalid):
        RelevanceConfig(margin=1.5)


async def test_an_earlier_question_is_not_an_answer(fast_embedder: Any) -> None:
    _, chat = await remembering(fast_embedder)
    await ask(chat, "What breed is Biscuit?")
    context, answer = await ask(chat, "What breed is Biscuit?")
    # A question states nothing: it is no memory at all, so it can never crowd out the answer.
    assert not [m for m in context.memories if m.content == "What breed is Biscuit?"]
    assert "collie" in answer and "What breed" not in answer
