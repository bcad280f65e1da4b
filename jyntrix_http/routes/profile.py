"""The caller's profile: display name, preferences, and profile-type memories."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Router, get, patch, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from jyntrix_bootstrap.services import Services
from jyntrix_domain.errors import Invalid
from jyntrix_domain.memories import MAX_CONTENT_CHARS, NewMemory
from jyntrix_domain.model import Memory, MemoryFilter, MemoryType, Profile
from jyntrix_http.routes import ServicesDep, UserRequest, error_responses

MAX_PREFERENCES = 100
PROFILE_MEMORY_LIMIT = 200

PreferenceKey = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
PreferenceValue = Annotated[str, msgspec.Meta(max_length=1000)]


class ProfileView(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    display_name: str | None
    preferences: dict[str, str]
    memories: list[Memory]
    updated_at: str | None


class ProfilePatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; a preference set to null is removed."""

    display_name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    preferences: Annotated[dict[PreferenceKey, PreferenceValue | None], msgspec.Meta(max_length=MAX_PREFERENCES)] = {}


class ProfileMemoryIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    content: Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CONTENT_CHARS)]
    reliability: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.9


_PROFILE_ONLY = MemoryFilter(types=frozenset({MemoryType.PROFILE}), limit=PROFILE_MEMORY_LIMIT)


async def _view(services: Services, user_id: str, profile: Profile | None) -> ProfileView:
    memories = await services.memories.list(user_id, _PROFILE_ONLY)
    return ProfileView(
        user_id=user_id,
        display_name=profile.display_name if profile else None,
        preferences=dict(profile.preferences) if profile else {},
        memories=memories,
        updated_at=profile.updated_at.isoformat() if profile else None,
    )


@get("/", summary="The caller's profile and profile memories", responses=error_responses())
async def get_profile(request: UserRequest, services: ServicesDep) -> ProfileView:
    user_id = request.user.id
    return await _view(services, user_id, await services.profiles.get(user_id))


@patch("/", summary="Change the display name or preferences", responses=error_responses(body=True))
async def update_profile(request: UserRequest, services: ServicesDep, data: JSONBody[ProfilePatch]) -> ProfileView:
    user_id = request.user.id
    current = await services.profiles.get(user_id)
    preferences = dict(current.preferences) if current else {}
    for key, value in data.preferences.items():
        if value is None:
            preferences.pop(key, None)
        else:
            preferences[key] = value
    if len(preferences) > MAX_PREFERENCES:
        raise Invalid(f"a profile holds at most {MAX_PREFERENCES} preferences")
    display_name = data.display_name if data.display_name is not None else (current.display_name if current else None)
    saved = await services.profiles.put(
        Profile(
            user_id=user_id,
            updated_at=services.clock.now(),
            display_name=display_name or None,
            preferences=preferences,
        )
    )
    return await _view(services, user_id, saved)


@get("/memories", summary="The caller's profile memories", responses=error_responses())
async def list_profile_memories(request: UserRequest, services: ServicesDep) -> list[Memory]:
    return await services.memories.list(request.user.id, _PROFILE_ONLY)


@post(
    "/memories",
    status_code=HTTP_201_CREATED,
    summary="Add a fact to the caller's profile",
    responses=error_responses(body=True),
)
async def add_profile_memory(request: UserRequest, services: ServicesDep, data: JSONBody[ProfileMemoryIn]) -> Memory:
    return await services.memories.create(
        request.user.id, NewMemory(content=data.content, type=MemoryType.PROFILE, reliability=data.reliability)
    )


router = Router(
    path="/api/profile",
    route_handlers=[get_profile, update_profile, list_profile_memories, add_profile_memory],
    tags=["profile"],
)
