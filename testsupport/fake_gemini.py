"""A loopback stand-in for the Gemini API, spoken to by the real google-genai SDK in tests.

It serves `POST /{version}/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`
with Gemini's JSON shapes (candidates, usageMetadata, error objects).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from testsupport.fake_llm_server import _MISSING, FakeLLMServer, Recorded, Reply, example_of, split_pieces, sse

_PATH = re.compile(
    r"^/(?P<version>v1[a-z0-9]*)/models/(?P<model>[^/:]+):(?P<method>generateContent|streamGenerateContent)$"
)
_STATUS = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED"}


class FakeGemini(FakeLLMServer):
    """By default it answers "You said: <last user text>" or, in JSON mode, the smallest value of the schema."""

    def route(self, request: Recorded) -> str | None:
        match = _PATH.match(request.path)
        if request.method != "POST" or match is None:
            return None
        if match["method"] == "streamGenerateContent":
            return "stream" if request.query.get("alt") == ["sse"] else None
        return "complete"

    def stop_sequences(self, request: Recorded) -> list[str]:
        return list((request.body or {}).get("generationConfig", {}).get("stopSequences") or [])

    def default_reply(self, request: Recorded) -> Reply:
        config = (request.body or {}).get("generationConfig", {})
        if config.get("responseMimeType") == "application/json":
            schema = config.get("responseJsonSchema") or config.get("responseSchema") or {}
            return Reply.json(example_of(_lower_types(schema)))
        return Reply(pieces=split_pieces(f"You said: {last_user_text(request)}"))

    def error_body(self, status: int, message: str) -> Any:
        name = _STATUS.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
        return {"error": {"code": status, "message": message, "status": name}}

    def complete_body(self, reply: Reply, request: Recorded) -> Any:
        return _response(reply.full_text, reply, request, finished=True)

    def stream_events(self, reply: Reply, request: Recorded) -> Iterator[bytes]:
        pieces = [reply.full_text] if reply.value is not _MISSING else reply.pieces
        for i, piece in enumerate(pieces):
            yield sse(_response(piece, reply, request, finished=i == len(pieces) - 1))


def last_user_text(request: Recorded) -> str:
    contents = (request.body or {}).get("contents", [])
    for content in reversed(contents):
        if content.get("role", "user") == "user":
            return "".join(part.get("text", "") for part in content.get("parts", []))
    return ""


def _lower_types(schema: Any) -> Any:
    """The SDK sends OpenAPI-style upper-case types in responseSchema; example_of wants JSON Schema's."""
    if isinstance(schema, dict):
        return {k: (v.lower() if k == "type" and isinstance(v, str) else _lower_types(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_lower_types(v) for v in schema]
    return schema


def _response(text: str, reply: Reply, request: Recorded, finished: bool) -> dict[str, Any]:
    output_tokens = len(reply.full_text.split())
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}, "index": 0}
    body: dict[str, Any] = {"candidates": [candidate], "modelVersion": _model_of(request)}
    if finished:
        candidate["finishReason"] = "STOP"
        body["usageMetadata"] = {
            "promptTokenCount": reply.input_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": reply.input_tokens + output_tokens,
        }
    return body


def _model_of(request: Recorded) -> str:
    match = _PATH.match(request.path)
    return match["model"] if match else ""
