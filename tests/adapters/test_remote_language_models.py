"""What both remote language-model adapters (Gemini, OpenAI-compatible) do alike, each against its fake server."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator

import msgspec
import pytest

from jyntrix_adapters.gemini.language_model import GeminiLanguageModel
from jyntrix_adapters.openai.language_model import OpenAICompatibleLanguageModel
from jyntrix_domain.ports import LanguageModel
from testsupport.fake_gemini import FakeGemini
from testsupport.fake_llm_server import PROMPT, FakeLLMServer, Reply
from testsupport.fake_openai import FakeOpenAI


@pytest.fixture(params=["gemini", "openai"])
async def remote(request: pytest.FixtureRequest) -> AsyncIterator[tuple[LanguageModel, FakeLLMServer]]:
    server: FakeLLMServer
    model: GeminiLanguageModel | OpenAICompatibleLanguageModel
    if request.param == "gemini":
        server = request.getfixturevalue("fake_gemini")
        assert isinstance(server, FakeGemini)
        model = GeminiLanguageModel("test-key", base_url=server.url, max_attempts=1)
    else:
        server = request.getfixturevalue("fake_openai")
        assert isinstance(server, FakeOpenAI)
        model = OpenAICompatibleLanguageModel(server.url + "/v1", model="llama3.1", max_attempts=1)
    yield model, server
    await model.aclose()


async def test_a_slow_stream_reaches_the_caller_as_it_is_produced(
    remote: tuple[LanguageModel, FakeLLMServer],
) -> None:
    model, server = remote
    release = threading.Event()
    reply = Reply.text("one two three four", delay_s=0.02, hold_last=release)
    server.script(reply)

    received: list[str] = []
    async for chunk in model.stream(PROMPT):
        if chunk.text:
            received.append(chunk.text)
        if len(received) == 1:
            # the server is still holding back its last piece, yet the first is already here
            assert server.pieces_sent < len(reply.pieces)
            release.set()
    assert "".join(received) == "one two three four"


async def test_stop_sequences_are_passed_on_and_the_answer_ends_before_the_first(
    remote: tuple[LanguageModel, FakeLLMServer],
) -> None:
    model, server = remote
    prompt = msgspec.structs.replace(PROMPT, stop=("three", "nine"))
    server.script(Reply.text("one two three four"), Reply.text("one two three four"))

    completed = await model.complete(prompt)
    streamed = "".join([chunk.text async for chunk in model.stream(prompt) if chunk.text])

    assert [server.stop_sequences(request) for request in server.requests] == [["three", "nine"]] * 2
    assert completed.text == streamed == "one two "


async def test_a_prompt_without_stop_sequences_sends_none(remote: tuple[LanguageModel, FakeLLMServer]) -> None:
    model, server = remote
    await model.complete(PROMPT)
    (request,) = server.requests
    assert server.stop_sequences(request) == []
    assert "stop" not in request.body and "stopSequences" not in request.body.get("generationConfig", {})
