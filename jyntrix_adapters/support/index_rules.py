"""What every vector and keyword index checks and promises, written once for all their adapters."""

from __future__ import annotations

import math
from collections.abc import Sequence

from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import Hit, MemoryType


def check_vector(vector: Sequence[float], dimension: int) -> None:
    """Invalid unless `vector` has the index's `dimension` and is finite and non-zero."""
    if len(vector) != dimension:
        raise Invalid(f"vector has dimension {len(vector)}, the index expects {dimension}")
    norm = math.hypot(*vector)  # C speed: this runs once per point on bulk imports
    if not math.isfinite(norm) or norm == 0.0:
        raise Invalid("a vector must be finite and non-zero")


def can_find(limit: int, types: frozenset[MemoryType] | None) -> bool:
    """Whether a search for `limit` hits of `types` (None: every type) can find any; Invalid when `limit` < 0."""
    if limit < 0:
        raise Invalid("limit must not be negative")
    return limit > 0 and types != frozenset()


def searchable(limit: int, types: frozenset[MemoryType] | None, vector: Sequence[float], dimension: int) -> bool:
    """`can_find` for a vector search, its `vector` checked too (Invalid for a bad limit first, then a bad vector)."""
    wanted_any = can_find(limit, types)
    check_vector(vector, dimension)
    return wanted_any


def best_first(hits: list[Hit]) -> list[Hit]:
    """The hits by score, highest first, ties by id: the order every index answers in."""
    hits.sort(key=lambda h: (-h.score, h.id))
    return hits


def type_values(types: frozenset[MemoryType] | None) -> list[str] | None:
    """The memory types a search is narrowed to, as sorted strings for a filter; None for every type."""
    return None if types is None else sorted(t.value for t in types)
