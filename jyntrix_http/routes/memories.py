"""Memories: CRUD, search with per-signal scores, bulk import, history and delete-all (export: portability.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Response, Router, delete, get, patch, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, Parameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_204_NO_CONTENT

from jyntrix_client import types as wire
from jyntrix_client.limits import MAX_IMPORT_MEMORIES
from jyntrix_client.types import (
    ForgetResult,
    HistoryResponse,
    ImportedItem,
    Memory,
    MemoryChange,
    MemoryImportResult,
    MemoryPage,
    Metadata,
    SearchRequest,
    SearchResponse,
)
from jyntrix_domain.errors import Invalid
from jyntrix_domain.import_outcomes import ImportOutcome
from jyntrix_domain.memories import NewMemory, Remembered
from jyntrix_domain.memory_rules import MAX_CONTENT_CHARS
from jyntrix_domain.model import MemoryFilter, MemoryKind, MemoryType, Relation
from jyntrix_http import wire as to
from jyntrix_http.routes import Offset, ServicesDep, UserRequest, checked_time, error_responses, time_problem

MAX_IMPORT = MAX_IMPORT_MEMORIES
# The largest valid import (every memory at full length, 4 UTF-8 bytes a character, plus its other
# fields) must fit; Litestar's 10 MB default would refuse it.
IMPORT_MAX_BODY_BYTES = MAX_IMPORT * (MAX_CONTENT_CHARS * 4 + 8192)
# Deep enough for any real annotation; far from the recursion limit that encoding it in a response would hit.
MAX_METADATA_DEPTH = 32


def metadata_depth(value: Any, limit: int) -> int:
    """How deeply `value` nests lists and objects, counting stops just past `limit`; iterative, for any depth."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
        stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def check_metadata(metadata: Metadata | None) -> None:
    """For a body's __post_init__: a ValueError, which msgspec makes a 422 naming the field, when it nests too deep."""
    if metadata is not None and metadata_depth(metadata, MAX_METADATA_DEPTH) > MAX_METADATA_DEPTH:
        raise ValueError(f"metadata may nest at most {MAX_METADATA_DEPTH} levels deep")


class MemoryIn(wire.MemoryIn, frozen=True, kw_only=True):
    """The client's MemoryIn (same name, so the same OpenAPI component) with the checks no annotation can say.

    They are here, not on the client's struct, because __post_init__ runs when a struct is built too: there
    it would refuse a body before the server could answer with its 422.
    """

    def __post_init__(self) -> None:
        # msgspec turns a ValueError here into a validation error: a 422 whose message names the field.
        if self.created_at is not None and (problem := time_problem(self.created_at)) is not None:
            raise ValueError(f"created_at {problem}")
        check_metadata(self.metadata)

    def to_domain(self) -> NewMemory:
        return NewMemory(
            content=self.content,
            type=MemoryType(self.type),
            reliability=self.reliability,
            created_at=self.created_at.astimezone(UTC) if self.created_at else None,
            entities=tuple(self.entities),
            relations=tuple(Relation(source=r.source, predicate=r.predicate, target=r.target) for r in self.relations),
            slot=self.slot,
            value=self.value,
            metadata=dict(self.metadata),
            id=self.id,
        )


class MemoryPatch(wire.MemoryPatch, frozen=True, kw_only=True):
    """The client's MemoryPatch with the metadata depth checked (here for the reason MemoryIn's checks are)."""

    def __post_init__(self) -> None:
        check_metadata(self.metadata)


class ImportRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The client's ImportRequest, its items with the server's checks (MemoryIn above)."""

    memories: Annotated[list[MemoryIn], msgspec.Meta(min_length=1, max_length=MAX_IMPORT)]


def remembered(done: Remembered) -> wire.Remembered:
    """A write's answer: the memory, and whether a current memory said the same already."""
    return msgspec.structs.replace(to.to_wire(done.memory, wire.Remembered), duplicate=done.duplicate)


@post(
    "/",
    status_code=HTTP_201_CREATED,
    summary="Remember something",
    description=(
        "201 with the new memory; or 200 with `duplicate: true` and the current memory that says the same already "
        "(whitespace and case aside), which now cites this write's sources too: one content is one memory."
    ),
    responses={
        HTTP_200_OK: ResponseSpec(
            data_container=wire.Remembered, description="a current memory said this already: that memory"
        ),
        **error_responses(body=True),
    },
)
async def create_memory(
    request: UserRequest, services: ServicesDep, data: JSONBody[MemoryIn]
) -> Response[wire.Remembered]:
    done = await services.memories.put(request.user.id, data.to_domain())
    return Response(remembered(done), status_code=HTTP_200_OK if done.duplicate else HTTP_201_CREATED)


@get("/", summary="List memories, newest first", responses=error_responses(422))
async def list_memories(
    request: UserRequest,
    services: ServicesDep,
    type: FromQuery[list[wire.MemoryType] | None] = None,
    kind: FromQuery[list[wire.MemoryKind] | None] = None,
    current_only: FromQuery[bool] = True,
    created_after: FromQuery[datetime | None] = None,
    created_before: FromQuery[datetime | None] = None,
    contains: Annotated[str | None, Parameter(max_length=200)] = None,
    limit: Annotated[int, Parameter(ge=1, le=500)] = 50,
    offset: Offset = 0,
) -> MemoryPage:
    filter = MemoryFilter(
        types=frozenset(map(MemoryType, type)) if type else None,
        kinds=frozenset(map(MemoryKind, kind)) if kind else None,
        current_only=current_only,
        created_after=checked_time("created_after", created_after),
        created_before=checked_time("created_before", created_before),
        contains=contains,
        limit=limit,
        offset=offset,
    )
    user_id = request.user.id
    items = await services.memories.list(user_id, filter)
    total = await services.memories.count(user_id, filter)
    return MemoryPage(items=to.to_wire_all(items, Memory), total=total, limit=limit, offset=offset)


@post(
    "/search",
    status_code=HTTP_200_OK,
    summary="Hybrid search with a per-signal score breakdown",
    description=(
        "`strategies` gives each retrieval strategy's outcome; `degraded` is true when any failed or timed out. "
        "When every strategy failed or timed out the answer is a 503 with Retry-After, never an empty 200."
    ),
    responses=error_responses(body=True),
)
async def search_memories(request: UserRequest, services: ServicesDep, data: JSONBody[SearchRequest]) -> SearchResponse:
    found = await services.memories.search_result(
        request.user.id,
        data.query,
        limit=data.limit,
        types=frozenset(map(MemoryType, data.types)) if data.types else None,
        kinds=frozenset(map(MemoryKind, data.kind)) if data.kind else None,
        as_of=checked_time("as_of", data.as_of),
    )
    return SearchResponse(
        query=data.query,
        results=[to.search_result(r) for r in found.memories],
        strategies=to.to_wire_all(found.strategies, wire.StrategyOutcome),
        degraded=found.degraded,
    )


@post(
    "/import",
    status_code=HTTP_201_CREATED,
    summary="Import many memories, with their original dates",
    responses=error_responses(body=True),
    request_max_body_size=IMPORT_MAX_BODY_BYTES,
)
async def import_memories(
    request: UserRequest, services: ServicesDep, data: JSONBody[ImportRequest]
) -> MemoryImportResult:
    report = await services.memories.import_report(request.user.id, [m.to_domain() for m in data.memories])
    items = [
        ImportedItem(index=i, id=m.id, outcome=wire.ImportOutcome(o))
        for i, (m, o) in enumerate(zip(report.memories, report.outcomes, strict=True))
    ]
    return MemoryImportResult(
        imported=report.created,
        memories=to.to_wire_all(report.memories, Memory),
        items=items,
        conflicting=report.outcomes.count(ImportOutcome.CONFLICTING),
        duplicates=report.outcomes.count(ImportOutcome.DUPLICATE),
    )


@delete(
    "/",
    status_code=HTTP_200_OK,
    summary="Forget everything about the caller (needs confirm=true)",
    responses=error_responses(422),
)
async def delete_all_memories(
    request: UserRequest, services: ServicesDep, confirm: FromQuery[bool] = False
) -> ForgetResult:
    if not confirm:
        raise Invalid("deleting everything needs confirm=true")
    return to.to_wire(await services.forgetting.forget_user(request.user.id), ForgetResult)


@get("/{memory_id:str}", summary="One memory", responses=error_responses(404, 422))
async def get_memory(request: UserRequest, services: ServicesDep, memory_id: FromPath[str]) -> Memory:
    return to.to_wire(await services.memories.get(request.user.id, memory_id), Memory)


@patch(
    "/{memory_id:str}",
    summary="Edit a memory (recorded in its history)",
    responses=error_responses(404, body=True),
)
async def update_memory(
    request: UserRequest, services: ServicesDep, memory_id: FromPath[str], data: JSONBody[MemoryPatch]
) -> Memory:
    updated = await services.memories.update(
        request.user.id,
        memory_id,
        content=data.content,
        type=MemoryType(data.type) if data.type else None,
        reliability=data.reliability,
        entities=data.entities,
        metadata=data.metadata,
    )
    return to.to_wire(updated, Memory)


@post(
    "/{memory_id:str}/supersede",
    status_code=HTTP_201_CREATED,
    summary="Replace a fact with a newer one; the old one stays in history (409 once it was replaced)",
    responses=error_responses(404, 409, body=True),
)
async def supersede_memory(
    request: UserRequest, services: ServicesDep, memory_id: FromPath[str], data: JSONBody[MemoryIn]
) -> Memory:
    return to.to_wire(await services.memories.supersede(request.user.id, memory_id, data.to_domain()), Memory)


@delete(
    "/{memory_id:str}",
    status_code=HTTP_204_NO_CONTENT,
    summary="Delete a memory",
    responses=error_responses(404, 422),
)
async def delete_memory(request: UserRequest, services: ServicesDep, memory_id: FromPath[str]) -> None:
    await services.memories.delete(request.user.id, memory_id)


@get(
    "/{memory_id:str}/history",
    summary="Every change to a memory, oldest first",
    responses=error_responses(404, 422),
)
async def memory_history(request: UserRequest, services: ServicesDep, memory_id: FromPath[str]) -> HistoryResponse:
    changes = await services.memories.history(request.user.id, memory_id)
    return HistoryResponse(memory_id=memory_id, changes=to.to_wire_all(changes, MemoryChange))


router = Router(
    path="/api/memories",
    route_handlers=[
        create_memory,
        list_memories,
        search_memories,
        import_memories,
        delete_all_memories,
        get_memory,
        update_memory,
        supersede_memory,
        delete_memory,
        memory_history,
    ],
    tags=["memories"],
)
