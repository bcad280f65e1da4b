"""ProfileService: the user's display name, preferences and profile-type memories."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import msgspec

from jyntrix_domain.memories import MemoryService, NewMemory
from jyntrix_domain.memory_rules import merge_preferences
from jyntrix_domain.model import Memory, MemoryFilter, MemoryType, Profile, UserId
from jyntrix_domain.ports import Clock, ProfileStore

PROFILE_MEMORY_LIMIT = 200

_PROFILE_ONLY = MemoryFilter(types=frozenset({MemoryType.PROFILE}), limit=PROFILE_MEMORY_LIMIT)


class ProfileView(msgspec.Struct, frozen=True, kw_only=True):
    """The stored profile (None until first edited) with the user's current profile memories."""

    user_id: UserId
    profile: Profile | None
    memories: list[Memory]


class ProfileService:
    def __init__(self, *, profiles: ProfileStore, memories: MemoryService, clock: Clock) -> None:
        self._profiles = profiles
        self._memories = memories
        self._clock = clock

    async def get(self, user_id: UserId) -> ProfileView:
        return await self._view(user_id, await self._profiles.get(user_id))

    async def update(
        self,
        user_id: UserId,
        *,
        display_name: str | None = None,
        preferences: Mapping[str, str | None] | None = None,
    ) -> ProfileView:
        """Change what is given: preferences merge key by key (None removes one); an empty name clears it."""
        current = await self._profiles.get(user_id)
        merged = merge_preferences(current.preferences if current else {}, preferences or {})
        name = display_name if display_name is not None else (current.display_name if current else None)
        saved = await self._profiles.put(
            Profile(user_id=user_id, updated_at=self._clock.now(), display_name=name or None, preferences=merged)
        )
        return await self._view(user_id, saved)

    async def name_said(self, user_id: UserId, name: str, replaced: Iterable[str] = ()) -> bool:
        """The name the user gave in conversation ("my name is Nina", "call me Sam") becomes the display name,
        unless the user set another one themselves: it fills an empty one, or replaces a name said before
        (`replaced`, the names the new one supersedes). True when the display name changed."""
        name = " ".join(name.split())
        current = await self._profiles.get(user_id)
        shown = current.display_name if current else None
        if not name or shown == name or (shown and shown not in set(replaced)):
            return False
        await self.update(user_id, display_name=name)
        return True

    async def memories(self, user_id: UserId) -> list[Memory]:
        """The user's current profile memories, newest first."""
        return await self._memories.list(user_id, _PROFILE_ONLY)

    async def add_memory(self, user_id: UserId, content: str, reliability: float = 0.9) -> Memory:
        return await self._memories.create(
            user_id, NewMemory(content=content, type=MemoryType.PROFILE, reliability=reliability)
        )

    async def _view(self, user_id: UserId, profile: Profile | None) -> ProfileView:
        return ProfileView(user_id=user_id, profile=profile, memories=await self.memories(user_id))
