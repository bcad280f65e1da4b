"""The memory console: its static files under /console, its settings, and (in development) dev tokens.

Every console response carries a strict Content-Security-Policy: scripts, styles and connections only from this
origin, nothing inline, no framing. The dev-token route exists only in development when the server listens on a
loopback address, so nobody but the machine's own user can mint a token with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
from litestar import Response, Router, get, post
from litestar.params import JSONBody
from litestar.static_files import create_static_files_router
from litestar.status_codes import HTTP_201_CREATED
from litestar.types import ControllerRouterHandler

from jyntrix_bootstrap.settings import Settings, is_loopback
from jyntrix_client import limits
from jyntrix_http.auth import mint_token

STATIC_DIR = Path(__file__).resolve().parent.parent / "console"
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    # The console's files change with the package; a reload must never mix an old module with a new one.
    "Cache-Control": "no-cache",
}
DEV_TOKEN_HOURS = 8.0
PUBLIC = {"exclude_from_auth": True}


class TranscriptLimits(msgspec.Struct, frozen=True, kw_only=True):
    """The transcript import route's limits, which the console checks a whole file against before sending any of it."""

    messages_per_call: int = limits.MAX_TRANSCRIPT_MESSAGES
    content_chars: int = limits.MAX_TRANSCRIPT_CONTENT_CHARS
    name_chars: int = limits.MAX_SPEAKER_CHARS
    id_chars: int = limits.MAX_CLIENT_ID_CHARS
    title_chars: int = limits.MAX_TITLE_CHARS


class ConsoleConfig(msgspec.Struct, frozen=True, kw_only=True):
    """What the console needs before sign-in: whether it may mint dev tokens, the context budgets, the import limits."""

    dev_tokens: bool
    budgets: dict[str, int]
    transcripts: TranscriptLimits = TranscriptLimits()


class DevTokenRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    user_id: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._@:\-]+$")]


class DevToken(msgspec.Struct, frozen=True, kw_only=True):
    token: str
    user_id: str
    expires_in_s: int


def dev_tokens_enabled(settings: Settings) -> bool:
    """True in development, with a local HS256 secret, when the server binds only a loopback address."""
    return settings.is_development and bool(settings.supabase_jwt_secret) and is_loopback(settings.host)


def _with_security_headers(response: Response[object]) -> Response[object]:
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    return response


def route_handlers(settings: Settings) -> list[ControllerRouterHandler]:
    """The console's routes for these settings: the dev-token route only when dev_tokens_enabled."""

    @get("/config", summary="Console settings", opt=PUBLIC, include_in_schema=False)
    async def console_config() -> ConsoleConfig:
        budgets = settings.budgets
        return ConsoleConfig(
            dev_tokens=dev_tokens_enabled(settings),
            budgets={name: getattr(budgets, name) for name in budgets.__struct_fields__},
        )

    handlers: list[ControllerRouterHandler] = [console_config]
    if dev_tokens_enabled(settings):
        secret = settings.supabase_jwt_secret or ""

        @post(
            "/dev-token",
            status_code=HTTP_201_CREATED,
            summary="Mint a development token (development, loopback bind only)",
            opt=PUBLIC,
            include_in_schema=False,
        )
        async def dev_token(data: JSONBody[DevTokenRequest]) -> DevToken:
            token = mint_token(secret, data.user_id, hours=DEV_TOKEN_HOURS, audience=settings.jwt_audience)
            return DevToken(token=token, user_id=data.user_id, expires_in_s=int(DEV_TOKEN_HOURS * 3600))

        handlers.append(dev_token)

    return [
        Router(path="/api/console", route_handlers=handlers, after_request=_with_security_headers),
        create_static_files_router(
            path="/console",
            directories=[STATIC_DIR],
            html_mode=True,
            name="console",
            opt=PUBLIC,
            after_request=_with_security_headers,
            include_in_schema=False,
        ),
    ]
