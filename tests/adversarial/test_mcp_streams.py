"""GET /mcp holds nothing open.

In stateless mode the MCP SDK answered GET with an event stream that no message could ever travel on and that it
never closed: 300 such GETs held 300 connections and file descriptors for as long as their clients liked. The
transport now answers GET (and DELETE, there being no session to end) with a 405 problem document at once.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx

from tests.adversarial.served import adversarial_settings, assert_error_document, serving
from testsupport.app import bearer

STREAMS = 50
SSE_HEADERS = {"Accept": "text/event-stream"}


def test_get_and_delete_on_mcp_answer_405_at_once_however_many(tmp_path: Path) -> None:
    headers = {**bearer(f"streamer-{uuid.uuid4()}"), **SSE_HEADERS}
    # A read timeout, not a clock: before, the first GET's body never ended and this raised ReadTimeout.
    with (
        serving(adversarial_settings(tmp_path)) as served,
        httpx.Client(base_url=served.base_url, timeout=10) as client,
    ):
        answers = [client.get("/mcp", headers=headers) for _ in range(STREAMS)]
        answers.append(client.delete("/mcp", headers=headers))
        answers.append(client.get("/mcp", headers=SSE_HEADERS))  # no token: still refused by auth first
    for response in answers[:-1]:
        problem = assert_error_document("/mcp", response, statuses=(405,))
        assert response.headers["allow"] == "POST"
        assert "POST only" in problem["detail"]
        assert problem["instance"] == "/mcp"
    assert answers[-1].status_code == 401
