"""Generic bad bodies on every served route that reads one: each is a 4xx error document and changes nothing.

The caller sends to their own memory and conversation ids, so that what is refused is the body, not the id.
The bodies are derived from each route's request schema (every property given the wrong type, a huge string,
a NUL, deep nesting), so a new body route gets the same treatment without being listed here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.adversarial.conftest import SyncClient, Tenant
from tests.adversarial.served import WITH_BODY, Operation, assert_error_document, op_id, resolve, sample_body
from tests.adversarial.test_cross_tenant import assert_untouched

HUGE = "a" * 1_000_000


def properties(op: Operation) -> dict[str, Any]:
    assert op.body_schema is not None
    found: dict[str, Any] = resolve(op.body_schema).get("properties", {})
    return found


def wrong_type(schema: dict[str, Any]) -> Any:
    """A value of another JSON type than the one the property takes."""
    kind = resolve(schema).get("type")
    return {"string": 12345, "integer": "twelve", "number": "twelve", "boolean": "yes", "array": {"a": 1}}.get(
        str(kind), ["not", "an", "object"]
    )


def every_property(op: Operation, value: Callable[[str, dict[str, Any]], Any]) -> dict[str, Any]:
    """The sample body with each property of the schema set to `value(name, schema)`."""
    body = sample_body(op)
    body = body if isinstance(body, dict) else {}
    return {**body, **{name: value(name, schema) for name, schema in properties(op).items()}}


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


JSON = {"Content-Type": "application/json"}
# Each bad body: (raw bytes to send, extra headers), built for one operation.
BAD_BODIES: dict[str, Callable[[Operation], tuple[bytes, dict[str, str]]]] = {
    "a JSON array": lambda op: (b"[]", JSON),
    "a JSON string": lambda op: (b'"content"', JSON),
    "a JSON number": lambda op: (b"5", JSON),
    "JSON null": lambda op: (b"null", JSON),
    "empty object where fields are required, or unknown fields": lambda op: (
        json.dumps({"__proto__": {"admin": True}, "constructor": 1}).encode(),
        JSON,
    ),
    "every property the wrong type": lambda op: (
        json.dumps(every_property(op, lambda name, schema: wrong_type(schema))).encode(),
        JSON,
    ),
    "every property a huge string": lambda op: (
        json.dumps(every_property(op, lambda name, schema: HUGE)).encode(),
        JSON,
    ),
    "every property a string with NUL": lambda op: (
        json.dumps(every_property(op, lambda name, schema: "tea\u0000time")).encode(),
        JSON,
    ),
    "every property nested 200 deep": lambda op: (
        json.dumps(every_property(op, lambda name, schema: nested(200))).encode(),
        JSON,
    ),
    "nesting past the decoder's limit": lambda op: (b'{"a":' * 5000 + b"1" + b"}" * 5000, JSON),
    "truncated JSON": lambda op: (json.dumps(sample_body(op)).encode()[:-1], JSON),
    "invalid UTF-8": lambda op: (b'{"content": "\xff\xfe"}', JSON),
    "a lone surrogate": lambda op: (b'{"content": "\\ud800"}', JSON),
    "a number too large for a double": lambda op: (b'{"limit": 1e999, "reliability": 1e999}', JSON),
    "empty body": lambda op: (b"", JSON),
    "valid JSON as text/plain": lambda op: (json.dumps(sample_body(op)).encode(), {"Content-Type": "text/plain"}),
    "valid JSON as a form": lambda op: (
        json.dumps(sample_body(op)).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    ),
    "valid JSON with no Content-Type": lambda op: (json.dumps(sample_body(op)).encode(), {}),
}


def own_url(op: Operation, owner: Tenant) -> str:
    ids = {"memory_id": owner.ids["memory"][0], "conversation_id": owner.ids["conversation"][0]}
    return op.url(**{name: ids.get(name, owner.ids["message"][0]) for name in op.path_params})


def test_every_body_route_is_in_the_matrix() -> None:
    assert len(WITH_BODY) >= 10
    for op in WITH_BODY:
        assert properties(op) or resolve(op.body_schema or {}).get("type") == "object", op.id


@pytest.mark.parametrize("op", WITH_BODY, ids=op_id)
def test_bad_bodies_are_client_errors_that_change_nothing(api: SyncClient, victim: Tenant, op: Operation) -> None:
    failures = []
    for name, build in BAD_BODIES.items():
        body, headers = build(op)
        response = api.request(op.method, own_url(op, victim), content=body, headers={**victim.headers, **headers})
        try:
            assert_error_document(op.path, response)
        except AssertionError as exc:
            failures.append(f"{name}: {str(exc).splitlines()[0][:400]}")
    assert not failures, f"{op.id}:\n" + "\n".join(failures)
    assert_untouched(api, victim)
