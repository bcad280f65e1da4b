"""The OpenAI-compatible adapter over httpx, against the loopback fake chat/completions server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from jyntrix_adapters.openai.language_model import OpenAICompatibleLanguageModel
from jyntrix_adapters.support.backoff import Backoff
from jyntrix_domain.errors import Invalid, RateLimited, Unavailable
from jyntrix_domain.prompts import UNTRUSTED_MEMORY_NOTICE
from testsupport.fake_llm_server import PROMPT, Reply
from testsupport.fake_openai import FakeOpenAI

FENCED_SYSTEM = (
    f"You are Jyntrix.\n\n{UNTRUSTED_MEMORY_NOTICE}\n<user_memories>\n[1] User lives in Berlin\n</user_memories>"
)
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


@pytest.fixture
async def llm(fake_openai: FakeOpenAI) -> AsyncIterator[OpenAICompatibleLanguageModel]:
    model = OpenAICompatibleLanguageModel(
        fake_openai.url + "/v1", model="llama3.1", backoff=Backoff(initial_s=0.01, max_s=0.05), max_attempts=3
    )
    yield model
    await model.aclose()


async def test_streams_server_sent_events_until_done(
    llm: OpenAICompatibleLanguageModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply.text("You live in Berlin [1].", input_tokens=30))

    chunks = [c async for c in llm.stream(PROMPT)]

    assert [c.text for c in chunks[:-1]] == ["You", " live", " in", " Berlin", " [1]."]
    assert chunks[-1].usage is not None
    assert (chunks[-1].usage.input_tokens, chunks[-1].usage.output_tokens) == (30, 5)
    request = fake_openai.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.body["stream"] is True
    assert request.body["stream_options"] == {"include_usage": True}


async def test_sends_the_dialogue_with_the_system_prompt_first(
    llm: OpenAICompatibleLanguageModel, fake_openai: FakeOpenAI
) -> None:
    await llm.complete(PROMPT)

    body = fake_openai.requests[0].body
    assert body["model"] == "llama3.1"
    assert body["messages"] == [
        {
            "role": "system",
            "content": FENCED_SYSTEM,
        },
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Where do I live?"},
    ]
    assert (body["max_tokens"], body["temperature"], body["stream"]) == (4096, 0.7, False)


async def test_completes_with_text_and_usage(llm: OpenAICompatibleLanguageModel, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.text("Berlin.", input_tokens=9))
    completion = await llm.complete(PROMPT)
    assert completion.text == "Berlin."
    assert (completion.usage.input_tokens, completion.usage.output_tokens) == (9, 1)


async def test_the_api_key_is_sent_only_when_configured(fake_openai: FakeOpenAI) -> None:
    keyed = OpenAICompatibleLanguageModel(fake_openai.url + "/v1", model="m", api_key="sk-test")
    keyless = OpenAICompatibleLanguageModel(fake_openai.url + "/v1", model="m")
    try:
        await keyed.complete(PROMPT)
        await keyless.complete(PROMPT)
    finally:
        await keyed.aclose()
        await keyless.aclose()
    assert fake_openai.requests[0].headers["authorization"] == "Bearer sk-test"
    assert "authorization" not in fake_openai.requests[1].headers


async def test_structured_output_asks_for_the_json_schema(
    llm: OpenAICompatibleLanguageModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply.json({"city": "Berlin"}))

    assert await llm.structured(PROMPT, SCHEMA) == {"city": "Berlin"}
    response_format = fake_openai.requests[0].body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["schema"] == SCHEMA


async def test_structured_output_falls_back_to_json_mode(
    llm: OpenAICompatibleLanguageModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.reject_json_schema = True
    fake_openai.script(Reply.fail(400, "json_schema unsupported"), Reply.text('```json\n{"city": "Berlin"}\n```'))

    assert await llm.structured(PROMPT, SCHEMA) == {"city": "Berlin"}
    fallback = fake_openai.requests[1].body
    assert fallback["response_format"] == {"type": "json_object"}
    assert '"required": ["city"]' in fallback["messages"][0]["content"]

    # the server's answer is remembered: no second json_schema attempt
    await llm.structured(PROMPT, SCHEMA)
    assert fake_openai.requests[2].body["response_format"] == {"type": "json_object"}


async def test_a_bad_request_is_invalid(llm: OpenAICompatibleLanguageModel, fake_openai: FakeOpenAI) -> None:
    fake_openai.script(Reply.fail(400, "model not loaded"))
    with pytest.raises(Invalid, match="model not loaded"):
        [c async for c in llm.stream(PROMPT)]
    assert len(fake_openai.requests) == 1


async def test_a_server_error_is_unavailable_after_retries(
    llm: OpenAICompatibleLanguageModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(*[Reply.fail(502, "bad gateway")] * 3)
    with pytest.raises(Unavailable):
        await llm.complete(PROMPT)
    assert len(fake_openai.requests) == 3


async def test_a_rate_limit_then_success_is_retried(
    llm: OpenAICompatibleLanguageModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply.fail(429, "slow down", retry_after="0"), Reply.text("Berlin."))
    assert "".join([c.text async for c in llm.stream(PROMPT)]) == "Berlin."
    assert len(fake_openai.requests) == 2


async def test_a_lasting_rate_limit_carries_retry_after(
    llm: OpenAICompatibleLanguageModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(*[Reply.fail(429, "slow down", retry_after="0.01")] * 3)
    with pytest.raises(RateLimited) as caught:
        await llm.complete(PROMPT)
    assert caught.value.retry_after_s == pytest.approx(0.01)


async def test_an_error_inside_the_stream_is_a_domain_error(
    llm: OpenAICompatibleLanguageModel, fake_openai: FakeOpenAI
) -> None:
    fake_openai.script(Reply.text("one two three", drop_after=1))
    with pytest.raises(Unavailable):
        [c async for c in llm.stream(PROMPT)]
    assert len(fake_openai.requests) == 1  # text had reached the caller: no retry
