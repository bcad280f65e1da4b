"""In-process ProfileStore: one profile per user in a dict."""

from __future__ import annotations

import msgspec

from jyntrix_adapters.inprocess.memory_store import check_text, json_copy
from jyntrix_domain.model import Profile, UserId


class InMemoryProfileStore:
    """ProfileStore in a dict keyed by user id."""

    def __init__(self) -> None:
        self._profiles: dict[UserId, Profile] = {}

    async def get(self, user_id: UserId) -> Profile | None:
        return self._profiles.get(user_id)

    async def put(self, profile: Profile) -> Profile:
        """Create or replace the user's profile."""
        check_text(profile.display_name or "", *profile.preferences, *profile.preferences.values())
        self._profiles[profile.user_id] = msgspec.structs.replace(profile, preferences=json_copy(profile.preferences))
        return profile

    async def forget_user(self, user_id: UserId) -> bool:
        return self._profiles.pop(user_id, None) is not None
