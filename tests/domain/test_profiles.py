"""ProfileService: preferences merge with a limit, the clock stamps each edit, profile memories, and the display
name follows the name the user gives in conversation unless they set one themselves."""

from __future__ import annotations

from datetime import timedelta

import pytest

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_domain.errors import Invalid
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.memory_rules import MAX_PREFERENCES
from jyntrix_domain.model import MemoryType
from jyntrix_domain.profiles import ProfileService
from tests.domain.kit import Kit
from tests.domain.test_extraction import USER, conversation_with


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


async def _extracted(kit: Kit, profiles: ProfileService, said: str, conversation_id: str) -> None:
    """`said` told in a conversation of its own and extracted with the rules, the profile service beside."""
    extraction = ExtractionService(
        kit.conversation_ports, memories=kit.memories, extractor=DeterministicExtractor(), profiles=profiles
    )
    ids = await conversation_with(kit, [said], conversation_id)
    await extraction.extract(USER, conversation_id, ids)


async def test_a_name_said_in_conversation_becomes_the_display_name() -> None:
    kit = Kit()
    profiles = service(kit)
    await _extracted(kit, profiles, "Hi there, my name is Nina Berg.", "c1")
    shown = (await profiles.get(USER)).profile
    assert shown is not None and shown.display_name == "Nina Berg"
    # A later name replaces the one said before ("call me …").
    await _extracted(kit, profiles, "Please just call me Nin.", "c2")
    shown = (await profiles.get(USER)).profile
    assert shown is not None and shown.display_name == "Nin"


async def test_a_display_name_the_user_set_is_kept_over_a_name_said() -> None:
    kit = Kit()
    profiles = service(kit)
    await profiles.update(USER, display_name="Dr. Berg")
    await _extracted(kit, profiles, "My name is Nina.", "c1")
    shown = (await profiles.get(USER)).profile
    assert shown is not None and shown.display_name == "Dr. Berg"
