"""LanguageModel on Google's Gemini API through the google-genai SDK's async client."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from typing import Any

import httpx
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

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

try:  # the SDK uses httpx2 when it is installed, and its errors are not httpx's
    import httpx2

    _TRANSPORT_ERRORS: tuple[type[BaseException], ...] = (httpx.HTTPError, httpx2.HTTPError, OSError, TimeoutError)
except ImportError:  # pragma: no cover - depends on the environment
    _TRANSPORT_ERRORS = (httpx.HTTPError, OSError, TimeoutError)


DEFAULT_MODEL = "gemini-2.5-flash"
_RETRY_DELAY = re.compile(r"^(\d+(?:\.\d+)?)s$")


class GeminiLanguageModel(RemoteLanguageModel):
    """Streams, completes and answers in JSON with a Gemini model.

    Requests that fail with 429 or 5xx (or do not connect) are retried with exponential backoff,
    a stream only before its first piece of text (jyntrix_adapters.support.llm_retry).
    """

    api = "gemini"

    def __init__(
        self,
        api_key: str,
        *,
        model: str = DEFAULT_MODEL,
        generation: GenerationSettings = GenerationSettings(),
        max_attempts: int | None = None,
        backoff: Backoff | None = None,
        base_url: str | None = None,
        api_version: str | None = None,
    ) -> None:
        super().__init__(model, generation, ModelRetry.asked(generation, _failure, "Gemini", max_attempts, backoff))
        options = types.HttpOptions(
            base_url=base_url,
            api_version=api_version,
            timeout=int(generation.timeout_s * 1000),
            # One attempt per SDK call: retries are ours, so that they stop once text has streamed.
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        self._client = genai.Client(api_key=api_key, http_options=options)

    async def aclose(self) -> None:
        await self._client.aio.aclose()

    async def stream(self, prompt: Prompt) -> AsyncIterator[Chunk]:
        contents, config = _contents(prompt), self._config(prompt)
        async with contextlib.aclosing(self._retry.stream(lambda: self._stream_once(contents, config))) as chunks:
            async for chunk in chunks:
                yield chunk

    async def _stream_once(
        self, contents: list[types.Content], config: types.GenerateContentConfig
    ) -> AsyncGenerator[Chunk, None]:
        responses = await self._client.aio.models.generate_content_stream(
            model=self._model, contents=contents, config=config
        )
        usage: Usage | None = None
        async with _closing(responses):
            async for response in responses:
                usage = _usage(response) or usage
                text = _text(response)
                if text:
                    yield Chunk(text=text)
        yield Chunk(usage=usage or Usage())

    async def complete(self, prompt: Prompt) -> Completion:
        contents, config = _contents(prompt), self._config(prompt)
        response = await self._retry.call(
            lambda: self._client.aio.models.generate_content(model=self._model, contents=contents, config=config)
        )
        return Completion(text=_text(response, check_block=True), usage=_usage(response) or Usage())

    async def structured(self, prompt: Prompt, schema: Mapping[str, Any]) -> Any:
        contents = _contents(prompt)
        config = self._config(prompt, schema)
        response = await self._retry.call(
            lambda: self._client.aio.models.generate_content(model=self._model, contents=contents, config=config)
        )
        text = _text(response, check_block=True)
        try:
            return json.loads(text)
        except ValueError as exc:
            raise Invalid(f"Gemini answered with malformed JSON: {text[:200]!r}") from exc

    def _config(self, prompt: Prompt, schema: Mapping[str, Any] | None = None) -> types.GenerateContentConfig:
        system = "\n\n".join(
            [prompt.render_system(), *(t.content for t in prompt.messages if t.role == Role.SYSTEM)]
        ).strip()
        return types.GenerateContentConfig(
            system_instruction=system or None,
            max_output_tokens=self._generation.max_output_tokens,
            temperature=self._generation.temperature,
            response_mime_type="application/json" if schema is not None else None,
            response_json_schema=dict(schema) if schema is not None else None,
            stop_sequences=list(prompt.stop) or None,
        )


def _contents(prompt: Prompt) -> list[types.Content]:
    contents = [
        types.Content(role="model" if turn.role == Role.ASSISTANT else "user", parts=[types.Part(text=turn.content)])
        for turn in prompt.messages
        if turn.role != Role.SYSTEM
    ]
    if not contents:
        raise Invalid("the prompt has no user or assistant message")
    return contents


def _text(response: types.GenerateContentResponse, check_block: bool = False) -> str:
    if check_block and not response.candidates and response.prompt_feedback is not None:
        reason = response.prompt_feedback.block_reason
        if reason is not None:
            raise Invalid(f"Gemini blocked the prompt: {reason}")
    if not response.candidates:
        return ""
    content = response.candidates[0].content
    parts = content.parts if content is not None and content.parts else []
    # thought summaries are not part of the answer
    return "".join(part.text for part in parts if part.text and not part.thought)


def _usage(response: types.GenerateContentResponse) -> Usage | None:
    meta = response.usage_metadata
    if meta is None or (meta.prompt_token_count is None and meta.candidates_token_count is None):
        return None
    return Usage(input_tokens=meta.prompt_token_count or 0, output_tokens=meta.candidates_token_count or 0)


def _failure(exc: BaseException) -> Failure | None:
    if isinstance(exc, genai_errors.APIError):
        message = f"Gemini error {exc.code} {exc.status or ''}: {exc.message or ''}".strip()
        return status_failure(exc.code, message, _retry_after(exc) if exc.code == 429 else 1.0)
    if isinstance(exc, _TRANSPORT_ERRORS):  # connection failures and timeouts
        return Failure(Unavailable(f"Gemini is unreachable: {type(exc).__name__}: {exc}"), retryable=True)
    return None


def _retry_after(exc: genai_errors.APIError) -> float:
    """Gemini puts the wait in a google.rpc.RetryInfo detail ("retryDelay": "12s")."""
    details = exc.details.get("error", {}).get("details", []) if isinstance(exc.details, dict) else []
    for detail in details if isinstance(details, list) else []:
        match = _RETRY_DELAY.match(str(detail.get("retryDelay", ""))) if isinstance(detail, dict) else None
        if match:
            return float(match[1])
    response = exc.response
    header = getattr(response, "headers", {}).get("retry-after") if response is not None else None
    try:
        return float(header) if header else 1.0
    except ValueError:
        return 1.0


@contextlib.asynccontextmanager
async def _closing(stream: Any) -> AsyncIterator[None]:
    """Close the SDK's stream (and its HTTP response) when the caller stops reading early."""
    try:
        yield
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()
