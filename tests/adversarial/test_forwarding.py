"""Forwarding headers count only from TRUSTED_PROXIES, under uvicorn as `jyntrix serve` runs it.

uvicorn by default rewrites the client's address from X-Forwarded-For when the peer is 127.0.0.1. With
TRUSTED_PROXIES unset, anyone on the host could then name a fresh address on every request and so a fresh
bucket of the per-address throttle: refused tokens sent with a rotated header got 401 after 401, never a 429.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.adversarial.served import serving
from testsupport.app import make_settings

LIMIT = 3
REFUSED = {"Authorization": "Bearer not-a-token"}


def refused_with_rotated_forwarding(base_url: str, count: int) -> list[int]:
    """The statuses of `count` refused tokens, each naming another client address in X-Forwarded-For."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        return [
            client.get(
                "/api/memories",
                headers={**REFUSED, "X-Forwarded-For": f"203.0.113.{n}", "X-Forwarded-Proto": "https"},
            ).status_code
            for n in range(1, count + 1)
        ]


def test_without_trusted_proxies_a_rotated_forwarded_for_picks_no_fresh_bucket(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, rate_limit_anonymous_requests=LIMIT, trusted_proxies=())
    with serving(settings) as served:
        statuses = refused_with_rotated_forwarding(served.base_url, LIMIT + 3)
    assert statuses == [401] * LIMIT + [429] * 3


def test_a_listed_proxy_names_the_client(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, rate_limit_anonymous_requests=LIMIT, trusted_proxies=("127.0.0.0/8",))
    with serving(settings) as served:
        statuses = refused_with_rotated_forwarding(served.base_url, LIMIT + 3)
        # One client behind the proxy is still counted as one.
        with httpx.Client(base_url=served.base_url, timeout=30) as client:
            same = [
                client.get("/api/memories", headers={**REFUSED, "X-Forwarded-For": "198.51.100.7"}).status_code
                for _ in range(LIMIT + 1)
            ]
    assert statuses == [401] * (LIMIT + 3)
    assert same == [401] * LIMIT + [429]
