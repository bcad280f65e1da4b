"""The rules every memory write obeys, each checked here and only here.

MemoryService checks a memory before anything is stored, so a refused write changes nothing;
the graph adapters check names with `check_names` too, because the graph is also a port of
its own (and Postgres could not index a longer key).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jyntrix_domain.errors import Invalid
from jyntrix_domain.key_sizes import MAX_MEMORY_ID_BYTES, MAX_NAME_BYTES, MAX_SLOT_BYTES, utf8_size
from jyntrix_domain.model import Memory, MemoryId, Relation, UserId, entity_key

MAX_CONTENT_CHARS = 20_000
# Entity keys and predicates are btree-indexed in Postgres: their size in bytes is bounded too (key_sizes).
MAX_NAME_CHARS = 200
MAX_ENTITIES = 50
MAX_RELATIONS = 50
MAX_PREFERENCES = 100
MAX_SLOT_CHARS = 200
MAX_VALUE_CHARS = 1000


def check_content(content: str) -> str:
    """The content as stored (stripped); raises Invalid when empty or too long."""
    text = content.strip()
    if not text:
        raise Invalid("memory content must not be empty")
    if len(text) > MAX_CONTENT_CHARS:
        raise Invalid(f"memory content is longer than {MAX_CONTENT_CHARS} characters")
    return text


def check_reliability(reliability: float) -> float:
    if not 0.0 <= reliability <= 1.0:
        raise Invalid("reliability must be between 0 and 1")
    return reliability


def check_names(names: Iterable[str], relations: Sequence[Relation] = ()) -> None:
    """Entity names (as keys), relation ends and predicates are at most MAX_NAME_CHARS characters and
    MAX_NAME_BYTES bytes of UTF-8 long, as stored (jyntrix_domain.key_sizes)."""
    ends = [x for r in relations for x in (r.source, r.target)]
    stored = [*(entity_key(n) for n in (*names, *ends)), *(r.predicate.strip() for r in relations)]
    if any(len(key) > MAX_NAME_CHARS or utf8_size(key) > MAX_NAME_BYTES for key in stored):
        raise Invalid(
            f"entity names and predicates are limited to {MAX_NAME_CHARS} characters and {MAX_NAME_BYTES} bytes"
            " of UTF-8 (as keys)"
        )


def check_memory_id(memory_id: MemoryId) -> MemoryId:
    """A memory id a caller chose: 1 to MAX_MEMORY_ID_BYTES bytes of UTF-8, no NUL."""
    if not memory_id or utf8_size(memory_id) > MAX_MEMORY_ID_BYTES or "\x00" in memory_id:
        raise Invalid(f"a memory id is 1 to {MAX_MEMORY_ID_BYTES} bytes of UTF-8, without NUL")
    return memory_id


def check_entities(entities: Sequence[str], relations: Sequence[Relation]) -> tuple[str, ...]:
    """The distinct non-blank entity names, in order; raises Invalid past the count or name limits."""
    names = tuple(dict.fromkeys(e.strip() for e in entities if e.strip()))
    if len(names) > MAX_ENTITIES:
        raise Invalid(f"a memory names at most {MAX_ENTITIES} entities")
    if len(relations) > MAX_RELATIONS:
        raise Invalid(f"a memory asserts at most {MAX_RELATIONS} relations")
    check_names(names, relations)
    return names


def check_slot(slot: str | None, value: str | None) -> None:
    """A value belongs to a slot; both have a length limit."""
    if value is not None and slot is None:
        raise Invalid("a value needs a slot")
    if slot is not None and not (0 < len(slot.strip()) <= MAX_SLOT_CHARS and utf8_size(slot) <= MAX_SLOT_BYTES):
        raise Invalid(f"a slot is 1 to {MAX_SLOT_CHARS} characters and at most {MAX_SLOT_BYTES} bytes of UTF-8")
    if value is not None and len(value) > MAX_VALUE_CHARS:
        raise Invalid(f"a slot's value is at most {MAX_VALUE_CHARS} characters")


def merge_metadata(current: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """A metadata edit: each top-level key of `patch` replaces the current one; a key set to None is removed."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def merge_preferences(current: Mapping[str, str], patch: Mapping[str, str | None]) -> dict[str, str]:
    """Preferences after an edit (None removes a key); raises Invalid past MAX_PREFERENCES."""
    merged: dict[str, str] = merge_metadata(current, patch)
    if len(merged) > MAX_PREFERENCES:
        raise Invalid(f"a profile holds at most {MAX_PREFERENCES} preferences")
    return merged


def check_batch(user_id: UserId, memories: Sequence[Memory]) -> None:
    """A batch written at once belongs to one user and names each memory once."""
    ids = [m.id for m in memories]
    if any(m.user_id != user_id for m in memories):
        raise Invalid("every memory of a batch must belong to the batch's user")
    if len(set(ids)) != len(ids):
        raise Invalid("a batch names each memory at most once")
