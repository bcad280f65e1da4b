"""MemoryService.supersede holds every successor to jyntrix_domain.succession, whatever door asked."""

from __future__ import annotations

import pytest

from jyntrix_domain.errors import Conflict, Invalid
from jyntrix_domain.memories import NewMemory
from jyntrix_domain.model import MemoryFilter, MemoryType
from tests.domain.kit import Kit

ALL = MemoryFilter(current_only=False)


async def test_a_memory_is_never_its_own_successor() -> None:
    kit = Kit()
    paris = await kit.memories.create("alice", NewMemory(content="The user lives in Paris"))
    with pytest.raises(Invalid, match="itself"):
        await kit.memories.supersede("alice", paris.id, NewMemory(id=paris.id, content="The user lives in Berlin"))
    assert await kit.memories.list("alice", ALL) == [paris]


async def test_an_existing_memory_that_says_something_else_or_has_ended_is_no_successor() -> None:
    kit = Kit()
    paris = await kit.memories.create("alice", NewMemory(content="The user lives in Paris"))
    cat = await kit.memories.create("alice", NewMemory(content="The user has a cat"))
    with pytest.raises(Conflict, match="says something else"):
        await kit.memories.supersede("alice", paris.id, NewMemory(id=cat.id, content="The user lives in Berlin"))
    berlin = await kit.memories.supersede("alice", paris.id, NewMemory(id="berlin", content="The user lives in Berlin"))
    # Berlin back to Paris would be a loop: Paris has ended.
    with pytest.raises(Conflict, match="no longer current"):
        await kit.memories.supersede("alice", berlin.id, NewMemory(id=paris.id, content="The user lives in Paris"))
    assert {m.id: m.superseded_by for m in await kit.memories.list("alice", ALL)} == {
        paris.id: berlin.id,
        berlin.id: None,
        cat.id: None,
    }


async def test_one_successor_may_replace_several_memories_when_it_says_the_same() -> None:
    kit = Kit()
    a = await kit.memories.create("alice", NewMemory(content="The user lives in Paris", type=MemoryType.PROFILE))
    b = await kit.memories.create("alice", NewMemory(content="The user lives in Lyon", type=MemoryType.PROFILE))
    new = NewMemory(id="berlin", content="The user lives in Berlin", type=MemoryType.PROFILE)
    first = await kit.memories.supersede("alice", a.id, new)
    second = await kit.memories.supersede("alice", b.id, new)
    assert first == second
    assert [m.id for m in await kit.memories.list("alice", MemoryFilter())] == ["berlin"]
    # The same id with another content is not the same successor.
    c = await kit.memories.create("alice", NewMemory(content="The user lives in Nice", type=MemoryType.PROFILE))
    with pytest.raises(Conflict):
        await kit.memories.supersede("alice", c.id, NewMemory(id="berlin", content="The user lives in Rome"))
    assert (await kit.memories.get("alice", c.id)).is_current
