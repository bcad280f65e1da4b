"""How the chat stream's events appear in the OpenAPI document, so that a client generated from it gets them typed.

Each event is a component of its own (ConversationEvent, ContextEvent, TokenEvent, DoneEvent, ErrorEvent, the
client's structs), and the streaming routes' 200 describes each Server-Sent Event as OpenAPI does for
text/event-stream: an object whose `event` is the event's name and whose `data` is that component as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast, get_args

from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIResponse, OpenAPIType, Operation, Reference, Schema

from jyntrix_client import types as wire

# Litestar documents the union as oneOf of the events (ResponseSpec's annotation asks for one type), which
# registers their components; EventStreamOperation then wraps each as a text/event-stream item.
STREAM_EVENTS = ResponseSpec(
    data_container=cast("type[Any]", wire.ChatEvent),
    media_type="text/event-stream",
    description="Server-Sent Events: each event's name is its `event` member, its data the event as JSON",
    generate_examples=False,
)
# Each event's name, in the union's order (the order Litestar lists the union's members in).
EVENT_TAGS = [str(event.__struct_config__.tag) for event in get_args(wire.ChatEvent)]


@dataclass
class EventStreamOperation(Operation):
    """A streaming route's operation: its 200 is described per event, as OpenAPI does for text/event-stream
    (an object whose `event` is the event's name and whose `data` is the event's JSON, per its component)."""

    def __post_init__(self) -> None:
        answer = (self.responses or {}).get("200")
        stream = (
            answer.content.get("text/event-stream") if isinstance(answer, OpenAPIResponse) and answer.content else None
        )
        if stream is None or not isinstance(stream.schema, Schema) or not stream.schema.one_of:
            return
        events = stream.schema.one_of
        stream.schema = Schema(one_of=[_sse_item(tag, event) for tag, event in zip(EVENT_TAGS, events, strict=True)])


def _sse_item(tag: str, event: Reference | Schema) -> Schema:
    return Schema(
        type=OpenAPIType.OBJECT,
        required=["event", "data"],
        properties={
            "event": Schema(type=OpenAPIType.STRING, const=tag),
            "data": Schema(type=OpenAPIType.STRING, content_media_type="application/json", content_schema=event),
            "id": Schema(type=OpenAPIType.STRING),
        },
    )
