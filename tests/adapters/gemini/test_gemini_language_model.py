"""The Gemini adapter through the real google-genai SDK, against the loopback fake Gemini server."""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator

import pytest

from jyntrix_adapters.gemini.language_model import GeminiLanguageModel
from jyntrix_adapters.support.backoff import Backoff
from jyntrix_adapters.support.llm_retry import GenerationSettings
from jyntrix_domain.errors import Invalid, RateLimited, Unavailable
from jyntrix_domain.prompts import UNTRUSTED_MEMORY_NOTICE, Prompt
from testsupport.fake_gemini import FakeGemini
from testsupport.fake_llm_server import PROMPT, Reply

FENCED_SYSTEM = (
    f"You are Jyntrix.\n\n{UNTRUSTED_MEMORY_NOTICE}\n<user_memories>\n[1] User lives in Berlin\n</user_memories>"
)


@pytest.fixture
async def gemini(fake_gemini: FakeGemini) -> AsyncIterator[GeminiLanguageModel]:
    model = GeminiLanguageModel(
        "test-key", base_url=fake_gemini.url, backoff=Backoff(initial_s=0.01, max_s=0.05), max_attempts=3
    )
    yield model
    await model.aclose()


async def test_streams_the_answer_piece_by_piece(gemini: GeminiLanguageModel, fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.text("You live in Berlin [1].", input_tokens=42))

    chunks = [c async for c in gemini.stream(PROMPT)]

    assert [c.text for c in chunks[:-1]] == ["You", " live", " in", " Berlin", " [1]."]
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.input_tokens, chunks[-1].usage.output_tokens) == (42, 5)
    (request,) = fake_gemini.requests
    assert request.path == "/v1/models/gemini-2.5-flash:streamGenerateContent"
    assert request.query == {"alt": ["sse"]}
    assert request.headers["x-goog-api-key"] == "test-key"


async def test_sends_system_instruction_dialogue_and_settings(
    gemini: GeminiLanguageModel, fake_gemini: FakeGemini
) -> None:
    await gemini.complete(PROMPT)

    body = fake_gemini.requests[0].body
    assert body["systemInstruction"]["parts"][0]["text"] == FENCED_SYSTEM
    assert [(c["role"], c["parts"][0]["text"]) for c in body["contents"]] == [
        ("user", "Hi"),
        ("model", "Hello!"),
        ("user", "Where do I live?"),
    ]
    assert body["generationConfig"] == {"maxOutputTokens": 4096, "temperature": 0.7}


async def test_settings_come_from_the_constructor(fake_gemini: FakeGemini) -> None:
    model = GeminiLanguageModel(
        "k",
        base_url=fake_gemini.url,
        model="gemini-2.5-pro",
        generation=GenerationSettings(max_output_tokens=256, temperature=0.1),
    )
    try:
        await model.complete(PROMPT)
    finally:
        await model.aclose()
    request = fake_gemini.requests[0]
    assert request.path == "/v1/models/gemini-2.5-pro:generateContent"
    assert request.body["generationConfig"] == {"maxOutputTokens": 256, "temperature": 0.1}
    assert model.name == "gemini/gemini-2.5-pro"


async def test_completes_with_text_and_usage(gemini: GeminiLanguageModel, fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.text("Berlin, as far as I remember.", input_tokens=11))

    completion = await gemini.complete(PROMPT)

    assert completion.text == "Berlin, as far as I remember."
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (11, 6)
    assert fake_gemini.requests[0].path.endswith(":generateContent")


async def test_structured_output_sends_the_schema_and_parses_json(
    gemini: GeminiLanguageModel, fake_gemini: FakeGemini
) -> None:
    schema = {
        "type": "object",
        "properties": {"memories": {"type": "array", "items": {"type": "string"}}},
        "required": ["memories"],
    }
    fake_gemini.script(Reply.json({"memories": ["User lives in Berlin"]}))

    value = await gemini.structured(PROMPT, schema)

    assert value == {"memories": ["User lives in Berlin"]}
    config = fake_gemini.requests[0].body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == schema


async def test_malformed_json_is_invalid(gemini: GeminiLanguageModel, fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.text("not { json"))
    with pytest.raises(Invalid):
        await gemini.structured(PROMPT, {"type": "object"})


async def test_a_bad_request_is_invalid_and_not_retried(gemini: GeminiLanguageModel, fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.fail(400, "contents must not be empty"))
    with pytest.raises(Invalid, match="contents must not be empty"):
        await gemini.complete(PROMPT)
    assert len(fake_gemini.requests) == 1


async def test_a_server_error_is_retried_then_unavailable(gemini: GeminiLanguageModel, fake_gemini: FakeGemini) -> None:
    fake_gemini.script(*[Reply.fail(500, "internal")] * 3)
    with pytest.raises(Unavailable):
        [c async for c in gemini.stream(PROMPT)]
    assert len(fake_gemini.requests) == 3


async def test_a_rate_limit_then_success_is_retried(gemini: GeminiLanguageModel, fake_gemini: FakeGemini) -> None:
    fake_gemini.script(Reply.fail(429, "quota"), Reply.text("Berlin."))
    assert (await gemini.complete(PROMPT)).text == "Berlin."
    assert len(fake_gemini.requests) == 2

    fake_gemini.script(Reply.fail(429, "quota"), Reply.fail(503, "busy"), Reply.text("Still Berlin."))
    assert "".join([c.text async for c in gemini.stream(PROMPT)]) == "Still Berlin."
    assert len(fake_gemini.requests) == 5


async def test_a_lasting_rate_limit_is_reported(gemini: GeminiLanguageModel, fake_gemini: FakeGemini) -> None:
    fake_gemini.script(*[Reply.fail(429, "quota")] * 3)
    with pytest.raises(RateLimited) as caught:
        await gemini.complete(PROMPT)
    assert caught.value.retry_after_s > 0


async def test_a_stall_longer_than_the_timeout_is_unavailable(fake_gemini: FakeGemini) -> None:
    release = threading.Event()  # never set by the test: the fake releases it when it closes
    fake_gemini.script(Reply.text("one two three", hold_last=release))
    model = GeminiLanguageModel(
        "k", base_url=fake_gemini.url, generation=GenerationSettings(timeout_s=0.3), max_attempts=1
    )
    received: list[str] = []
    try:
        with pytest.raises(Unavailable):
            async for chunk in model.stream(PROMPT):
                received.append(chunk.text)
    finally:
        await model.aclose()
    assert received == ["one", " two"]


async def test_an_unreachable_server_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    model = GeminiLanguageModel(
        "k", base_url=f"http://127.0.0.1:{port}", max_attempts=2, backoff=Backoff(initial_s=0.01)
    )
    try:
        with pytest.raises(Unavailable):
            await model.complete(PROMPT)
    finally:
        await model.aclose()


async def test_a_prompt_without_messages_is_invalid(gemini: GeminiLanguageModel) -> None:
    with pytest.raises(Invalid):
        await gemini.complete(Prompt(system="s", messages=()))
