"""`/v1`: OpenAI's chat-completion API over the Jyntrix chat pipeline, and the models it answers with.

The bearer token picks the user. The last message (the user's) is one Jyntrix turn: stored, answered from the
user's memories (retrieval, context, model) and extracted afterwards. `metadata.conversation_id` (or the
X-Jyntrix-Conversation-Id header) continues a stored conversation, whose history is then used and the request's
earlier messages ignored; without it, a new conversation is stored and the request's earlier messages are the
history for this call only. `stop` ends the answer before its first stop sequence (the stored answer too).
`model` is echoed, whatever it names: the server answers with the model it is configured with (`GET /v1/models`
lists it, beside `jyntrix`), so code written for another model's name keeps working.
Errors under /v1 are in OpenAI's shape: {"error": {message, type, param, code}}.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator
from pathlib import PurePosixPath
from typing import Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, JSONBody
from litestar.response import Stream

from jyntrix_domain.chat_events import ChatEvent, ContextEvent, DoneEvent, ErrorEvent, TokenEvent
from jyntrix_domain.errors import DomainError, NotFound, RateLimited, Unavailable
from jyntrix_http.errors import UNAVAILABLE_RETRY_AFTER_S, request_id_of, status_for
from jyntrix_http.openai_shapes import (
    CONVERSATION_HEADER,
    AnswerMessage,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    CompletionUsage,
    Delta,
    ErrorBody,
    JyntrixTurn,
    Model,
    ModelList,
    OpenAIError,
    OpenAIRefusal,
    ParsedRequest,
    parse_request,
    served_model,
    served_models,
)
from jyntrix_http.routes import ServicesDep, UserRequest
from jyntrix_http.throttle import Throttled

log = logging.getLogger("jyntrix.http")

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}

# A model's `created`: when this server started serving it.
SERVED_SINCE = int(time.time())


def _error_responses(statuses: dict[int, str]) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(data_container=ErrorBody, description=description, generate_examples=False)
        for status, description in statuses.items()
    }


_ANY_ROUTE_ERRORS = {
    401: "Missing or invalid token",
    429: "Rate limit exceeded (Retry-After)",
    500: "Internal error",
    503: "A dependency is down (Retry-After)",
}


@get(
    "/models",
    summary="The models chat completions answer with (OpenAI's list of models)",
    description=(
        "`jyntrix`, which always means the server's configured language model, and that model by its own name "
        "(`offline`, `gemini-2.5-flash`, ...). `model` in a chat completion must be one of them."
    ),
    tags=["openai"],
    responses=_error_responses(_ANY_ROUTE_ERRORS),
)
async def list_models(services: ServicesDep) -> ModelList:
    return ModelList(data=served_models(services.chat.model_name, SERVED_SINCE))


@get(
    # A path, for the ids of OpenAI-compatible servers that hold a slash ("meta-llama/Llama-3.1-8B-Instruct").
    "/models/{model_id:path}",
    summary="One model chat completions answer with",
    tags=["openai"],
    responses=_error_responses({404: "No such model (`model_not_found`)", **_ANY_ROUTE_ERRORS}),
)
async def retrieve_model(services: ServicesDep, model_id: FromPath[PurePosixPath]) -> Model:
    return served_model(served_models(services.chat.model_name, SERVED_SINCE), str(model_id).removeprefix("/"))


@post(
    "/chat/completions",
    status_code=200,
    summary="OpenAI-compatible chat completion, answered from the caller's memories",
    description=(
        "OpenAI's request and response shapes, streaming (`stream: true`, SSE chunks then `[DONE]`) or not. "
        "`metadata.conversation_id` or the X-Jyntrix-Conversation-Id header continues a stored conversation. "
        "`model` is one that GET /v1/models lists. `stop` (a string or up to 4) ends the answer before the first. "
        "Unsupported parameters (tools, n > 1, response_format, ...) are a 400 naming the parameter."
    ),
    tags=["openai"],
    responses=_error_responses(
        {
            400: "Invalid or unsupported parameter (`error.param` names it)",
            404: "Unknown `metadata.conversation_id`",
            413: "Body too large",
            415: "Body not JSON",
            **_ANY_ROUTE_ERRORS,
        }
    ),
)
async def chat_completions(
    request: UserRequest, services: ServicesDep, data: JSONBody[dict[str, Any]]
) -> Response[Any] | Stream:
    parsed = parse_request(data, request.headers.get(CONVERSATION_HEADER))
    events = services.chat.send_message_stream(
        request.user.id,
        parsed.content,
        parsed.conversation_id,
        history=None if parsed.conversation_id else parsed.history,
        stop=parsed.stop,
    )
    # The first event is awaited before the response starts: an unknown conversation is a real 404.
    first = await anext(events)
    conversation_id = getattr(first, "id", "")
    user_message_id = getattr(first, "user_message_id", "")
    headers = {CONVERSATION_HEADER: conversation_id}
    created = int(services.clock.now().timestamp())
    completion_id = f"chatcmpl-{user_message_id}"
    if parsed.stream:
        chunks = _chunks(
            events,
            parsed,
            completion_id,
            created,
            JyntrixTurn(conversation_id=conversation_id, user_message_id=user_message_id),
        )
        return Stream(chunks, media_type="text/event-stream", headers={**headers, "Cache-Control": "no-cache"})
    return Response(
        await _completion(events, parsed, completion_id, created, conversation_id, user_message_id), headers=headers
    )


class _Turn:
    """What a finished turn said: its text, the memories it used, its usage."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.memories: list[str] = []
        self.done: DoneEvent | None = None

    def take(self, event: ChatEvent) -> str | None:
        """Record an event; return the text it adds. An `error` event raises."""
        if isinstance(event, ErrorEvent):
            raise _turn_failed(event)
        if isinstance(event, ContextEvent):
            self.memories = [m.memory_id for m in event.memories]
        elif isinstance(event, TokenEvent):
            self.parts.append(event.delta)
            return event.delta
        elif isinstance(event, DoneEvent):
            self.done = event
        return None

    def usage(self) -> CompletionUsage:
        used = self.done.usage if self.done else None
        prompt, completion = (used.input_tokens, used.output_tokens) if used else (0, 0)
        return CompletionUsage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion)


def _turn_failed(event: ErrorEvent) -> DomainError:
    error = Unavailable(event.message) if event.code == "unavailable" else DomainError(event.message)
    error.code = event.code
    return error


async def _completion(
    events: AsyncIterator[ChatEvent],
    parsed: ParsedRequest,
    completion_id: str,
    created: int,
    conversation_id: str,
    user_message_id: str,
) -> ChatCompletion:
    turn = _Turn()
    async for event in events:
        turn.take(event)
    return ChatCompletion(
        id=completion_id,
        created=created,
        model=parsed.model,
        choices=[Choice(message=AnswerMessage(content="".join(turn.parts)))],
        usage=turn.usage(),
        jyntrix=JyntrixTurn(
            conversation_id=conversation_id,
            user_message_id=user_message_id,
            message_id=turn.done.message_id if turn.done else None,
            memories=turn.memories,
        ),
    )


async def _chunks(
    events: AsyncIterator[ChatEvent], parsed: ParsedRequest, completion_id: str, created: int, where: JyntrixTurn
) -> AsyncIterator[bytes]:
    def chunk(delta: Delta, finish: str | None = None, **extra: Any) -> bytes:
        body = ChatCompletionChunk(
            id=completion_id,
            created=created,
            model=parsed.model,
            choices=[ChunkChoice(delta=delta, finish_reason=finish)] if extra.get("usage") is None else [],
            **extra,
        )
        return b"data: " + msgspec.json.encode(body) + b"\n\n"

    turn = _Turn()
    yield chunk(Delta(role="assistant", content=""))
    try:
        async for event in events:
            text = turn.take(event)
            if text:
                yield chunk(Delta(content=text))
    except DomainError as exc:
        # The status line is sent already: OpenAI's clients read an `error` object in the stream as the failure.
        yield b"data: " + msgspec.json.encode(_error_body(status_for(exc), str(exc), code=exc.code)) + b"\n\n"
        return
    finally:
        await events.aclose()  # type: ignore[attr-defined]
    done = msgspec.structs.replace(
        where, message_id=turn.done.message_id if turn.done else None, memories=turn.memories
    )
    yield chunk(Delta(), "stop", jyntrix=done)
    if parsed.include_usage:
        yield chunk(Delta(), usage=turn.usage())
    yield b"data: [DONE]\n\n"


def _error_body(status: int, message: str, *, param: str | None = None, code: str | None = None) -> ErrorBody:
    return ErrorBody(
        error=OpenAIError(message=message, type=_ERROR_TYPES.get(status, "server_error"), param=param, code=code)
    )


def openai_error(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    """Every error on /v1, in OpenAI's shape, with X-Request-ID and (for 429 and 503) Retry-After."""
    headers: dict[str, str] = {}
    param: str | None = None
    if isinstance(exc, OpenAIRefusal):
        status, message, code = exc.status, str(exc), exc.code
        param = exc.param
    elif isinstance(exc, DomainError):
        status, message, code = status_for(exc), str(exc), exc.code
        if isinstance(exc, NotFound):
            param = "metadata.conversation_id"
        elif status == 422:
            status = 400
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
            if isinstance(exc, Throttled):
                headers.update(exc.headers)
        elif isinstance(exc, Unavailable):
            headers["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER_S)
    elif isinstance(exc, ValidationException | HTTPException) and status_for(exc) < 500:
        status, message = status_for(exc), str(exc.detail)
        code = getattr(exc, "problem_code", None) or (
            "invalid_api_key" if isinstance(exc, NotAuthorizedException) else "invalid_request"
        )
        status = 400 if status == 422 else status
        if isinstance(exc, NotAuthorizedException):
            headers["WWW-Authenticate"] = 'Bearer realm="jyntrix"'
    else:
        log.error("unhandled error on %s (request %s)", request.url.path, request_id_of(request.scope), exc_info=exc)
        status, message, code = 500, "An unexpected error occurred.", "internal_error"
    return Response(_error_body(status, message, param=param, code=code), status_code=status, headers=headers)


router = Router(
    path="/v1",
    route_handlers=[chat_completions, list_models, retrieve_model],
    exception_handlers={Exception: openai_error},
)
