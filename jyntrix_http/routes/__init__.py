"""HTTP routers, one module per area of the API, and the parameter types they share."""

from __future__ import annotations

from typing import Any, TypeAlias

from litestar import Request
from litestar.di import NamedDependency

from jyntrix_http.auth import AuthUser
from jyntrix_http.container import Services

ServicesDep: TypeAlias = NamedDependency[Services]
UserRequest: TypeAlias = Request[AuthUser, Any, Any]
