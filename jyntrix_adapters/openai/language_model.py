"""LanguageModel for any OpenAI-compatible chat/completions server (Ollama, vLLM, llama.cpp, OpenAI)."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

import httpx

from jyntrix_adapters.support.backoff import Backoff
from jyntrix_adapters.support.llm_retry import (
    Failure,
    GenerationSettings,
    ModelRetry,
    RemoteLanguageModel,
    status_failure,
)
from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.model import Role
from jyntrix_domain.prompts import Chunk, Completion, Prompt, Usage

log = logging.getLogger(__name__)


class _HTTPStatusError(Exception):
    def __init__(self, status: int, message: str, retry_after: str | None) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.retry_after = retry_after


class OpenAICompatibleLanguageModel(RemoteLanguageModel):
    """Streams over SSE (`stream: true`, ending with `data: [DONE]`), completes, and answers in JSON.

    Structured output asks for `response_format: json_schema`; a server that refuses it (400) is asked
    again, and from then on, in JSON mode with the schema in the instructions.
    """

    api = "openai-compatible"

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        api_key: str | None = None,
        generation: GenerationSettings = GenerationSettings(),
        max_attempts: int | None = None,
        backoff: Backoff | None = None,
        include_usage: bool = True,
    ) -> None:
        self._url = base_url.rstrip("/") + "/chat/completions"
        super().__init__(model, generation, ModelRetry.asked(generation, _failure, self._url, max_attempts, backoff))
        self._include_usage = include_usage
        self._json_schema_supported = True
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        timeout_s = generation.timeout_s
        self._client = httpx.AsyncClient(
            headers=headers, timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s))
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def stream(self, prompt: Prompt) -> AsyncIterator[Chunk]:
        body = self._body(prompt, stream=True)
        async with contextlib.aclosing(self._retry.stream(lambda: self._stream_once(body))) as chunks:
            async for chunk in chunks:
                yield chunk

    async def _stream_once(self, body: dict[str, Any]) -> AsyncGenerator[Chunk, None]:
        usage: Usage | None = None
        async with self._client.stream("POST", self._url, json=body) as response:
            await _raise_for_status(response)
            async for line in response.aiter_lines():
                event = _sse_event(line)
                if event is None:
                    continue
                if event == "[DONE]":
                    break
                usage = _usage(event) or usage
                text = "".join(
                    (choice.get("delta") or {}).get("content") or "" for choice in event.get("choices") or []
                )
                if text:
                    yield Chunk(text=text)
        yield Chunk(usage=usage or Usage())

    async def complete(self, prompt: Prompt) -> Completion:
        data = await self._retry.call(lambda: self._post(self._body(prompt, stream=False)))
        return Completion(text=_message_text(data), usage=_usage(data) or Usage())

    async def structured(self, prompt: Prompt, schema: Mapping[str, Any]) -> Any:
        if self._json_schema_supported:
            body = self._body(prompt, stream=False)
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "response", "schema": dict(schema)},
            }
            try:
                data = await self._retry.call(lambda: self._post(body))
                return _parse_json(_message_text(data))
            except Invalid as exc:
                cause = exc.__cause__
                if not isinstance(cause, _HTTPStatusError) or cause.status != 400:
                    raise
                log.info("%s refused json_schema output (%s); using JSON mode", self._url, exc)
                self._json_schema_supported = False
        instruction = "Answer with one JSON value, and nothing else, that follows this JSON schema:\n" + json.dumps(
            dict(schema)
        )
        body = self._body(prompt, stream=False, extra_system=instruction)
        body["response_format"] = {"type": "json_object"}
        data = await self._retry.call(lambda: self._post(body))
        return _parse_json(_message_text(data))

    def _body(self, prompt: Prompt, *, stream: bool, extra_system: str = "") -> dict[str, Any]:
        system = "\n\n".join(s for s in (prompt.render_system(), extra_system) if s)
        messages = [{"role": "system", "content": system}] if system else []
        messages += [{"role": turn.role.value, "content": turn.content} for turn in prompt.messages]
        if not any(turn.role != Role.SYSTEM for turn in prompt.messages):
            raise Invalid("the prompt has no user or assistant message")
        body: dict[str, Any] = {
            "model": self._model,
            "messages": messages,
            "max_tokens": self._generation.max_output_tokens,
            "temperature": self._generation.temperature,
            "stream": stream,
        }
        if prompt.stop:
            body["stop"] = list(prompt.stop)
        if stream and self._include_usage:
            body["stream_options"] = {"include_usage": True}
        return body

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        response = await self._client.post(self._url, json=body)
        await _raise_for_status(response)
        data = response.json()
        if not isinstance(data, dict):
            raise ValueError("the server answered with something other than a JSON object")
        return data


async def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    await response.aread()
    try:
        error = response.json().get("error")
        message = error.get("message", str(error)) if isinstance(error, dict) else str(error)
    except (ValueError, AttributeError):
        message = response.text[:500]
    raise _HTTPStatusError(response.status_code, message, response.headers.get("retry-after"))


def _sse_event(line: str) -> Any:
    if not line.startswith("data:"):
        return None  # comments, event names, keep-alives and blank separators
    data = line[len("data:") :].strip()
    if data == "[DONE]":
        return data
    event = json.loads(data)
    if isinstance(event, dict) and event.get("error"):
        # some servers report a failure inside the stream after a 200
        raise _HTTPStatusError(500, str(event["error"]), None)
    return event


def _message_text(data: dict[str, Any]) -> str:
    choices = data.get("choices") or []
    if not choices:
        raise ValueError("the server answered with no choices")
    return str((choices[0].get("message") or {}).get("content") or "")


def _usage(data: dict[str, Any]) -> Usage | None:
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return None
    return Usage(
        input_tokens=int(usage.get("prompt_tokens") or 0), output_tokens=int(usage.get("completion_tokens") or 0)
    )


def _parse_json(text: str) -> Any:
    stripped = text.strip()
    if stripped.startswith("```"):
        # small local models often fence JSON even in JSON mode
        stripped = stripped.strip("`").removeprefix("json").strip()
    try:
        return json.loads(stripped)
    except ValueError as exc:
        raise Invalid(f"the model answered with malformed JSON: {text[:200]!r}") from exc


def _failure(exc: BaseException) -> Failure | None:
    if isinstance(exc, _HTTPStatusError):
        message = f"language model server error {exc.status}: {exc.message}"
        return status_failure(exc.status, message, _seconds(exc.retry_after))
    if isinstance(exc, httpx.HTTPError):
        error = Unavailable(f"language model server unreachable: {type(exc).__name__}: {exc}")
        return Failure(error, retryable=isinstance(exc, httpx.TransportError))
    if isinstance(exc, ValueError):
        return Failure(Unavailable(f"language model server answered with something unexpected: {exc}"), False)
    return None


def _seconds(retry_after: str | None) -> float:
    try:
        return float(retry_after) if retry_after else 1.0
    except ValueError:
        return 1.0
