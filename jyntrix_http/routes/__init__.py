"""HTTP routers, one module per area of the API, and the parameter types they share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, TypeAlias

from litestar import Request
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from jyntrix_bootstrap.services import Services
from jyntrix_domain.errors import Invalid
from jyntrix_http.auth import AuthUser
from jyntrix_http.errors import AUTHENTICATED_PROBLEMS, BODY_PROBLEMS, problems

# The use-case services (jyntrix_bootstrap.services.Services): routes translate HTTP, the services decide.
ServicesDep: TypeAlias = NamedDependency[Services]
UserRequest: TypeAlias = Request[AuthUser, Any, Any]

# Past any real page, and well inside what every store accepts (the in-process ones slice with it).
MAX_OFFSET = 1_000_000
Offset = Annotated[int, Parameter(ge=0, le=MAX_OFFSET)]

# Times the API accepts, in queries and bodies: every store round-trips them, and a day either side of them
# is still a datetime (Postgres reads datetime.min/max back as -/+infinity, and naive).
MIN_TIME = datetime(1900, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(3000, 1, 1, tzinfo=UTC)


def error_responses(*statuses: int, body: bool = False) -> dict[int, ResponseSpec]:
    """The problem documents an authenticated route may answer, for its OpenAPI `responses`.

    Always 401, 429, 500 and 503; with `body`, those of reading a JSON body (400, 413, 415, 422); plus `statuses`.
    """
    return problems(*AUTHENTICATED_PROBLEMS, *(BODY_PROBLEMS if body else ()), *statuses)


def time_problem(at: datetime) -> str | None:
    """Why `at` is not a time the API accepts, or None when it is."""
    if at.tzinfo is None or at.utcoffset() is None:
        return "must carry a timezone, e.g. 2025-01-05T00:00:00Z"
    try:
        if MIN_TIME <= at < MAX_TIME:
            return None
    except OverflowError:  # comparing converts to UTC, which can leave datetime's range at year 1 or 9999
        pass
    return f"must be in the years {MIN_TIME.year} to {MAX_TIME.year - 1}"


def checked_time(name: str, at: datetime | None) -> datetime | None:
    """A time from a query parameter, in UTC; raises Invalid naming the parameter when it is unusable."""
    if at is None:
        return None
    problem = time_problem(at)
    if problem is not None:
        raise Invalid(f"`{name}` {problem}")
    return at.astimezone(UTC)
