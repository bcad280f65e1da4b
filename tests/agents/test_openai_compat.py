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
from testsupport.app import SECRET, make_settings
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
    app_client.blocking_portal.call(lambda: tasks.drain(scheduled=False))


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
        model="offline", messages=[{"role": "user", "content": "Where does my sister live?"}]
    )
    assert asked.model == "offline"
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
            model="jyntrix", messages=[{"role": "user", "content": "I am planning a trip to Kyoto."}]
        )
        conversation_id = first.model_extra["jyntrix"]["conversation_id"]  # type: ignore[index]
        client.chat.completions.create(
            model="jyntrix",
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
            model="jyntrix",
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
        ({"frobnicate": 1}, "frobnicate"),
    ],
)
def test_unsupported_parameters_are_a_400_naming_them(
    app_client: TestClient, token: str, extra: dict[str, Any], param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk(app_client, token).chat.completions.create(
            model="jyntrix", messages=[{"role": "user", "content": "hi"}], extra_body=extra
        )
    assert caught.value.status_code == 400
    assert caught.value.param == param
    assert caught.value.type == "invalid_request_error"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
        ({"model": "jyntrix", "messages": []}, "messages"),
        ({"model": "jyntrix", "messages": [{"role": "assistant", "content": "hi"}]}, "messages"),
        ({"model": "jyntrix", "messages": [{"role": "tool", "content": "x", "tool_call_id": "1"}]}, "messages[0].role"),
        ({"model": "jyntrix", "messages": [{"role": "user", "content": ""}]}, "messages[0].content"),
        (
            {"model": "jyntrix", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
            "messages[0].content",
        ),
        ({"model": "jyntrix", "messages": "hi"}, "messages"),
        ({"model": "jyntrix", "messages": [{"role": "user", "content": "hi"}], "stop": list("abcde")}, "stop"),
        ({"model": "jyntrix", "messages": [{"role": "user", "content": "hi"}], "stop": ""}, "stop"),
        ({"model": "jyntrix", "messages": [{"role": "user", "content": "hi"}], "stop": ["x" * 201]}, "stop"),
        ({"model": "jyntrix", "messages": [{"role": "user", "content": "hi"}], "stop": [1]}, "stop[0]"),
        ({"model": "jyntrix", "messages": [{"role": "user", "content": "hi"}], "stop": {"a": 1}}, "stop"),
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
    body = {"model": "jyntrix", "messages": [{"role": "user", "content": "hi"}]}
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
        sdk(app_client, "not-a-token").chat.completions.create(
            model="jyntrix", messages=[{"role": "user", "content": "x"}]
        )


def test_the_rate_limit_applies(tmp_path: Path, token: str) -> None:
    with TestClient(create_app(make_settings(tmp_path, rate_limit_requests=1, rate_limit_window_s=60.0))) as app_client:
        client = sdk(app_client, token)
        client.chat.completions.create(model="jyntrix", messages=[{"role": "user", "content": "one"}])
        with pytest.raises(openai.RateLimitError) as caught:
            client.chat.completions.create(model="jyntrix", messages=[{"role": "user", "content": "two"}])
        assert caught.value.response.headers["retry-after"]
        assert caught.value.body["type"] == "rate_limit_error"  # type: ignore[index]


def test_a_body_over_the_limit_is_a_413_in_openais_shape(app_client: TestClient, token: str) -> None:
    huge = {"model": "jyntrix", "messages": [{"role": "user", "content": "x" * (11 * 1024 * 1024)}]}
    response = app_client.post("/v1/chat/completions", json=huge, headers=_auth(token))
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_the_models_are_listed_and_retrieved_in_openais_shapes(app_client: TestClient, token: str) -> None:
    client = sdk(app_client, token)
    models = list(client.models.list())
    assert [(m.id, m.object, m.owned_by) for m in models] == [
        ("jyntrix", "model", "jyntrix"),
        ("offline", "model", "jyntrix"),
    ]
    assert all(m.created > 0 for m in models)
    assert client.models.retrieve("offline") == models[1]
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.retrieve("gpt-4o")
    assert caught.value.code == "model_not_found"
    assert "`jyntrix`, `offline`" in caught.value.message
    with pytest.raises(openai.NotFoundError) as long_one:
        client.models.retrieve("m" * 5000)
    assert "m" * 100 + "…" in long_one.value.message and len(long_one.value.message) < 300


def test_the_models_need_a_token_and_answer_without_one_in_openais_shape(app_client: TestClient) -> None:
    for path in ("/v1/models", "/v1/models/offline"):
        refused = app_client.get(path)
        assert refused.status_code == 401
        assert refused.json()["error"]["type"] == "authentication_error"
        assert refused.headers["www-authenticate"].startswith("Bearer")
    with pytest.raises(openai.AuthenticationError):
        sdk(app_client, "not-a-token").models.list()


def test_the_configured_model_is_listed_by_its_own_name_and_accepted(tmp_path: Path, token: str) -> None:
    """A provider's model ("gemini/gemini-2.5-flash") is listed by its model name, even one holding a slash."""
    for name, listed, owner in [
        ("gemini/gemini-2.5-flash", "gemini-2.5-flash", "gemini"),
        ("openai-compatible/meta-llama/Llama-3.1-8B-Instruct", "meta-llama/Llama-3.1-8B-Instruct", "openai-compatible"),
    ]:
        model = ScriptedLanguageModel(lambda prompt: "Hello there.", name=name)
        with TestClient(create_app(make_settings(tmp_path / owner), overrides={"llm": model})) as app_client:
            client = sdk(app_client, token)
            assert [(m.id, m.owned_by) for m in client.models.list()] == [("jyntrix", "jyntrix"), (listed, owner)]
            assert client.models.retrieve(listed).id == listed
            answered = client.chat.completions.create(model=listed, messages=[{"role": "user", "content": "hi"}])
            assert (answered.model, answered.choices[0].message.content) == (listed, "Hello there.")


def test_a_model_not_listed_is_answered_by_the_configured_one_and_echoed(app_client: TestClient, token: str) -> None:
    # Code written for another model's name keeps working: Jyntrix answers with the model it is configured with.
    answered = sdk(app_client, token).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    assert answered.model == "gpt-4o" and answered.choices[0].message.content


def test_stop_ends_the_answer_before_the_first_stop_sequence_streamed_or_not(tmp_path: Path, token: str) -> None:
    model = echo_model()
    with TestClient(create_app(make_settings(tmp_path), overrides={"llm": model})) as app_client:
        client = sdk(app_client, token)
        said = [{"role": "user", "content": "I need a new tent for the trip."}]
        whole = client.chat.completions.create(model="jyntrix", messages=said, stop="tent")
        assert whole.choices[0].message.content == "Re: I need a new "
        assert [p.stop for p in model.prompts if p.system == SYSTEM_PROMPT] == [("tent",)]

        stream = client.chat.completions.create(
            model="jyntrix", messages=said, stop=["for", "new", "trip"], stream=True
        )
        chunks = list(stream)
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Re: I need a "
        assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"

        # What is stored is what was answered: the answer ends where it stopped.
        conversation_id = whole.model_extra["jyntrix"]["conversation_id"]  # type: ignore[index]
        stored = app_client.get(f"/api/chat/conversations/{conversation_id}/messages", headers=_auth(token)).json()
        assert [m["content"] for m in stored["items"]][-1] == "Re: I need a new "
