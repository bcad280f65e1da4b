"""Point ids shared by the Qdrant adapters: one point per (user, memory), never shared between tenants.

Qdrant accepts only UUIDs and unsigned integers as point ids, and they are global to a collection
or shard. A point id is therefore a UUID derived from the user id *and* the memory id: a memory id
that one user chooses can neither squat, replace nor reveal another user's point of the same id
(nor its upper-case spelling, which is a different memory id and so a different point).

Points written before this scheme (the memory id itself, or a uuid5 of it alone) lack the
`scheme` payload field; the adapters re-key them when they open (`POINT_ID_SCHEME`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from jyntrix_domain.model import MemoryId, UserId

_ID_NAMESPACE = uuid.UUID("6f1c9a52-3b8e-4c1d-9d0e-5a7b2c4e8f10")
POINT_ID_SCHEME = 2
SCHEME_FIELD = "scheme"


def point_id(user_id: UserId, memory_id: MemoryId) -> str:
    """The point of `memory_id` in `user_id`'s part of the index (the payload keeps both ids)."""
    return str(uuid.uuid5(_ID_NAMESPACE, f"{user_id}\x1f{memory_id}"))


def payload(user_id: UserId, memory_id: MemoryId, type: str) -> dict[str, object]:
    return {"user_id": user_id, "type": type, "memory_id": memory_id, SCHEME_FIELD: POINT_ID_SCHEME}


class Rekeyed(NamedTuple):
    """A page of points written before this scheme: the (id, vector, payload) each moves to, and the ids to delete."""

    points: list[tuple[str, Any, dict[str, object]]]
    old_ids: list[Any]


def rekeyed(records: Sequence[Any]) -> Rekeyed:
    """Where a scrolled page of old-scheme records moves, from the ids their payloads keep.

    The records may be qdrant-client's or Qdrant Edge's: both have `id`, `payload` and `vector`
    (scrolled with both; one unnamed dense vector a point).
    """
    points = []
    for record in records:
        found: Mapping[str, Any] = record.payload or {}
        user_id, memory_id = str(found["user_id"]), str(found["memory_id"])
        points.append((point_id(user_id, memory_id), record.vector, payload(user_id, memory_id, str(found["type"]))))
    return Rekeyed(points, [record.id for record in records])
