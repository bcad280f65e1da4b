"""`POST /v1/chat/completions` through the official openai SDK (its own httpx client on the app) and raw HTTP."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import openai
import pytest
from litestar.testing import TestClient

from jyntrix_adapters.inprocess.task_queue import InProcessTaskQueue
from jyntrix_domain.chat import SYSTEM_PROMPT
from jyntrix_domain.model import Role
from jyntrix_http.app import create_app
from jyntrix_http.auth import mint_token
from tests.http.conftest import SECRET, make_settings
from testsupport.scripted_language_model import ScriptedLanguageModel

BASE = "http://testserver.local"


def echo_model() -> ScriptedLanguageModel:
    """Answers "Re: <the last message>", and records the prompts."""
    return ScriptedLanguageModel(lambda prompt: f"Re: {prompt.messages[-1].content}")


def chat_prompts(model: ScriptedLanguageModel) -> list[list[tuple[Role, str]]]:
    """The turns of each chat prompt the model was given (extraction's prompts left out)."""
    return [[(t.role, t.content) for t in p.messages] for p in model.prompts if p.system == SYSTEM_PROMPT]


@pytest.fixture
def token() -> str:
    return mint_token(SECRET, f"user-{uuid.uuid4()}")


def sdk(app_client: TestClient, token: str) -> openai.OpenAI:
    return openai.OpenAI(api_key=token, base_url=f"{BASE}/v1", http_client=app_client, max_retries=0)


def drain(app_client: TestClient) -> None:
    tasks = app_client.app.state.runtime.tasks
    assert isinstance(tasks, InProcessTaskQueue)
    app_client.blocking_portal.call(tasks.drain)


def test_a_fact_told_in_one_call_is_recalled_in_a_later_one(app_client: TestClient, token: str) -> None:
    client = sdk(app_client, token)
    told = client.chat.completions.create(
        model="jyntrix", messages=[{"role": "user", "content": "My sister Maya lives in Lisbon."}]
    )
    assert told.model == "jyntrix"
    assert told.object == "chat.completion"
    assert told.choices[0].message.role == "assistant"
    assert told.choices[0].finish_reason == "stop"
    drain(app_client)  # extraction runs in the background after the turn

    asked = client.chat.completions.create(
        model="my-model", messages=[{"role": "user", "content": "Where does my sister live?"}]
    )
    assert asked.model == "my-model"
    assert "Lisbon" in (asked.choices[0].message.content or "")
    assert asked.usage is not None and asked.usage.completion_tokens > 0


def test_streaming_chunks_then_done(app_client: TestClient, token: str) -> None:
    client = sdk(app_client, token)
    stream = client.chat.completions.create(
        model="jyntrix",
        messages=[{"role": "user", "content": "My sister Maya lives in Lisbon."}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    assert {c.id for c in chunks} == {chunks[0].id}


def test_metadata_conversation_id_continues_the_stored_conversation(tmp_path: Path, token: str) -> None:
    model = echo_model()
    with TestClient(create_app(make_settings(tmp_path), overrides={"llm": model})) as app_client:
        client = sdk(app_client, token)
        first = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "I am planning a trip to Kyoto."}]
        )
        conversation_id = first.model_extra["jyntrix"]["conversation_id"]  # type: ignore[index]
        client.chat.completions.create(
            model="m",
            messages=[
                {"role": "user", "content": "Earlier messages the caller sends are ignored here."},
                {"role": "user", "content": "What should I pack?"},
            ],
            metadata={"conversation_id": conversation_id},
        )
        # The stored conversation is the history: the first turn and its answer, not the request's first message.
        assert chat_prompts(model)[1] == [
            (Role.USER, "I am planning a trip to Kyoto."),
            (Role.ASSISTANT, "Re: I am planning a trip to Kyoto."),
            (Role.USER, "What should I pack?"),
        ]
        stored = app_client.get(f"/api/chat/conversations/{conversation_id}/messages", headers=_auth(token)).json()
        assert [m["content"] for m in stored["items"]] == [
            "I am planning a trip to Kyoto.",
            "Re: I am planning a trip to Kyoto.",
            "What should I pack?",
            "Re: What should I pack?",
        ]


def test_without_a_conversation_earlier_messages_are_history_for_this_call_only(tmp_path: Path, token: str) -> None:
    model = echo_model()
    with TestClient(create_app(make_settings(tmp_path), overrides={"llm": model})) as app_client:
        reply = sdk(app_client, token).chat.completions.create(
            model="m",
            messages=[
                {"role": "system", "content": "You are terse."},
                {"role": "user", "content": "I like green tea."},
                {"role": "assistant", "content": "Green tea, noted."},
                {"role": "user", "content": [{"type": "text", "text": "And oolong too."}]},
            ],
        )
        assert chat_prompts(model)[0] == [
            (Role.USER, "I like green tea."),
            (Role.ASSISTANT, "Green tea, noted."),
            (Role.USER, "And oolong too."),
        ]
        conversation_id = reply.model_extra["jyntrix"]["conversation_id"]  # type: ignore[index]
        stored = app_client.get(f"/api/chat/conversations/{conversation_id}/messages", headers=_auth(token)).json()
        assert [m["content"] for m in stored["items"]] == ["And oolong too.", "Re: And oolong too."]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
        ({"n": 2}, "n"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
        ({"logprobs": True}, "logprobs"),
        ({"stop": ["\n"]}, "stop"),
        ({"frobnicate": 1}, "frobnicate"),
    ],
)
def test_unsupported_parameters_are_a_400_naming_them(
    app_client: TestClient, token: str, extra: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(app_client, token).chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], extra_body=extra
        )
    assert caught.value.status_code == 400
    assert caught.value.param == param
    assert caught.value.type == "invalid_request_error"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
        ({"model": "m", "messages": []}, "messages"),
        ({"model": "m", "messages": [{"role": "assistant", "content": "hi"}]}, "messages"),
        ({"model": "m", "messages": [{"role": "tool", "content": "x", "tool_call_id": "1"}]}, "messages[0].role"),
        ({"model": "m", "messages": [{"role": "user", "content": ""}]}, "messages[0].content"),
        ({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, "messages[0].content"),
        ({"model": "m", "messages": "hi"}, "messages"),
    ],
)
def test_bad_requests_are_400_in_openais_shape(
    app_client: TestClient, token: str, body: dict[str, Any], param: str
) -> None:
    response = app_client.post("/v1/chat/completions", json=body, headers=_auth(token))
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert error["message"]
    assert response.headers["x-request-id"]


def test_http_errors_are_in_openais_shape(app_client: TestClient, token: str) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    unauthenticated = app_client.post("/v1/chat/completions", json=body)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["type"] == "authentication_error"
    not_json = app_client.post(
        "/v1/chat/completions", content=b"model=m", headers={**_auth(token), "Content-Type": "text/plain"}
    )
    assert not_json.status_code == 415
    assert "error" in not_json.json()
    broken = app_client.post(
        "/v1/chat/completions", content=b"{", headers={**_auth(token), "Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert "error" in broken.json()
    unknown = app_client.post(
        "/v1/chat/completions", json={**body, "metadata": {"conversation_id": "nope"}}, headers=_auth(token)
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["param"] == "metadata.conversation_id"


def test_bad_token_through_the_sdk_is_an_authentication_error(app_client: TestClient) -> None:
    with pytest.raises(openai.AuthenticationError):
        sdk(app_client, "not-a-token").chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])


def test_the_rate_limit_applies(tmp_path: Path, token: str) -> None:
    with TestClient(create_app(make_settings(tmp_path, rate_limit_requests=1, rate_limit_window_s=60.0))) as app_client:
        client = sdk(app_client, token)
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": "one"}])
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "two"}])
        assert caught.value.response.headers["retry-after"]
        assert caught.value.body["type"] == "rate_limit_error"  # type: ignore[index]


def test_a_body_over_the_limit_is_a_413_in_openais_shape(app_client: TestClient, token: str) -> None:
    huge = {"model": "m", "messages": [{"role": "user", "content": "x" * (11 * 1024 * 1024)}]}
    response = app_client.post("/v1/chat/completions", json=huge, headers=_auth(token))
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "invalid_request_error"
