"""Every way a bearer token can be wrong, against a read and a write route of every router: a 401, nothing more.

Each wrong token is refused with a 401 error document, never a 500, and the answer holds nothing of the user the
token claims to be (a seeded victim). A valid token on the same route is not refused, so each 401 is the token's.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from jyntrix_domain.user_ids import MAX_USER_ID_BYTES
from tests.adversarial.conftest import SyncClient, Tenant
from tests.adversarial.served import AUTHENTICATED, Operation, assert_error_document, op_id, sample_body
from testsupport.app import SECRET, bearer

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def claims(subject: str, /, **changes: Any) -> dict[str, Any]:
    """Valid claims for `subject`, with `changes` applied; a change to None drops the claim."""
    now = int(time.time())
    found: dict[str, Any] = {
        "sub": subject,
        "aud": "authenticated",
        "iat": now,
        "exp": now + 3600,
        "role": "authenticated",
    }
    found.update(changes)
    return {k: v for k, v in found.items() if v is not None}


def b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def hs(payload: dict[str, Any], secret: str = SECRET, algorithm: str = "HS256", **headers: Any) -> str:
    return f"Bearer {jwt.encode(payload, secret, algorithm=algorithm, headers=headers or None)}"


def unsigned(payload: dict[str, Any], alg: str = "none") -> str:
    return f"Bearer {b64({'alg': alg, 'typ': 'JWT'})}.{b64(payload)}."


def tampered(subject: str, /, **changes: Any) -> str:
    """A real token for someone else, its payload rewritten to `changes` and its signature kept."""
    header, _, signature = jwt.encode(claims("someone-else"), SECRET, algorithm="HS256").split(".")
    return f"Bearer {header}.{b64(claims(subject, **changes))}.{signature}"


def resigned_header(sub: str, alg: str) -> str:
    """A valid token whose header is swapped (e.g. to alg=none) while the payload and signature stay."""
    _, payload, signature = jwt.encode(claims(sub), SECRET, algorithm="HS256").split(".")
    return f"Bearer {b64({'alg': alg, 'typ': 'JWT'})}.{payload}.{signature}"


def rearranged(sub: str, part: int, value: str) -> str:
    parts = jwt.encode(claims(sub), SECRET, algorithm="HS256").split(".")
    parts[part] = value
    return "Bearer " + ".".join(parts)


Authorization = str | bytes | None
# Each case builds the Authorization header from the user id the token claims (the victim's): None sends none.
TOKENS: dict[str, Callable[[str], Authorization]] = {
    "missing": lambda sub: None,
    "empty header": lambda sub: "",
    "basic scheme": lambda sub: "Basic " + base64.b64encode(f"{sub}:pw".encode()).decode(),
    "token scheme": lambda sub: hs(claims(sub)).replace("Bearer", "Token", 1),
    "bearer without token": lambda sub: "Bearer",
    "bearer and spaces": lambda sub: "Bearer    ",
    "garbage": lambda sub: "Bearer not-a-jwt",
    "two segments": lambda sub: "Bearer abc.def",
    "four segments": lambda sub: hs(claims(sub)) + ".extra",
    "non-ascii bytes": lambda sub: "Bearer t\xf8ken\xff".encode("latin-1"),
    "huge": lambda sub: "Bearer " + "a" * 60_000,
    "header not json": lambda sub: rearranged(sub, 0, b64(b"{not json")),
    "payload not json": lambda sub: rearranged(sub, 1, b64(b"not json")),
    "payload a list": lambda sub: rearranged(sub, 1, b64([sub])),
    "signature stripped": lambda sub: rearranged(sub, 2, ""),
    "alg none": lambda sub: unsigned(claims(sub)),
    "alg None": lambda sub: unsigned(claims(sub), "None"),
    "alg none, signature kept": lambda sub: resigned_header(sub, "none"),
    "alg missing": lambda sub: resigned_header(sub, ""),
    "HS256, another secret": lambda sub: hs(claims(sub), "another-secret-0123456789abcdefghijklmnopqrstuvwxyz"),
    "HS512, the right secret": lambda sub: hs(claims(sub), SECRET + SECRET, "HS512"),
    "RS256 without a JWKS": lambda sub: f"Bearer {jwt.encode(claims(sub), RSA_KEY, algorithm='RS256')}",
    "ES256 without a JWKS": lambda sub: f"Bearer {jwt.encode(claims(sub), EC_KEY, algorithm='ES256')}",
    "RS256 pointing at a key URL": lambda sub: (
        "Bearer "
        + jwt.encode(claims(sub), RSA_KEY, algorithm="RS256", headers={"jku": "http://127.0.0.1:9/jwks", "kid": "k"})
    ),
    "expired": lambda sub: hs(claims(sub, iat=int(time.time()) - 7200, exp=int(time.time()) - 120)),
    "not yet valid (nbf)": lambda sub: hs(claims(sub, nbf=int(time.time()) + 3600)),
    "issued in the future": lambda sub: hs(claims(sub, iat=int(time.time()) + 3600)),
    "wrong audience": lambda sub: hs(claims(sub, aud="service_role")),
    "audience not a string": lambda sub: hs(claims(sub, aud=5)),
    "missing audience": lambda sub: hs(claims(sub, aud=None)),
    "missing sub": lambda sub: hs(claims(sub, sub=None)),
    "missing exp": lambda sub: hs(claims(sub, exp=None)),
    "missing iat": lambda sub: hs(claims(sub, iat=None)),
    "exp not a number": lambda sub: hs(claims(sub, exp="tomorrow")),
    "exp past year 9999": lambda sub: hs(claims(sub, exp=10**12)),
    "sub empty": lambda sub: hs(claims("")),
    "sub blank": lambda sub: hs(claims("   ")),
    "sub a number": lambda sub: hs(claims(sub, sub=12345)),
    "sub a list": lambda sub: hs(claims(sub, sub=[sub])),
    "sub too long": lambda sub: hs(claims("u" * (MAX_USER_ID_BYTES + 1))),
    "sub with a newline": lambda sub: hs(claims(f"{sub}\nINFO forged")),
    "sub with NUL": lambda sub: hs(claims(f"{sub}\x00")),
    "sub with a line separator": lambda sub: hs(claims(f"{sub}\u2028x")),
    "sub with an ANSI escape": lambda sub: hs(claims(f"{sub}\x1b[2J")),
    # JSON can spell a lone surrogate (`\ud800`); no store, log line or JSON answer can hold one.
    "sub with a lone surrogate": lambda sub: hs(claims(f"{sub}\ud800x")),
    "sub a lone surrogate alone": lambda sub: hs(claims("\udfff")),
    "another user's token, sub rewritten": lambda sub: tampered(sub),
    "another user's token, exp extended": lambda sub: tampered("someone-else", exp=int(time.time()) + 10**6),
    "another user's token, role rewritten": lambda sub: tampered(sub, role="service_role"),
}


def representatives() -> list[Operation]:
    """A read and a write of every router: the first operation without a path parameter of each kind, else any."""
    chosen: dict[tuple[str, bool], Operation] = {}
    for op in AUTHENTICATED:
        key = (op.router, op.method != "GET")
        best = chosen.get(key)
        if best is None or (best.path_params and not op.path_params):
            chosen[key] = op
    return list(chosen.values())


ROUTES = representatives()


def send(client: SyncClient, op: Operation, authorization: Authorization, victim: Tenant) -> Any:
    ids = {"memory_id": victim.ids["memory"][0], "conversation_id": victim.ids["conversation"][0]}
    url = op.url(**{name: ids.get(name, victim.ids["message"][0]) for name in op.path_params})
    headers: dict[str, Any] = {} if authorization is None else {"Authorization": authorization}
    body = sample_body(op) if op.body_schema is not None else None
    return client.request(op.method, url, json=body, headers=headers)


def test_every_router_has_representatives() -> None:
    routers = {op.router for op in AUTHENTICATED}
    assert {"auth", "chat", "memories", "profile", "analytics"} <= routers
    assert {op.router for op in ROUTES} == routers


@pytest.mark.parametrize("op", ROUTES, ids=op_id)
@pytest.mark.parametrize("token", list(TOKENS), ids=str)
def test_a_wrong_token_is_a_401_and_reveals_nothing(api: SyncClient, victim: Tenant, op: Operation, token: str) -> None:
    response = send(api, op, TOKENS[token](victim.user_id), victim)
    assert_error_document(op.path, response, statuses=(401,))
    assert response.headers["www-authenticate"].startswith("Bearer")
    leaked = [trace for trace in victim.traces() if trace in response.text]
    assert not leaked, f"{token} on {op.id} answered with the victim's {leaked}"


@pytest.mark.parametrize("op", ROUTES, ids=op_id)
def test_a_valid_token_on_the_same_route_is_not_refused(api: SyncClient, victim: Tenant, op: Operation) -> None:
    response = send(api, op, bearer(victim.user_id)["Authorization"], victim)
    assert response.status_code not in (401, 403) and response.status_code < 500, response.text


def test_no_wrong_token_wrote_anything_for_the_user_it_claimed(api: SyncClient, victim: Tenant) -> None:
    def held() -> tuple[list[str], list[str], Any]:
        memories = api.get("/api/memories", params={"current_only": "false"}, headers=victim.headers).json()
        conversations = api.get("/api/chat/conversations", headers=victim.headers).json()["items"]
        profile = api.get("/api/profile", headers=victim.headers).json()
        return sorted(m["id"] for m in memories["items"]), [c["id"] for c in conversations], profile

    before = held()
    for op in ROUTES:
        for build in TOKENS.values():
            send(api, op, build(victim.user_id), victim)
    assert held() == before
