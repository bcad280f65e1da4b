"""Bearer auth: HS256 with the shared secret, RS256/ES256 through a JWKS served on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from jyntrix_http.auth import mint_token
from testsupport.app import SECRET, Client, bearer, make_settings

PUBLIC = {"/", "/health", "/health/live", "/health/ready"}


def _claims(**changes: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {
        "sub": "alice",
        "aud": "authenticated",
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
        "email": "alice@example.com",
        "role": "authenticated",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _hs(claims: dict[str, Any], secret: str = SECRET) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt.encode(claims, secret, algorithm='HS256')}"}


def _assert_401(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert body["status"] == 401
    assert body["title"] == "Unauthorized"


async def test_me_returns_the_tokens_subject(client: Client) -> None:
    response = await client.get("/api/auth/me", headers=_hs(_claims()))
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "alice"
    assert body["email"] == "alice@example.com"
    assert body["role"] == "authenticated"


async def test_a_minted_dev_token_is_accepted(client: Client) -> None:
    response = await client.get("/api/auth/me", headers=bearer("dev-user"))
    assert response.status_code == 200
    assert response.json()["id"] == "dev-user"


async def test_no_token_is_401(client: Client) -> None:
    _assert_401(await client.get("/api/auth/me"))


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer not-a-jwt", "Basic YWxpY2U6c2VjcmV0", "Token abc.def.ghi", "bearer  "],
)
async def test_malformed_authorization_is_401(client: Client, authorization: str) -> None:
    _assert_401(await client.get("/api/auth/me", headers={"Authorization": authorization}))


async def test_a_token_signed_with_another_secret_is_401(client: Client) -> None:
    _assert_401(await client.get("/api/auth/me", headers=_hs(_claims(), secret="another-secret-" + "x" * 40)))


async def test_wrong_audience_is_401(client: Client) -> None:
    _assert_401(await client.get("/api/auth/me", headers=_hs(_claims(aud="anon"))))


async def test_missing_audience_is_401(client: Client) -> None:
    _assert_401(await client.get("/api/auth/me", headers=_hs(_claims(aud=None))))


async def test_expired_token_is_401(client: Client) -> None:
    issued = datetime.now(UTC) - timedelta(hours=3)
    token = mint_token(SECRET, "alice", hours=1, now=issued)
    _assert_401(await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}))


async def test_an_issuers_clock_running_slightly_ahead_is_tolerated(client: Client) -> None:
    ahead = int((datetime.now(UTC) + timedelta(seconds=20)).timestamp())
    assert (await client.get("/api/auth/me", headers=_hs(_claims(iat=ahead)))).status_code == 200
    far_ahead = int((datetime.now(UTC) + timedelta(minutes=10)).timestamp())
    _assert_401(await client.get("/api/auth/me", headers=_hs(_claims(iat=far_ahead))))
    # the leeway is for `iat` only: a token that expired seconds ago is refused
    just_expired = int((datetime.now(UTC) - timedelta(seconds=10)).timestamp())
    iat = just_expired - 3600
    _assert_401(await client.get("/api/auth/me", headers=_hs(_claims(iat=iat, exp=just_expired))))


async def test_missing_subject_is_401(client: Client) -> None:
    _assert_401(await client.get("/api/auth/me", headers=_hs(_claims(sub=None))))


async def test_a_subject_holding_a_lone_surrogate_is_401(client: Client) -> None:
    response = await client.get("/api/auth/me", headers=_hs(_claims(sub="mal\ud800lory")))
    _assert_401(response)
    assert "not valid Unicode" in response.json()["detail"]


async def test_an_email_or_role_holding_a_lone_surrogate_is_left_out(client: Client) -> None:
    response = await client.get("/api/auth/me", headers=_hs(_claims(email="al\udfffice@example.com", role="a\ud800")))
    assert response.status_code == 200, response.text
    assert response.json() == {**response.json(), "id": "alice", "email": None, "role": None}


async def test_unsigned_token_is_401(client: Client) -> None:
    token = jwt.encode(_claims(), key="", algorithm="none")
    _assert_401(await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"}))


async def test_every_route_but_health_and_schema_requires_a_token(client: Client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    checked = 0
    for path, operations in schema["paths"].items():
        if path in PUBLIC:
            continue
        concrete = path.replace("{conversation_id}", "c1").replace("{memory_id}", "m1")
        for method in operations:
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            response = await client.request(method.upper(), concrete, json={})
            assert response.status_code == 401, f"{method.upper()} {path} answered {response.status_code}"
            checked += 1
    assert checked >= 20


# ------------------------------------------------------------------ JWKS (RS256, ES256)


class _Keys:
    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwks(self) -> dict[str, Any]:
        rsa_jwk = json.loads(RSAAlgorithm.to_jwk(self.rsa.public_key()))
        ec_jwk = json.loads(ECAlgorithm.to_jwk(self.ec.public_key()))
        rsa_jwk.update(kid="rsa-1", use="sig", alg="RS256")
        ec_jwk.update(kid="ec-1", use="sig", alg="ES256")
        return {"keys": [rsa_jwk, ec_jwk]}


@pytest.fixture(scope="module")
def keys() -> _Keys:
    return _Keys()


@pytest.fixture
def jwks_url(keys: _Keys) -> Iterator[str]:
    """A JWKS document served by a real HTTP server on loopback."""
    body = json.dumps(keys.jwks()).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/auth/v1/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()


def _signed(key: Any, algorithm: str, kid: str, **changes: Any) -> dict[str, str]:
    token = jwt.encode(_claims(**changes), key, algorithm=algorithm, headers={"kid": kid})
    return {"Authorization": f"Bearer {token}"}


async def test_jwks_tokens_are_accepted_for_rs256_and_es256(
    tmp_path: Path, jwks_url: str, keys: _Keys, app_factory: Callable[..., Client]
) -> None:
    settings = make_settings(tmp_path, supabase_jwt_secret=None, supabase_jwks_url=jwks_url)
    async with app_factory(settings) as client:
        rs = await client.get("/api/auth/me", headers=_signed(keys.rsa, "RS256", "rsa-1", sub="rs-user"))
        es = await client.get("/api/auth/me", headers=_signed(keys.ec, "ES256", "ec-1", sub="es-user"))
    assert rs.status_code == 200, rs.text
    assert rs.json()["id"] == "rs-user"
    assert es.status_code == 200, es.text
    assert es.json()["id"] == "es-user"


async def test_jwks_rejects_foreign_keys_wrong_audience_expiry_and_hs256(
    tmp_path: Path, jwks_url: str, keys: _Keys, app_factory: Callable[..., Client]
) -> None:
    settings = make_settings(tmp_path, supabase_jwt_secret=None, supabase_jwks_url=jwks_url)
    past = int((datetime.now(UTC) - timedelta(minutes=5)).timestamp())
    async with app_factory(settings) as client:
        # signed by a key the JWKS does not publish, under a kid it does and one it does not
        _assert_401(await client.get("/api/auth/me", headers=_signed(keys.stranger, "RS256", "rsa-1")))
        _assert_401(await client.get("/api/auth/me", headers=_signed(keys.stranger, "RS256", "unknown")))
        _assert_401(await client.get("/api/auth/me", headers=_signed(keys.rsa, "RS256", "rsa-1", aud="anon")))
        _assert_401(await client.get("/api/auth/me", headers=_signed(keys.rsa, "RS256", "rsa-1", exp=past)))
        # with no shared secret configured, an HS256 token cannot be verified at all
        _assert_401(await client.get("/api/auth/me", headers=_hs(_claims())))


async def test_unreachable_jwks_is_503(tmp_path: Path, keys: _Keys, app_factory: Callable[..., Client]) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = make_settings(tmp_path, supabase_jwt_secret=None, supabase_jwks_url=f"http://127.0.0.1:{port}/jwks.json")
    async with app_factory(settings) as client:
        response = await client.get("/api/auth/me", headers=_signed(keys.rsa, "RS256", "rsa-1"))
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert response.json()["code"] == "unavailable"
