"""Point ids shared by the Qdrant adapters: Qdrant accepts only UUIDs and unsigned integers."""

from __future__ import annotations

import uuid

from jyntrix_domain.model import MemoryId

_ID_NAMESPACE = uuid.UUID("6f1c9a52-3b8e-4c1d-9d0e-5a7b2c4e8f10")


def point_id(memory_id: MemoryId) -> str:
    """The memory id itself when it is a UUID, else a UUID derived from it (the payload keeps the original)."""
    try:
        return str(uuid.UUID(memory_id))
    except ValueError:
        return str(uuid.uuid5(_ID_NAMESPACE, memory_id))
