"""Export and restore: the caller's whole account as one JSON document, out and back in.

`GET /api/memories/export` gives everything (jyntrix_domain.portability.AccountExport); `POST /api/memories/restore`
takes such a document and restores it into the caller's account, which must hold nothing the document does not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import Response, Router, get, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK
from litestar.types import ControllerRouterHandler

from jyntrix_bootstrap.settings import Settings
from jyntrix_client import types as wire
from jyntrix_domain.account_export import AccountExport
from jyntrix_domain.errors import Invalid
from jyntrix_http import wire as to
from jyntrix_http.routes import ServicesDep, UserRequest, error_responses, time_problem
from jyntrix_http.routes.memories import MAX_METADATA_DEPTH

# The export's own nesting above a message's metadata (document, conversations, conversation, messages, message).
_EXPORT_DEPTH = 5


def check_document(document: wire.AccountExport) -> None:
    """Raise Invalid naming the first value that no body of the API may hold: a time it does not accept, or
    metadata nested past MAX_METADATA_DEPTH (a NUL is refused before, in any body: jyntrix_http.request_checks).
    Checked over every field of every part, so that the fields the model gains are checked too."""
    stack: list[tuple[Any, str, int]] = [(msgspec.to_builtins(document, builtin_types=(datetime,)), "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, datetime) and (problem := time_problem(value)) is not None:
            raise Invalid(f"{where.lstrip('.')} {problem}")
        if isinstance(value, dict | list):
            if depth >= _EXPORT_DEPTH + MAX_METADATA_DEPTH:
                raise Invalid(f"{where.lstrip('.')}: metadata may nest at most {MAX_METADATA_DEPTH} levels deep")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend(
                (item, f"{where}.{key}" if isinstance(key, str) else f"{where}[{key}]", depth + 1)
                for key, item in items
            )


def route_handlers(settings: Settings) -> list[ControllerRouterHandler]:
    """The export and restore routes; a restore reads at most RESTORE_MAX_BODY_BYTES."""

    @get(
        "/export",
        summary="Everything about the caller (memories with history, graph, profile, conversations with messages)",
        responses=error_responses(),
    )
    async def export_account(request: UserRequest, services: ServicesDep) -> Response[wire.AccountExport]:
        exported = await services.portability.export(request.user.id)
        stamp = exported.exported_at.strftime("%Y%m%dT%H%M%SZ")
        return Response(
            to.to_wire(exported, wire.AccountExport),
            headers={"Content-Disposition": f'attachment; filename="jyntrix-export-{stamp}.json"'},
        )

    @post(
        "/restore",
        status_code=HTTP_200_OK,
        summary="Restore an export into the caller's account, which holds nothing the export does not",
        description=(
            "Takes what GET /api/memories/export gave (of this or another user id). Memories keep their ids, kinds, "
            "types, times, validity and history; conversations and messages keep their ids and times; extraction "
            "does not run again; the indexes are rebuilt. Running it again adds only what is missing (`unchanged` "
            "counts what was there). An account holding anything else is a 409: forget it first "
            f"(DELETE /api/memories?confirm=true). At most RESTORE_MAX_BODY_BYTES ({settings.restore_max_body_bytes}) "
            "bytes."
        ),
        request_max_body_size=settings.restore_max_body_bytes,
        responses=error_responses(409, body=True),
    )
    async def restore_account(
        request: UserRequest, services: ServicesDep, data: JSONBody[wire.AccountExport]
    ) -> wire.RestoreReport:
        check_document(data)
        document = msgspec.convert(data, AccountExport, from_attributes=True)
        return to.to_wire(await services.portability.restore(request.user.id, document), wire.RestoreReport)

    return [Router(path="/api/memories", route_handlers=[export_account, restore_account], tags=["memories"])]
