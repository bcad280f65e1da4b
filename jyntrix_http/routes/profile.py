"""The caller's profile: display name, preferences, and profile-type memories."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Router, get, patch, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from jyntrix_client.types import Content, ProfileView, Reliability
from jyntrix_domain import profiles
from jyntrix_domain.memory_rules import MAX_PREFERENCES
from jyntrix_domain.model import Memory
from jyntrix_http.routes import ServicesDep, UserRequest, error_responses

PreferenceKey = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
PreferenceValue = Annotated[str, msgspec.Meta(max_length=1000)]


class ProfilePatch(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Fields to change; a preference set to null is removed."""

    display_name: Annotated[str, msgspec.Meta(max_length=200)] | None = None
    preferences: Annotated[dict[PreferenceKey, PreferenceValue | None], msgspec.Meta(max_length=MAX_PREFERENCES)] = {}


class ProfileMemoryIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    content: Content
    reliability: Reliability = 0.9


def _view(view: profiles.ProfileView) -> ProfileView:
    profile = view.profile
    return ProfileView(
        user_id=view.user_id,
        display_name=profile.display_name if profile else None,
        preferences=dict(profile.preferences) if profile else {},
        memories=view.memories,
        updated_at=profile.updated_at.isoformat() if profile else None,
    )


@get("/", summary="The caller's profile and profile memories", responses=error_responses())
async def get_profile(request: UserRequest, services: ServicesDep) -> ProfileView:
    return _view(await services.profiles.get(request.user.id))


@patch("/", summary="Change the display name or preferences", responses=error_responses(body=True))
async def update_profile(request: UserRequest, services: ServicesDep, data: JSONBody[ProfilePatch]) -> ProfileView:
    view = await services.profiles.update(request.user.id, display_name=data.display_name, preferences=data.preferences)
    return _view(view)


@get("/memories", summary="The caller's profile memories", responses=error_responses())
async def list_profile_memories(request: UserRequest, services: ServicesDep) -> list[Memory]:
    return await services.profiles.memories(request.user.id)


@post(
    "/memories",
    status_code=HTTP_201_CREATED,
    summary="Add a fact to the caller's profile",
    responses=error_responses(body=True),
)
async def add_profile_memory(request: UserRequest, services: ServicesDep, data: JSONBody[ProfileMemoryIn]) -> Memory:
    return await services.profiles.add_memory(request.user.id, data.content, data.reliability)


router = Router(
    path="/api/profile",
    route_handlers=[get_profile, update_profile, list_profile_memories, add_profile_memory],
    tags=["profile"],
)
