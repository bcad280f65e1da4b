"""The caller's identity, as the token says."""

from __future__ import annotations

from litestar import Router, get

from jyntrix_http.auth import AuthUser
from jyntrix_http.routes import UserRequest, error_responses


@get("/me", summary="The authenticated user", tags=["auth"], responses=error_responses())
async def me(request: UserRequest) -> AuthUser:
    return request.user


router = Router(path="/api/auth", route_handlers=[me])
