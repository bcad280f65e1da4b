"""ProfileService: preferences merge with a limit, the clock stamps each edit, profile memories."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jyntrix_domain.errors import Invalid
from jyntrix_domain.memory_rules import MAX_PREFERENCES
from jyntrix_domain.model import MemoryType
from jyntrix_domain.profiles import ProfileService
from tests.domain.kit import Kit


def service(kit: Kit) -> ProfileService:
    return ProfileService(profiles=kit.profiles, memories=kit.memories, clock=kit.clock)


async def test_preferences_merge_and_none_removes_one() -> None:
    kit = Kit()
    profiles = service(kit)
    assert (await profiles.get("alice")).profile is None
    first = await profiles.update("alice", display_name="Sam", preferences={"tone": "brief", "language": "en"})
    assert first.profile is not None and first.profile.updated_at == kit.clock.now()
    kit.clock.advance(timedelta(minutes=5))
    second = await profiles.update("alice", preferences={"tone": None, "units": "metric"})
    assert second.profile is not None
    assert second.profile.preferences == {"language": "en", "units": "metric"}
    assert second.profile.display_name == "Sam"
    assert second.profile.updated_at == kit.clock.now()
    cleared = await profiles.update("alice", display_name="")
    assert cleared.profile is not None and cleared.profile.display_name is None


async def test_a_profile_holds_at_most_the_preference_limit() -> None:
    kit = Kit()
    profiles = service(kit)
    await profiles.update("alice", preferences={f"k{i}": "v" for i in range(MAX_PREFERENCES)})
    with pytest.raises(Invalid, match=f"at most {MAX_PREFERENCES}"):
        await profiles.update("alice", preferences={"one more": "v"})
    view = await profiles.get("alice")
    assert view.profile is not None and len(view.profile.preferences) == MAX_PREFERENCES


async def test_profile_memories_are_the_profile_type_only() -> None:
    kit = Kit()
    profiles = service(kit)
    added = await profiles.add_memory("alice", "The user is vegetarian")
    assert (added.type, added.reliability) == (MemoryType.PROFILE, 0.9)
    assert [m.id for m in (await profiles.get("alice")).memories] == [added.id]
    assert await profiles.memories("bob") == []
