"""Supabase-compatible JWT bearer auth on Litestar's JWT support (PyJWT underneath).

HS256 tokens are checked with SUPABASE_JWT_SECRET; RS256/ES256 tokens against the keys
published at SUPABASE_JWKS_URL. `aud` must be JWT_AUDIENCE, `exp` must be in the future,
and `sub` is the user id every request is scoped to.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import msgspec
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.middleware import DefineMiddleware
from litestar.middleware.authentication import AuthenticationResult
from litestar.security.jwt import JWTAuth, JWTAuthenticationMiddleware, Token
from litestar.security.jwt.token import JWTDecodeOptions

from jyntrix_bootstrap.settings import DEV_TOKEN_ISSUER, Settings
from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.user_ids import check_user_id, user_id_problem

# Paths served without a token: liveness/readiness, the index and the OpenAPI schema.
PUBLIC_PATHS = ["^/$", "^/health", "^/schema"]
HS_ALGORITHM = "HS256"


IAT_LEEWAY = timedelta(seconds=60)


@dataclass
class SupabaseToken(Token):
    """Litestar's Token, tolerating an `iat` slightly in the future: the issuer's clock may run ahead of ours."""

    def __post_init__(self) -> None:
        now = datetime.now(UTC)
        if isinstance(self.iat, datetime) and now < self.iat <= now + IAT_LEEWAY:
            self.iat = now
        super().__post_init__()

    @classmethod
    def decode_payload(
        cls,
        encoded_token: str,
        secret: str,
        algorithms: list[str],
        issuer: str | Sequence[str] | None = None,
        audience: str | Sequence[str] | None = None,
        options: JWTDecodeOptions | None = None,
    ) -> Any:
        # PyJWT rejects an `iat` in the future unless given leeway; `exp` is still checked strictly in __post_init__.
        return jwt.decode(
            jwt=encoded_token,
            key=secret,
            algorithms=algorithms,
            issuer=issuer,
            audience=audience,
            options=dict(options or {}),  # type: ignore[arg-type]
            leeway=IAT_LEEWAY,
        )


class AuthUser(msgspec.Struct, frozen=True, kw_only=True):
    """The caller, from the token's claims."""

    id: str
    email: str | None = None
    role: str | None = None
    expires_at: datetime


def _is_unicode(text: str) -> bool:
    """False for a string holding a lone surrogate: JSON can spell one (`"\\ud800"`), UTF-8 cannot encode it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


async def _user_from_token(token: Token, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthUser:
    # Refuse the token rather than fail, or forge log lines, on every request: a sub that no store, log or JSON
    # answer can hold is not an identity, however well it is signed.
    problem = user_id_problem(token.sub) if _is_unicode(token.sub) else "it is not valid Unicode (a lone surrogate)"
    if problem is not None:
        raise NotAuthorizedException(f"Invalid token: `sub` is not a usable user id ({problem})")
    email = token.extras.get("email")
    role = token.extras.get("role")
    return AuthUser(
        id=token.sub,
        email=email if isinstance(email, str) and _is_unicode(email) else None,
        role=role if isinstance(role, str) and _is_unicode(role) else None,
        expires_at=token.exp,
    )


class BearerMiddleware(JWTAuthenticationMiddleware):
    """Litestar's JWT middleware, plus signing keys looked up in a JWKS for asymmetric tokens."""

    __slots__ = ("jwks_algorithms", "jwks_client")

    def __init__(
        self,
        *args: Any,
        jwks_client: jwt.PyJWKClient | None = None,
        jwks_algorithms: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.jwks_client = jwks_client
        self.jwks_algorithms = tuple(jwks_algorithms)

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        scheme, _, encoded = (connection.headers.get(self.auth_header) or "").partition(" ")
        if scheme.lower() != "bearer" or not encoded.strip():
            raise NotAuthorizedException("A bearer token is required")
        return await self.authenticate_token(encoded_token=encoded.strip(), connection=connection)

    async def authenticate_token(
        self, encoded_token: str, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        try:
            algorithm = jwt.get_unverified_header(encoded_token).get("alg")
        except jwt.InvalidTokenError as exc:
            raise NotAuthorizedException("Invalid token") from exc
        if algorithm == HS_ALGORITHM and self.token_secret:
            return await super().authenticate_token(encoded_token, connection)
        if self.jwks_client is None or algorithm not in self.jwks_algorithms:
            raise NotAuthorizedException("Invalid token")
        key = await self._signing_key(encoded_token)
        token = self.token_cls.decode(
            encoded_token=encoded_token,
            secret=key,
            algorithm=algorithm,
            audience=self.token_audience,
            issuer=self.token_issuer,
            require_claims=self.require_claims,
            verify_exp=self.verify_expiry,
            verify_nbf=self.verify_not_before,
            strict_audience=self.strict_audience,
        )
        return AuthenticationResult(user=await self.retrieve_user_handler(token, connection), auth=token)

    async def _signing_key(self, encoded_token: str) -> Any:
        assert self.jwks_client is not None
        try:
            # PyJWKClient fetches over blocking urllib (cached after the first call), so it runs in a thread.
            signing = await asyncio.to_thread(self.jwks_client.get_signing_key_from_jwt, encoded_token)
        except jwt.PyJWKClientConnectionError as exc:
            raise Unavailable("the JWKS endpoint did not answer") from exc
        except (jwt.PyJWKSetError, ValueError) as exc:
            # HTML from a proxy, an empty body, no usable key: the identity provider is down or misconfigured,
            # which no token can fix (ValueError covers a body that is not JSON, or not UTF-8).
            raise Unavailable("the JWKS endpoint answered without a usable key set") from exc
        except (jwt.PyJWKClientError, jwt.InvalidTokenError) as exc:
            raise NotAuthorizedException("Invalid token") from exc
        return signing.key


@dataclass
class BearerAuth(JWTAuth[AuthUser, SupabaseToken]):
    """JWTAuth wired to BearerMiddleware so that JWKS-signed tokens are accepted too."""

    jwks_client: jwt.PyJWKClient | None = None
    jwks_algorithms: Sequence[str] = field(default_factory=tuple)

    authentication_middleware_class: type[JWTAuthenticationMiddleware] = BearerMiddleware

    @property
    def middleware(self) -> DefineMiddleware:
        """Litestar's definition of its JWT middleware (now BearerMiddleware), with the JWKS to look keys up in."""
        defined = super().middleware
        defined.kwargs.update(jwks_client=self.jwks_client, jwks_algorithms=self.jwks_algorithms)
        return defined


def bearer_auth(settings: Settings) -> BearerAuth:
    """The app's auth config; raises ValueError when neither a secret nor a JWKS URL is configured."""
    if not settings.supabase_jwt_secret and not settings.supabase_jwks_url:
        raise ValueError("SUPABASE_JWT_SECRET or SUPABASE_JWKS_URL must be set")
    jwks = jwt.PyJWKClient(settings.supabase_jwks_url, cache_keys=True) if settings.supabase_jwks_url else None
    return BearerAuth(
        token_secret=settings.supabase_jwt_secret or "",
        algorithm=HS_ALGORITHM,
        retrieve_user_handler=_user_from_token,
        token_cls=SupabaseToken,
        accepted_audiences=[settings.jwt_audience],
        require_claims=["exp", "sub", "aud"],
        verify_expiry=True,
        exclude=PUBLIC_PATHS,
        description="A Supabase access token, or a dev token from `jyntrix token --user ID`.",
        jwks_client=jwks,
        jwks_algorithms=settings.jwt_algorithms,
    )


def mint_token(
    secret: str,
    user_id: str,
    *,
    hours: float = 24.0,
    audience: str = "authenticated",
    email: str | None = None,
    now: datetime | None = None,
) -> str:
    """An HS256 token shaped like Supabase's, for local development and tests."""
    try:
        check_user_id(user_id)
    except Invalid as exc:
        raise ValueError(str(exc)) from None
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": user_id,
        "aud": audience,
        "role": "authenticated",
        "iss": DEV_TOKEN_ISSUER,
        "iat": int(issued.timestamp()),
        "exp": int((issued + timedelta(hours=hours)).timestamp()),
    }
    if email:
        claims["email"] = email
    return jwt.encode(claims, secret, algorithm=HS_ALGORITHM)
