"""The API as it is served: its operations read from the OpenAPI document, bodies they accept, error checks, and
the app under uvicorn as `jyntrix serve` runs it (for what only a real server shows: Host, forwarding headers).

The matrices parametrise over `OPERATIONS`, read at collection time from the same app factory the server uses,
so that a route another change adds joins every matrix without editing this suite;
`test_the_collected_operations_are_the_served_ones` pins that the collected list is what /schema/openapi.json
serves.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import uvicorn

from jyntrix_bootstrap.settings import Settings
from jyntrix_cli.cli import server_config
from jyntrix_http.app import create_app
from jyntrix_http.auth import PUBLIC_PATHS
from testsupport.app import make_settings
from testsupport.server import free_port, in_thread

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
PROBLEM_JSON = "application/problem+json"
# Routes under /v1 speak OpenAI's dialect: their errors are {"error": {...}} rather than problem documents.
OPENAI_PREFIX = "/v1/"
_PUBLIC = [re.compile(pattern) for pattern in PUBLIC_PATHS]


def adversarial_settings(data_dir: Path, **changes: Any) -> Settings:
    """The in_process deployment with the rate limits raised far past what any matrix sends."""
    return make_settings(data_dir, rate_limit_requests=1_000_000, rate_limit_anonymous_requests=1_000_000, **changes)


@dataclass(frozen=True)
class Operation:
    """One method on one path of the OpenAPI document."""

    method: str
    path: str
    path_params: tuple[str, ...]
    body_schema: dict[str, Any] | None
    tags: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def public(self) -> bool:
        return any(pattern.search(self.path) for pattern in _PUBLIC)

    @property
    def router(self) -> str:
        """Which part of the API it belongs to: its first tag, else its first path segment."""
        return self.tags[0] if self.tags else self.path.strip("/").split("/")[0]

    def url(self, **values: str) -> str:
        """The path with each `{name}` replaced, verbatim: callers choose the spelling of what goes in."""
        url = self.path
        for name in self.path_params:
            url = url.replace("{" + name + "}", values[name])
        return url


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation of an OpenAPI document, in document order."""
    found = []
    for path, item in document["paths"].items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [*shared, *op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    path_params=tuple(p["name"] for p in params if p["in"] == "path"),
                    body_schema=body,
                    tags=tuple(op.get("tags", ())),
                )
            )
    return found


def collected_document() -> dict[str, Any]:
    """The OpenAPI document of an app built as the server builds it (no lifespan needed to describe it)."""
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(adversarial_settings(Path(data_dir)))
        document: dict[str, Any] = msgspec.to_builtins(app.openapi_schema.to_schema())
    return document


DOCUMENT = collected_document()
OPERATIONS = operations(DOCUMENT)
AUTHENTICATED = [op for op in OPERATIONS if not op.public]
WITH_BODY = [op for op in AUTHENTICATED if op.body_schema is not None]
WITH_PATH_PARAMS = [op for op in AUTHENTICATED if op.path_params]


def op_id(op: Operation) -> str:
    return op.id


def resolve(schema: dict[str, Any], document: dict[str, Any] = DOCUMENT) -> dict[str, Any]:
    """`schema` with a top-level $ref followed (repeatedly) into the document's components."""
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def minimal_value(schema: dict[str, Any], document: dict[str, Any] = DOCUMENT) -> Any:
    """A small value `schema` accepts: required properties only, the first of a oneOf, the smallest number."""
    schema = resolve(schema, document)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [s for s in schema[key] if resolve(s, document).get("type") != "null"] or schema[key]
            return minimal_value(options[0], document)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {name: minimal_value(properties[name], document) for name in schema.get("required", [])}
    if kind == "array":
        return [minimal_value(schema["items"], document) for _ in range(schema.get("minItems", 0))]
    if kind == "string":
        return "hello adversary"[: schema.get("maxLength", 15)].ljust(schema.get("minLength", 0), "x")
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    return None


def sample_body(op: Operation) -> Any:
    """A body this operation's schema accepts (may still be refused for what it means, e.g. an unknown id)."""
    assert op.body_schema is not None
    return minimal_value(op.body_schema)


def assert_error_document(op_path: str, response: Any, statuses: range | tuple[int, ...] = range(400, 500)) -> Any:
    """The response is a client error in the route's error dialect: an RFC 9457 problem or, under /v1, OpenAI's."""
    where = f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text[:500]}"
    assert response.status_code in statuses, where
    assert "Traceback" not in response.text, where
    body = response.json()
    if op_path.startswith(OPENAI_PREFIX) and "error" in body:
        assert body["error"]["message"], where
        return body
    assert response.headers["content-type"].startswith(PROBLEM_JSON), where
    assert body["status"] == response.status_code, where
    assert body["type"].startswith("urn:jyntrix:problem:"), where
    assert body["title"], where
    assert body["request_id"] == response.headers["x-request-id"], where
    return body


@dataclass
class Served:
    """A server listening on a loopback port."""

    base_url: str
    port: int


@contextmanager
def serving(settings: Settings) -> Iterator[Served]:
    """The app under uvicorn configured as `jyntrix serve` configures it, on a free loopback port."""
    port = free_port()
    settings = msgspec.structs.replace(settings, host="127.0.0.1", port=port)
    with in_thread(uvicorn.Server(server_config(create_app(settings), settings))):
        yield Served(base_url=f"http://127.0.0.1:{port}", port=port)
