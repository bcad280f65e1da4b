"""Transcript import: a user's existing history as one conversation, its turns remembered at once."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Router, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from jyntrix_client import limits
from jyntrix_client import types as wire
from jyntrix_client.types import TranscriptImportResult
from jyntrix_domain.model import Role, TranscriptMessage
from jyntrix_domain.transcripts import MAX_TRANSCRIPT_CONTENT_CHARS, MAX_TRANSCRIPT_MESSAGES
from jyntrix_http import wire as to
from jyntrix_http.routes import ServicesDep, UserRequest, error_responses, time_problem
from jyntrix_http.routes.memories import check_metadata

# The largest valid call (every message at full length, 4 UTF-8 bytes a character, with its other
# fields and some metadata) must fit; Litestar's 10 MB default would refuse it.
MAX_METADATA_BYTES = 8192
TRANSCRIPT_MAX_BODY_BYTES = MAX_TRANSCRIPT_MESSAGES * (MAX_TRANSCRIPT_CONTENT_CHARS * 4 + MAX_METADATA_BYTES + 2048)


class TranscriptMessageIn(wire.TranscriptMessageIn, frozen=True, kw_only=True):
    """The client's TranscriptMessageIn with the checks no annotation can say (see memories.MemoryIn for why
    they are not on the client's struct)."""

    def __post_init__(self) -> None:
        # msgspec turns a ValueError here into a 422 whose message names the field.
        if (problem := time_problem(self.created_at)) is not None:
            raise ValueError(f"created_at {problem}")
        if not self.content.strip():
            raise ValueError("content must not be blank")
        if self.name is not None and not self.name.strip():
            raise ValueError("name must not be blank")
        check_metadata(self.metadata)
        if len(msgspec.json.encode(self.metadata)) > MAX_METADATA_BYTES:
            raise ValueError(f"metadata must encode to at most {MAX_METADATA_BYTES} bytes of JSON")


def transcript_message(message: wire.TranscriptMessageIn) -> TranscriptMessage:
    """A transcript's message as the domain takes it (from the route, MCP or `jyntrix import`)."""
    return TranscriptMessage(
        role=Role(message.role),
        content=message.content,
        created_at=message.created_at,
        name=message.name,
        id=message.id,
        metadata=dict(message.metadata),
    )


class TranscriptIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    messages: Annotated[
        list[TranscriptMessageIn],
        msgspec.Meta(min_length=1, max_length=MAX_TRANSCRIPT_MESSAGES, description="in the order they were said"),
    ]
    title: Annotated[str, msgspec.Meta(max_length=limits.MAX_TITLE_CHARS)] | None = None
    conversation_id: Annotated[str, msgspec.Meta(min_length=1, max_length=100)] | None = None


@post(
    "/conversations/import",
    status_code=HTTP_201_CREATED,
    summary="Import a transcript: its messages and turn memories stored, extraction in the background",
    description=(
        f"At most {MAX_TRANSCRIPT_MESSAGES} messages a call; `conversation_id` appends to one of the caller's "
        "conversations. A repeated import answers the same conversation and message ids and adds nothing. "
        "Extraction runs afterwards with the messages' own times; the conversation's `extraction` field "
        "(GET /api/chat/conversations/{id}) says when it has finished."
    ),
    request_max_body_size=TRANSCRIPT_MAX_BODY_BYTES,
    responses=error_responses(404, body=True),
)
async def import_transcript(
    request: UserRequest, services: ServicesDep, data: JSONBody[TranscriptIn]
) -> TranscriptImportResult:
    result = await services.transcripts.import_transcript(
        request.user.id,
        [transcript_message(m) for m in data.messages],
        title=data.title,
        conversation_id=data.conversation_id,
    )
    return to.to_wire(result, TranscriptImportResult)


router = Router(path="/api/chat", route_handlers=[import_transcript], tags=["chat"])
