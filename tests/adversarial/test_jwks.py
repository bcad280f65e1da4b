"""A JWKS endpoint that answers with something other than a key set: a 503 for asymmetric tokens, never a 500.

The endpoint is a tiny server on 127.0.0.1 that answers with whatever body a test sets. An identity provider
that is down or misconfigured is a dependency being unavailable (503 with Retry-After), the same answer as when
it does not answer at all (tests/http/test_auth.py). Before, a body that was not JSON or held no usable key
escaped PyJWT's client as JSONDecodeError or PyJWKSetError: a 500 on every request with an RS256/ES256 token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from litestar.testing import TestClient

from jyntrix_http.app import create_app
from tests.adversarial.served import adversarial_settings, assert_error_document

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Endpoint:
    """What the fake JWKS endpoint answers: a body and a content type."""

    body = b""
    content_type = "application/json"


@pytest.fixture
def jwks_endpoint() -> Iterator[tuple[str, Endpoint]]:
    answer = Endpoint()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", answer
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def rs256_token() -> str:
    now = int(time.time())
    claims = {"sub": "alice", "aud": "authenticated", "iat": now, "exp": now + 3600}
    return jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "k1"})


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"<html>502 Bad Gateway</html>", "text/html"),
        (b"", "application/json"),
        (b"\xff\xfe not utf-8", "application/json"),
        (b'{"keys": []}', "application/json"),
        (b'{"keys": [{"kty": "nonsense"}]}', "application/json"),
        (b'{"keys": "not a list"}', "application/json"),
        (b"[1, 2, 3]", "application/json"),
    ],
    ids=["html", "empty", "not-utf8", "no-keys", "unusable-key", "keys-not-a-list", "json-array"],
)
def test_a_jwks_endpoint_answering_garbage_is_not_a_500(
    tmp_path: Path, jwks_endpoint: tuple[str, Endpoint], body: bytes, content_type: str
) -> None:
    url, answer = jwks_endpoint
    answer.body, answer.content_type = body, content_type
    settings = adversarial_settings(tmp_path, supabase_jwt_secret=None, supabase_jwks_url=url)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        response = client.get("/api/auth/me", headers={"Authorization": f"Bearer {rs256_token()}"})
    found = assert_error_document("/api/auth/me", response, statuses=(401, 503))
    if response.status_code == 503:
        assert int(response.headers["retry-after"]) >= 1
        assert "JWKS" in found["detail"]
