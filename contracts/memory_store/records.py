"""The records the MemoryStore contract suites write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from jyntrix_domain.model import Memory, MemoryFilter, MemoryType, new_id

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ALL = MemoryFilter(current_only=False, limit=1000)


def mem(user_id: str, content: str = "I like green tea", minutes: int = 0, **kw: Any) -> Memory:
    at = T0 + timedelta(minutes=minutes)
    fields: dict[str, Any] = {"id": new_id(), "type": MemoryType.SEMANTIC, "created_at": at, "updated_at": at}
    fields.update(valid_from=at, **kw)
    return Memory(user_id=user_id, content=content, **fields)


def edit(m: Memory, **changes: Any) -> Memory:
    return msgspec.structs.replace(m, **changes)
