"""Conversations, their messages, and a chat turn streamed as Server-Sent Events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Router, delete, get, post
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT

from jyntrix_bootstrap.services import Services
from jyntrix_client.types import (
    Conversation,
    ConversationDetail,
    ConversationPage,
    ExtractionStatus,
    Message,
    MessagePage,
    SendMessage,
)
from jyntrix_domain.chat_events import ChatEvent
from jyntrix_http import wire as to
from jyntrix_http.openapi_sse import STREAM_EVENTS, EventStreamOperation
from jyntrix_http.routes import Offset, ServicesDep, UserRequest, checked_time, error_responses

Limit = Annotated[int, Parameter(ge=1, le=200, description="page size")]


class NewConversation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    title: Annotated[str, msgspec.Meta(max_length=200)] | None = None


@post(
    "/conversations",
    status_code=HTTP_201_CREATED,
    summary="Start a conversation",
    responses=error_responses(body=True),
)
async def create_conversation(
    request: UserRequest, services: ServicesDep, data: JSONBody[NewConversation]
) -> Conversation:
    return to.to_wire(await services.chat.start_conversation(request.user.id, title=data.title), Conversation)


@get(
    "/conversations",
    summary="The caller's conversations, most recently active first",
    responses=error_responses(422),
)
async def list_conversations(
    request: UserRequest, services: ServicesDep, limit: Limit = 50, offset: Offset = 0
) -> ConversationPage:
    items = await services.conversations.list(request.user.id, limit=limit, offset=offset)
    return ConversationPage(items=to.to_wire_all(items, Conversation), limit=limit, offset=offset)


@get(
    "/conversations/{conversation_id:str}",
    summary="A conversation with its latest messages",
    responses=error_responses(404, 422),
)
async def get_conversation(
    request: UserRequest, services: ServicesDep, conversation_id: FromPath[str], limit: Limit = 100
) -> ConversationDetail:
    conversation, messages = await services.conversations.with_messages(request.user.id, conversation_id, limit=limit)
    extraction = await services.transcripts.status(request.user.id, conversation_id)
    return ConversationDetail(
        conversation=to.to_wire(conversation, Conversation),
        messages=to.to_wire_all(messages, Message),
        extraction=to.to_wire(extraction, ExtractionStatus),
    )


@delete(
    "/conversations/{conversation_id:str}",
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete a conversation",
    responses=error_responses(404, 422),
)
async def delete_conversation(request: UserRequest, services: ServicesDep, conversation_id: FromPath[str]) -> None:
    await services.conversations.delete(request.user.id, conversation_id)


@get(
    "/conversations/{conversation_id:str}/messages",
    summary="Messages, oldest first; page back with `before_id`",
    description=(
        "The latest `limit` messages. To page back through every message, send the id of the first message "
        "of the page you have as `before_id`: the next page holds the messages before it (those of the same "
        "time included, in the order they were stored). `before` (not with `before_id`) keeps only messages "
        "older than a time."
    ),
    responses=error_responses(404, 422),
)
async def list_messages(
    request: UserRequest,
    services: ServicesDep,
    conversation_id: FromPath[str],
    limit: Limit = 100,
    before: FromQuery[datetime | None] = None,
    before_id: Annotated[
        str | None, Parameter(min_length=1, max_length=200, description="cursor: a message of this conversation")
    ] = None,
) -> MessagePage:
    before = checked_time("before", before)
    items = await services.conversations.messages(
        request.user.id, conversation_id, limit=limit, before=before, before_id=before_id
    )
    return MessagePage(items=to.to_wire_all(items, Message))


@post(
    "/conversations/{conversation_id:str}/messages/stream",
    summary="Send a message and stream the answer (SSE)",
    description=(
        "Events in order: `conversation`, `context`, `token`..., `done`; or `error`. A `message_id` sent again "
        "retries its turn; with other content, or when it belongs to another conversation, it is a 409."
    ),
    status_code=200,
    media_type="text/event-stream",
    responses={**error_responses(404, 409, body=True), 200: STREAM_EVENTS},
    operation_class=EventStreamOperation,
)
async def stream_in_conversation(
    request: UserRequest, services: ServicesDep, conversation_id: FromPath[str], data: JSONBody[SendMessage]
) -> ServerSentEvent:
    return await _stream(services, request.user.id, data, conversation_id)


@post(
    "/messages/stream",
    summary="Send a message in a new conversation and stream the answer (SSE)",
    description=(
        "Creates the conversation; its id comes in the first event, `conversation`. A `message_id` sent again "
        "continues the conversation its first try created; with other content it is a 409."
    ),
    status_code=200,
    media_type="text/event-stream",
    responses={**error_responses(409, body=True), 200: STREAM_EVENTS},
    operation_class=EventStreamOperation,
)
async def stream_new_conversation(
    request: UserRequest, services: ServicesDep, data: JSONBody[SendMessage]
) -> ServerSentEvent:
    return await _stream(services, request.user.id, data, None)


@get(
    "/messages/{message_id:str}",
    summary="One message; its conversation_id leads to the conversation",
    responses=error_responses(404, 422),
)
async def get_message(request: UserRequest, services: ServicesDep, message_id: FromPath[str]) -> Message:
    return to.to_wire(await services.conversations.message(request.user.id, message_id), Message)


async def _stream(services: Services, user_id: str, data: SendMessage, conversation_id: str | None) -> ServerSentEvent:
    events = services.chat.send_message_stream(
        user_id, data.content, conversation_id, message_id=data.message_id, name=data.name
    )
    # The first event is awaited here, before the response starts, so that an unknown conversation or an
    # invalid message is a 404 or 422 problem document rather than an event inside a 200 stream.
    first = await anext(events)
    return ServerSentEvent(_messages(first, events), headers={"Cache-Control": "no-cache, no-transform"})


async def _messages(first: ChatEvent, rest: AsyncIterator[ChatEvent]) -> AsyncIterator[ServerSentEventMessage]:
    yield sse_message(first, 0)
    number = 1
    try:
        async for event in rest:
            yield sse_message(event, number)
            number += 1
    finally:
        aclose = getattr(rest, "aclose", None)
        if aclose is not None:
            await aclose()


def sse_message(event: ChatEvent, number: int) -> ServerSentEventMessage:
    """One event as the client's twin of it: its tag as the SSE event name, its JSON as data."""
    sent = to.chat_event(event)
    tag = type(sent).__struct_config__.tag
    return ServerSentEventMessage(event=str(tag), data=msgspec.json.encode(sent).decode(), id=number)


router = Router(
    path="/api/chat",
    route_handlers=[
        create_conversation,
        list_conversations,
        get_conversation,
        delete_conversation,
        list_messages,
        get_message,
        stream_in_conversation,
        stream_new_conversation,
    ],
    tags=["chat"],
)
