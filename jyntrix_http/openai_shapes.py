"""OpenAI's shapes, as `/v1` reads and writes them: chat completions and the models that answer them.

A request is checked field by field so that a parameter Jyntrix cannot honour is a 400 naming it, in OpenAI's
error shape, rather than silently ignored.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import MAX_MESSAGE_CHARS, Role
from jyntrix_domain.prompts import ChatTurn, stop_sequences

CONVERSATION_HEADER = "X-Jyntrix-Conversation-Id"

# Accepted and not used: the server's own model settings (LLM_TEMPERATURE, LLM_MAX_OUTPUT_TOKENS...) apply, and
# the token, not `user`, says whose memories these are.
IGNORED = frozenset(
    {
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "presence_penalty",
        "frequency_penalty",
        "seed",
        "user",
        "store",
        "service_tier",
        "safety_identifier",
        "prompt_cache_key",
    }
)
UNSUPPORTED = {
    "tools": "tool calls are not supported",
    "tool_choice": "tool calls are not supported",
    "functions": "function calls are not supported",
    "function_call": "function calls are not supported",
    "parallel_tool_calls": "tool calls are not supported",
    "response_format": "only plain text answers are supported",
    "logprobs": "log probabilities are not supported",
    "top_logprobs": "log probabilities are not supported",
    "logit_bias": "logit bias is not supported",
    "audio": "audio is not supported",
    "modalities": "only text is supported",
    "prediction": "predicted outputs are not supported",
    "web_search_options": "web search is not supported",
    "reasoning_effort": "reasoning effort is not supported",
    "verbosity": "verbosity is not supported",
}
KNOWN = frozenset({"model", "messages", "stream", "stream_options", "metadata", "n", "stop"}) | IGNORED
# Values of unsupported parameters that mean "the default", which is what Jyntrix does anyway.
HARMLESS: dict[str, tuple[Any, ...]] = {
    "response_format": ({"type": "text"},),
    "logprobs": (False, None),
    "modalities": (["text"], None),
    "parallel_tool_calls": (None,),
    "tools": ([], None),
}


class OpenAIRefusal(Exception):
    """A request this route refuses: its status, OpenAI error type and code, and the parameter at fault."""

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        status: int = 400,
        type: str = "invalid_request_error",
        code: str | None = "invalid_value",
    ) -> None:
        super().__init__(message)
        self.param = param
        self.status = status
        self.type = type
        self.code = code


class StreamOptions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    include_usage: bool = False


class ChatRequest(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    messages: list[dict[str, Any]]
    stream: bool = False
    stream_options: StreamOptions | None = None
    metadata: dict[str, str] | None = None
    n: int = 1
    stop: str | list[str] | None = None


class ParsedRequest(msgspec.Struct, frozen=True, kw_only=True):
    model: str
    stream: bool
    include_usage: bool
    conversation_id: str | None
    content: str
    history: tuple[ChatTurn, ...]
    stop: tuple[str, ...] = ()


_ROLES = {"user": Role.USER, "assistant": Role.ASSISTANT, "system": Role.SYSTEM, "developer": Role.SYSTEM}


def parse_request(body: Any, conversation_header: str | None) -> ParsedRequest:
    """The request as the chat pipeline needs it; raises OpenAIRefusal naming the parameter at fault."""
    if not isinstance(body, dict):
        raise OpenAIRefusal("the body must be a JSON object")
    for name, value in body.items():
        if name in UNSUPPORTED and value not in HARMLESS.get(name, ()):
            raise OpenAIRefusal(
                f"`{name}` is not supported: {UNSUPPORTED[name]}", param=name, code="unsupported_parameter"
            )
        if name not in KNOWN and name not in UNSUPPORTED:
            raise OpenAIRefusal(f"unknown parameter `{name}`", param=name, code="unknown_parameter")
    try:
        request = msgspec.convert({k: v for k, v in body.items() if k in KNOWN - IGNORED}, ChatRequest)
    except msgspec.ValidationError as exc:
        raise OpenAIRefusal(str(exc), param=_param_of(str(exc))) from None
    if request.n != 1:
        raise OpenAIRefusal("only n=1 is supported", param="n", code="unsupported_parameter")
    if not request.model.strip():
        raise OpenAIRefusal("`model` must not be empty", param="model")
    turns = [_turn(n, message) for n, message in enumerate(request.messages)]
    if not turns or turns[-1].role is not Role.USER:
        raise OpenAIRefusal("the last message must be the user's", param="messages")
    conversation_id = (request.metadata or {}).get("conversation_id") or conversation_header or None
    try:
        stop = stop_sequences([request.stop] if isinstance(request.stop, str) else request.stop or [])
    except Invalid as exc:
        raise OpenAIRefusal(str(exc), param="stop") from None
    return ParsedRequest(
        model=request.model,
        stream=request.stream,
        include_usage=bool(request.stream_options and request.stream_options.include_usage),
        conversation_id=conversation_id,
        content=turns[-1].content,
        history=tuple(t for t in turns[:-1] if t.role is not Role.SYSTEM),
        stop=stop,
    )


def _turn(n: int, message: dict[str, Any]) -> ChatTurn:
    role = _ROLES.get(str(message.get("role")))
    if role is None:
        raise OpenAIRefusal(
            f"role {message.get('role')!r} is not supported (user, assistant, system or developer)",
            param=f"messages[{n}].role",
        )
    content = message.get("content")
    if isinstance(content, list):
        parts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise OpenAIRefusal("only text content parts are supported", param=f"messages[{n}].content")
            parts.append(part["text"])
        content = "\n".join(parts)
    if not isinstance(content, str) or not content.strip():
        raise OpenAIRefusal("content must be a non-empty string", param=f"messages[{n}].content")
    if len(content) > MAX_MESSAGE_CHARS:
        raise OpenAIRefusal(f"content is longer than {MAX_MESSAGE_CHARS} characters", param=f"messages[{n}].content")
    return ChatTurn(role=role, content=content)


def _param_of(message: str) -> str | None:
    """`messages` from msgspec's "... - at `$.messages[0]`"; the missing field from "missing required field"."""
    if "`$." in message:
        return message.rsplit("`$.", 1)[1].rstrip("`")
    if "required field `" in message:
        return message.split("required field `", 1)[1].split("`", 1)[0]
    return None


# ------------------------------------------------------------------ responses


class OpenAIError(msgspec.Struct, frozen=True, kw_only=True):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True):
    error: OpenAIError


class AnswerMessage(msgspec.Struct, frozen=True, kw_only=True):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(msgspec.Struct, frozen=True, kw_only=True):
    index: int = 0
    message: AnswerMessage
    finish_reason: str = "stop"
    logprobs: None = None


class CompletionUsage(msgspec.Struct, frozen=True, kw_only=True):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class JyntrixTurn(msgspec.Struct, frozen=True, kw_only=True):
    """Where the turn was stored, so that the caller can continue it with `metadata.conversation_id`."""

    conversation_id: str
    user_message_id: str
    message_id: str | None = None
    memories: list[str] = []


class ChatCompletion(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: CompletionUsage
    jyntrix: JyntrixTurn


class Delta(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    role: str | None = None
    content: str | None = None


class ChunkChoice(msgspec.Struct, frozen=True, kw_only=True):
    index: int = 0
    delta: Delta
    finish_reason: str | None = None
    logprobs: None = None


class ChatCompletionChunk(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: CompletionUsage | None = None
    jyntrix: JyntrixTurn | None = None


# ------------------------------------------------------------------ models

# Always the model this server answers with, whichever it is: a client configured with it survives a change of model.
ALIAS = "jyntrix"


class Model(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(msgspec.Struct, frozen=True, kw_only=True):
    object: Literal["list"] = "list"
    data: list[Model]


def served_models(model_name: str, created: int) -> list[Model]:
    """What `GET /v1/models` lists, and so what `model` may name in a chat completion: the alias `jyntrix`, and
    the configured language model by its own name ("offline", "gemini-2.5-flash", "llama3.2"), owned by its
    provider. `model_name` is the model's LanguageModel.name, "<provider>/<model>" or one word ("offline")."""
    provider, _, model = model_name.partition("/")
    own = Model(id=model or provider, created=created, owned_by=provider if model else ALIAS)
    return [Model(id=ALIAS, created=created, owned_by=ALIAS), *([own] if own.id != ALIAS else [])]


_SHOWN_ID_CHARS = 100


def served_model(models: list[Model], model_id: str) -> Model:
    """The model named `model_id`; raises a 404 `model_not_found`, in OpenAI's shape, naming the ones there are."""
    for model in models:
        if model.id == model_id:
            return model
    names = ", ".join(f"`{m.id}`" for m in models)
    # The caller's id is echoed only as far as a model id goes: an answer never grows with what was sent.
    shown = model_id if len(model_id) <= _SHOWN_ID_CHARS else model_id[:_SHOWN_ID_CHARS] + "…"
    raise OpenAIRefusal(
        f"The model `{shown}` does not exist; this server answers with {names}",
        param="model",
        status=404,
        code="model_not_found",
    )
