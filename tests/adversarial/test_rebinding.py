"""DNS rebinding: a request that names a Host the server does not answer to reaches no route.

A page on attacker.example whose name the attacker rebinds to 127.0.0.1 sends its requests to the server as
same-origin ones, with `Host: attacker.example:PORT`, and reads the answers. Before the Host allow-list such a page
minted a dev token for any user id and read that user's memories over REST and /mcp. Every route the app serves
(read from the app, so that a new one joins) must answer such a Host with a 400 problem document that holds nothing
of anyone, while loopback names and the names in ALLOWED_HOSTS are answered.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.routes import ASGIRoute, HTTPRoute

from tests.adversarial.conftest import SyncClient, Tenant
from tests.adversarial.served import Served, adversarial_settings, assert_error_document, serving

FOREIGN_HOSTS = ["attacker.example", "attacker.example:8000", "localhost.attacker.example", "127.0.0.1.nip.io"]
MCP_INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "0"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


def served_requests(client: SyncClient, victim: Tenant) -> list[tuple[str, str]]:
    """(method, url) of every route the app serves, its path parameters filled with the victim's ids."""
    ids = {"memory_id": victim.ids["memory"][0], "conversation_id": victim.ids["conversation"][0]}
    found = []
    for route in client.app.routes:
        url = route.path_format
        for name in getattr(route, "path_parameters", {}) or {}:
            url = url.replace("{" + name + "}", ids.get(name, victim.ids["message"][0]))
        if isinstance(route, ASGIRoute):
            found.append(("POST", url))
        elif isinstance(route, HTTPRoute):
            found.extend((method, url) for method in sorted(route.methods) if method not in ("OPTIONS", "HEAD"))
    return found


def test_every_route_refuses_a_host_it_does_not_serve(api: SyncClient, victim: Tenant) -> None:
    requests = served_requests(api, victim)
    assert ("POST", "/mcp") in requests and ("POST", "/api/console/dev-token") in requests
    for method, url in requests:
        for host in FOREIGN_HOSTS:
            body = {"user_id": victim.user_id} if url.endswith("/dev-token") else {}
            response = api.request(method, url, json=body, headers={**victim.headers, **MCP_HEADERS, "Host": host})
            found = assert_error_document(url, response, statuses=(400,))
            problem = found.get("error", found)  # /v1 speaks OpenAI's dialect
            assert problem["code"] == "host_not_allowed", (method, url, host)
            assert "ALLOWED_HOSTS" in problem.get("detail", problem.get("message"))
            # The problem's `instance` repeats the path the request sent; anything else of the victim is a leak.
            leaked = [trace for trace in victim.traces() if trace in response.text and trace not in url]
            assert not leaked, f"{method} {url} with Host {host} answered with the victim's {leaked}"


LOOPBACK_HOSTS = ["localhost:8000", "127.0.0.1:8000", "127.0.0.2", "[::1]:8000", "LOCALHOST.", "a.localhost"]


def test_loopback_names_are_answered(api: SyncClient, victim: Tenant) -> None:
    for host in LOOPBACK_HOSTS:
        response = api.get("/api/auth/me", headers={**victim.headers, "Host": host})
        assert response.status_code == 200, (host, response.text)
        assert response.json()["id"] == victim.user_id


@pytest.fixture
def served_default(tmp_path: Path) -> Iterator[Served]:
    """The default loopback server, ALLOWED_HOSTS unset: dev tokens on, as `make run` has them."""
    with serving(adversarial_settings(tmp_path, allowed_hosts=())) as served:
        yield served


def test_a_rebound_page_can_neither_mint_a_token_nor_read_with_one(served_default: Served) -> None:
    rebound = {"Host": f"attacker.example:{served_default.port}"}
    with httpx.Client(base_url=served_default.base_url, timeout=30) as client:
        minted = client.post("/api/console/dev-token", json={"user_id": "victim"}, headers=rebound)
        assert_error_document("/api/console/dev-token", minted, statuses=(400,))
        assert "token" not in minted.json()

        # The same request from the machine's own user, by a loopback name, still works ...
        own = client.post("/api/console/dev-token", json={"user_id": "victim"})
        assert own.status_code == 201, own.text
        bearer = {"Authorization": f"Bearer {own.json()['token']}"}
        remembered = client.post("/api/memories", json={"content": "My locker code is 4512"}, headers=bearer)
        assert remembered.status_code == 201, remembered.text

        # ... and a token that leaked to the page reads nothing through the rebound name, over REST or /mcp.
        for response in (
            client.get("/api/memories", headers={**bearer, **rebound}),
            client.post("/mcp", json=MCP_INITIALIZE, headers={**bearer, **MCP_HEADERS, **rebound}),
        ):
            assert_error_document(str(response.request.url.path), response, statuses=(400,))
            assert "4512" not in response.text
        assert "4512" in client.get("/api/memories", headers=bearer).text
        mcp = client.post("/mcp", json=MCP_INITIALIZE, headers={**bearer, **MCP_HEADERS})
        assert mcp.status_code == 200, mcp.text


def test_names_in_allowed_hosts_are_answered_and_others_still_refused(tmp_path: Path) -> None:
    settings = adversarial_settings(tmp_path, allowed_hosts=("memory.example.com", "*.corp.example"))
    with serving(settings) as served, httpx.Client(base_url=served.base_url, timeout=30) as client:
        statuses: dict[str, Any] = {
            host: client.get("/health/live", headers={"Host": host}).status_code
            for host in (
                "memory.example.com",
                "MEMORY.example.com:443",
                "api.corp.example",
                "corp.example",
                "memory.example.com.attacker.example",
                "attacker.example",
            )
        }
    assert statuses == {
        "memory.example.com": 200,
        "MEMORY.example.com:443": 200,
        "api.corp.example": 200,
        "corp.example": 400,
        "memory.example.com.attacker.example": 400,
        "attacker.example": 400,
    }


# Values that are no `host[:port]`: a loopback name with something after the port, a path, several colons.
MALFORMED_HOSTS = [
    "localhost:8000@attacker.example",
    "127.0.0.1:8000/x",
    "attacker.example:8000/x",
    "a:b:c",
    "localhost:/",
]


def test_a_host_header_that_is_no_host_and_port_is_a_400_never_a_500(api: SyncClient, victim: Tenant) -> None:
    for host in MALFORMED_HOSTS:
        for url in ("/api/auth/me", "/health/live", "/mcp"):
            response = api.get(url, headers={**victim.headers, **MCP_HEADERS, "Host": host})
            problem = assert_error_document(url, response, statuses=(400,))
            assert problem["instance"] == url, (host, problem)
            assert victim.user_id not in response.text, (url, host)
