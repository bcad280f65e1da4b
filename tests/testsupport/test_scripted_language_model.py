"""The scripted test model: what other tests rely on it for."""

from __future__ import annotations

import pytest

from jyntrix_domain.errors import RateLimited, Unavailable, Unsupported
from jyntrix_domain.model import Role
from jyntrix_domain.prompts import ChatTurn, Prompt
from testsupport.scripted_language_model import ScriptedLanguageModel


def ask(text: str) -> Prompt:
    return Prompt(system="s", messages=(ChatTurn(role=Role.USER, content=text),))


async def test_replies_in_order_and_repeats_the_last() -> None:
    model = ScriptedLanguageModel(["first answer", "second"])
    assert (await model.complete(ask("a"))).text == "first answer"
    assert "".join([c.text async for c in model.stream(ask("b"))]) == "second"
    assert (await model.complete(ask("c"))).text == "second"
    assert [p.messages[-1].content for p in model.prompts] == ["a", "b", "c"]


async def test_streams_in_word_pieces() -> None:
    model = ScriptedLanguageModel(["one two  three"])
    chunks = [c async for c in model.stream(ask("x"))]
    assert [c.text for c in chunks[:-1]] == ["one ", "two  ", "three"]


async def test_fails_on_demand_before_or_during_a_stream() -> None:
    model = ScriptedLanguageModel(["a b c d"])
    model.fail_next(error=RateLimited("busy", retry_after_s=2))
    with pytest.raises(RateLimited):
        await model.complete(ask("x"))

    model.fail_next(after_pieces=2)
    received: list[str] = []
    with pytest.raises(Unavailable):
        async for chunk in model.stream(ask("x")):
            received.append(chunk.text)
    assert received == ["a ", "b "]
    assert (await model.complete(ask("x"))).text == "a b c d"


async def test_structured_returns_the_scripted_values() -> None:
    model = ScriptedLanguageModel(structured=[{"memories": []}, {"memories": ["x"]}])
    assert await model.structured(ask("x"), {"type": "object"}) == {"memories": []}
    assert await model.structured(ask("y"), {"type": "object"}) == {"memories": ["x"]}
    assert model.schemas == [{"type": "object"}, {"type": "object"}]
    with pytest.raises(Unsupported):
        await ScriptedLanguageModel().structured(ask("x"), {})
