"""Identity limits, log lines no request can forge, rate-limit headers, unauthenticated throttling, media types."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
import pytest

from jyntrix_domain.user_ids import MAX_USER_ID_BYTES
from jyntrix_http.auth import mint_token
from jyntrix_http.throttle import client_address, parse_networks
from testsupport.app import SECRET, Client, bearer, make_settings


def raw_token(sub: str) -> str:
    """A well-signed token for any `sub`: mint_token itself refuses impossible user ids."""
    claims = {"sub": sub, "aud": "authenticated", "iat": 1_700_000_000, "exp": 4_102_444_800}
    return jwt.encode(claims, SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    ("sub", "reason"),
    [
        ("u" * (MAX_USER_ID_BYTES + 1), "longer than 255"),
        ("x" * 3000, "longer than 255"),
        ("alice\nINFO forged line", "control characters"),
        ("alice\u2028bob", "control characters"),
        ("bob\x00", "control characters"),
    ],
)
async def test_a_sub_that_cannot_be_a_user_is_a_clear_401(client: Client, sub: str, reason: str) -> None:
    token = raw_token(sub)
    response = await client.post("/api/memories", json={"content": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert reason in response.json()["detail"]


async def test_the_longest_user_id_can_write(client: Client) -> None:
    headers = bearer("u" * MAX_USER_ID_BYTES)
    assert (await client.post("/api/memories", json={"content": "I like tea"}, headers=headers)).status_code == 201
    assert (await client.get("/api/memories", headers=headers)).json()["total"] == 1


def test_no_dev_token_is_minted_for_an_impossible_user() -> None:
    with pytest.raises(ValueError, match="longer than 255"):
        mint_token(SECRET, "u" * 256)
    with pytest.raises(ValueError, match="control characters"):
        mint_token(SECRET, "a\nb")


async def test_request_values_cannot_forge_log_lines(
    client: Client, headers: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await client.get("/api/memories/x%0AINFO%20GET%20admin%20200%1B[2J", headers=headers)
    lines: list[str] = []
    for _ in range(200):  # the line is written on the app's thread as the response ends
        lines = [r.getMessage() for r in caplog.records if r.name == "jyntrix.http" and "admin" in r.getMessage()]
        if lines:
            break
        await asyncio.sleep(0.01)
    assert lines and all("\n" not in line for line in lines)
    assert any("x\\nINFO" in line and "\\x1b[2J" in line for line in lines)


RATELIMIT_FIELDS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "ratelimit-policy")


def ratelimit_fields(response: Any) -> dict[str, str]:
    return {name: response.headers[name] for name in RATELIMIT_FIELDS if name in response.headers}


async def test_admitted_and_refused_requests_carry_every_ratelimit_field(
    tmp_path: Path, app_factory: Callable[..., Client]
) -> None:
    async with app_factory(make_settings(tmp_path, rate_limit_requests=2, rate_limit_window_s=30)) as client:
        headers = bearer("limited")
        admitted = [await client.get("/api/auth/me", headers=headers) for _ in range(2)]
        limited = await client.get("/api/auth/me", headers=headers)
        completions = await client.post("/v1/chat/completions", json={"messages": []}, headers=headers)
    # Admitted: the quota is whole again once the request just counted, the newest, leaves the 30 s window.
    quota = {"ratelimit-limit": "2", "ratelimit-reset": "30", "ratelimit-policy": "2;w=30"}
    assert [ratelimit_fields(r) for r in admitted] == [{**quota, "ratelimit-remaining": left} for left in ("1", "0")]
    # Refused: the next request is admitted after Retry-After.
    for refused in (limited, completions):
        assert refused.status_code == 429, refused.text
        fields = ratelimit_fields(refused)
        assert fields == {**fields, "ratelimit-limit": "2", "ratelimit-remaining": "0", "ratelimit-policy": "2;w=30"}
        assert 1 <= int(fields["ratelimit-reset"]) == int(refused.headers["retry-after"]) <= 30


async def test_the_address_throttles_429_carries_its_own_quota(
    tmp_path: Path, app_factory: Callable[..., Client]
) -> None:
    settings = make_settings(tmp_path, rate_limit_anonymous_requests=1, rate_limit_window_s=20)
    async with app_factory(settings) as client:
        await client.get("/health")
        limited = await client.get("/api/memories", headers={"Authorization": "Bearer refused"})
    assert limited.status_code == 429
    fields = ratelimit_fields(limited)
    assert fields == {**fields, "ratelimit-limit": "1", "ratelimit-remaining": "0", "ratelimit-policy": "1;w=20"}
    assert int(fields["ratelimit-reset"]) == int(limited.headers["retry-after"])


async def test_unauthenticated_floods_are_throttled_by_address(
    tmp_path: Path, app_factory: Callable[..., Client]
) -> None:
    async with app_factory(make_settings(tmp_path, rate_limit_anonymous_requests=3)) as client:
        ready = [(await client.get("/health/ready")).status_code for _ in range(3)]
        flooded = await client.get("/health/ready")
        # A forged X-Forwarded-For from a peer that is no trusted proxy does not buy a new allowance.
        spoofed = await client.get("/health", headers={"X-Forwarded-For": "203.0.113.9"})
        no_token = await client.get("/api/memories")
        # A user with a token is counted against their own limit, not the address's.
        authed = await client.get("/api/auth/me", headers=bearer("someone"))
    assert ready == [200, 200, 200]
    assert flooded.status_code == 429 and int(flooded.headers["retry-after"]) >= 1
    assert flooded.headers["content-type"].startswith("application/problem+json")
    assert flooded.json()["code"] == "rate_limited"
    assert flooded.json()["request_id"] == flooded.headers["x-request-id"]
    assert spoofed.status_code == 429 and no_token.status_code == 429
    assert authed.status_code == 200


async def test_the_consoles_own_files_do_not_spend_the_address_allowance(
    tmp_path: Path, app_factory: Callable[..., Client]
) -> None:
    async with app_factory(make_settings(tmp_path, rate_limit_anonymous_requests=2)) as client:
        files = [(await client.get("/console/index.html")).status_code for _ in range(5)]
        config = [(await client.get("/api/console/config")).status_code for _ in range(3)]
    assert files == [200] * 5
    # The console's API calls are counted as every other anonymous request is.
    assert config == [200, 200, 429]


async def test_refused_tokens_count_against_the_address(tmp_path: Path, app_factory: Callable[..., Client]) -> None:
    async with app_factory(make_settings(tmp_path, rate_limit_anonymous_requests=3)) as client:
        forged = {"Authorization": "Bearer not-a-token"}
        statuses = [(await client.get("/api/auth/me", headers=forged)).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]


def scope(peer: str, forwarded: str | None = None) -> dict[str, Any]:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return {"type": "http", "client": (peer, 5000), "headers": headers}


def test_x_forwarded_for_is_trusted_only_from_listed_proxies() -> None:
    proxies = parse_networks(["10.0.0.0/8", "192.0.2.1"])
    assert client_address(scope("198.51.100.7", "203.0.113.9"), proxies) == "198.51.100.7"
    assert client_address(scope("10.1.2.3", "203.0.113.9"), proxies) == "203.0.113.9"
    # The nearest untrusted hop wins: a client cannot prepend an address of its choosing.
    assert client_address(scope("10.1.2.3", "1.1.1.1, 203.0.113.9, 192.0.2.1"), proxies) == "203.0.113.9"
    assert client_address(scope("10.1.2.3", "garbage"), proxies) == "10.1.2.3"
    assert client_address(scope("10.1.2.3"), proxies) == "10.1.2.3"
    assert client_address(scope("10.1.2.3", "203.0.113.9"), ()) == "10.1.2.3"


async def test_a_body_without_content_type_is_415(client: Client, headers: dict[str, str]) -> None:
    response = await client.post("/api/memories", content=b'{"content": "x"}', headers=headers)
    assert response.status_code == 415, response.text
    assert "Content-Type: application/json" in response.json()["detail"]
