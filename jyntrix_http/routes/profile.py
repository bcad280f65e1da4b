"""The caller's profile: display name, preferences, and profile-type memories."""

from __future__ import annotations

import msgspec
from litestar import Router, get, patch, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_201_CREATED

from jyntrix_client.types import Content, Memory, ProfilePatch, ProfileView, Reliability
from jyntrix_domain import profiles
from jyntrix_http import wire as to
from jyntrix_http.routes import ServicesDep, UserRequest, error_responses


class ProfileMemoryIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    content: Content
    reliability: Reliability = 0.9


def _view(view: profiles.ProfileView) -> ProfileView:
    profile = view.profile
    return ProfileView(
        user_id=view.user_id,
        display_name=profile.display_name if profile else None,
        preferences=dict(profile.preferences) if profile else {},
        memories=to.to_wire_all(view.memories, Memory),
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
    return to.to_wire_all(await services.profiles.memories(request.user.id), Memory)


@post(
    "/memories",
    status_code=HTTP_201_CREATED,
    summary="Add a fact to the caller's profile",
    responses=error_responses(body=True),
)
async def add_profile_memory(request: UserRequest, services: ServicesDep, data: JSONBody[ProfileMemoryIn]) -> Memory:
    return to.to_wire(await services.profiles.add_memory(request.user.id, data.content, data.reliability), Memory)


router = Router(
    path="/api/profile",
    route_handlers=[get_profile, update_profile, list_profile_memories, add_profile_memory],
    tags=["profile"],
)
