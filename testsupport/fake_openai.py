"""A loopback stand-in for an OpenAI-compatible chat/completions server (Ollama, vLLM, llama.cpp)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from testsupport.fake_llm_server import _MISSING, FakeLLMServer, Recorded, Reply, example_of, split_pieces, sse


class FakeOpenAI(FakeLLMServer):
    """By default it answers "You said: <last user text>", or in JSON mode the smallest value of the schema.

    With `reject_json_schema` it answers 400 to `response_format: json_schema`, as servers that only
    know JSON mode do.
    """

    def __init__(self) -> None:
        super().__init__()
        self.reject_json_schema = False

    def route(self, request: Recorded) -> str | None:
        if request.method != "POST" or not request.path.endswith("/chat/completions"):
            return None
        return "stream" if (request.body or {}).get("stream") else "complete"

    def stop_sequences(self, request: Recorded) -> list[str]:
        stop = (request.body or {}).get("stop")
        return [stop] if isinstance(stop, str) else list(stop or [])

    def default_reply(self, request: Recorded) -> Reply:
        body = request.body or {}
        response_format = body.get("response_format") or {}
        if response_format.get("type") == "json_schema":
            if self.reject_json_schema:
                return Reply.fail(400, "response_format json_schema is not supported")
            return Reply.json(example_of(response_format["json_schema"]["schema"]))
        if response_format.get("type") == "json_object":
            return Reply.json({})
        return Reply(pieces=split_pieces(f"You said: {last_user_text(request)}"))

    def error_body(self, status: int, message: str) -> Any:
        return {"error": {"message": message, "type": "invalid_request_error" if status < 500 else "server_error"}}

    def complete_body(self, reply: Reply, request: Recorded) -> Any:
        return {
            **_envelope(request, "chat.completion"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.full_text},
                    "finish_reason": "stop",
                }
            ],
            "usage": _usage(reply),
        }

    def stream_events(self, reply: Reply, request: Recorded) -> Iterator[bytes]:
        pieces = [reply.full_text] if reply.value is not _MISSING else reply.pieces
        envelope = _envelope(request, "chat.completion.chunk")
        for i, piece in enumerate(pieces):
            delta: dict[str, Any] = {"content": piece}
            if i == 0:
                delta["role"] = "assistant"
            last = i == len(pieces) - 1
            yield sse(
                {**envelope, "choices": [{"index": 0, "delta": delta, "finish_reason": "stop" if last else None}]}
            )
        if ((request.body or {}).get("stream_options") or {}).get("include_usage"):
            yield sse({**envelope, "choices": [], "usage": _usage(reply)})
        yield b"data: [DONE]\n\n"


def last_user_text(request: Recorded) -> str:
    for message in reversed((request.body or {}).get("messages", [])):
        if message.get("role") == "user":
            return str(message.get("content", ""))
    return ""


def _envelope(request: Recorded, kind: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": kind,
        "created": int(time.time()),
        "model": (request.body or {}).get("model"),
    }


def _usage(reply: Reply) -> dict[str, int]:
    output = len(reply.full_text.split())
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": output,
        "total_tokens": reply.input_tokens + output,
    }
