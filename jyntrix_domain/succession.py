"""Which memory may supersede which: the rule MemoryService and every store's atomic supersede hold to.

A successor is a new memory. It may exist already only as the very memory that was asked for (the same
content, type, kind, slot and value) and still current: a retried supersede, or one successor that
replaces several memories at once (consolidation ends every holder of a slot with one new fact). Never
the memory it replaces, nor any other memory: that would end a memory for a successor that says
something else, drop the new content, or close a loop (A -> B -> A).
"""

from __future__ import annotations

from jyntrix_domain.model import Memory, MemoryId


def same_memory(stored: Memory, asked: Memory) -> bool:
    """Whether `stored` says what `asked` says: the same content, type, kind, slot and value."""
    return (stored.content, stored.type, stored.kind, stored.slot, stored.value) == (
        asked.content,
        asked.type,
        asked.kind,
        asked.slot,
        asked.value,
    )


def successor_problem(old_id: MemoryId, successor: Memory, existing: Memory | None) -> str | None:
    """Why `successor` cannot supersede memory `old_id`, or None when it can.

    `existing` is the stored memory with the successor's id, None when there is none.
    """
    if successor.id == old_id:
        return "a memory cannot supersede itself"
    if existing is None:
        return None
    if not existing.is_current:
        return f"memory {successor.id} exists and is no longer current; a successor must be a new memory"
    if not same_memory(existing, successor):
        return f"memory {successor.id} exists already and says something else; a successor must be a new memory"
    return None
