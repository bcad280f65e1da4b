"""Print the API's OpenAPI document, as GET /schema/openapi.json serves it, without starting a server.

`make typescript` generates the TypeScript client's types from it (clients/typescript/src/schema.ts), and
tests/client/test_typescript_client.py checks that the committed types are what it generates.
"""

from __future__ import annotations

import secrets
import sys
import tempfile
from typing import Any

import msgspec

from jyntrix_bootstrap.settings import Deployment, Settings
from jyntrix_http.app import create_app


def document() -> dict[str, Any]:
    """The document of an app on the in_process deployment (the routes and shapes are every deployment's)."""
    with tempfile.TemporaryDirectory() as data:
        # The app is never served: a throwaway secret only lets it be built.
        settings = Settings(
            jyntrix_deployment=Deployment.IN_PROCESS,
            jyntrix_data_dir=data,
            supabase_jwt_secret=secrets.token_hex(32),
        )
        app = create_app(settings)
        found: dict[str, Any] = app.openapi_schema.to_schema()
        return found


if __name__ == "__main__":
    # msgspec, as the server encodes it: a default such as ContextItem's `breakdown` is a struct.
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(document(), order="sorted"), indent=2).decode() + "\n")
