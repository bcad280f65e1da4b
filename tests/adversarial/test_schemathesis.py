"""A bounded schemathesis run against the served OpenAPI document: no 5xx, and answers that conform to it.

The app runs on the in_process deployment inside the test process (schemathesis' ASGI transport: no socket, no
traffic beyond this process), with its rate limits raised so that the run is never throttled. Every operation gets
valid and invalid cases (POSITIVE and NEGATIVE generation), bounded by MAX_EXAMPLES per operation and mode and by
an overall BUDGET_S after which the remaining operations get the minimum; no time is asserted.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from jyntrix_http.app import create_app
from tests.adversarial.served import OPERATIONS, adversarial_settings
from testsupport.app import bearer

MAX_EXAMPLES = 25
BUDGET_S = 60.0
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def api_schema() -> Iterator[Any]:
    with tempfile.TemporaryDirectory() as data_dir:
        app = create_app(adversarial_settings(Path(data_dir), allowed_hosts=(asgi.HOST,)))  # its transport's Host
        try:
            yield schemathesis.openapi.from_asgi("/schema/openapi.json", app)
        finally:
            asgi.shutdown_lifespans()  # closes the app's adapters before its data directory goes


def run_operation(operation: Any, mode: GenerationMode, examples: int, headers: dict[str, str]) -> list[str]:
    """Up to `examples` generated cases of one operation; the failures found, one line each."""
    failures: list[str] = []

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],  # shrinking would multiply the requests a failure costs
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except Exception as exc:
            failures.append(f"{operation.label} ({mode.value}): {str(exc).strip()[:600]}")

    run()
    return failures


def test_generated_requests_never_get_a_5xx_and_conform_to_the_schema(api_schema: Any) -> None:
    headers = bearer(f"fuzz-{uuid.uuid4()}")
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {f"{op.method.upper()} {op.path}" for op in operations} == {op.id for op in OPERATIONS}
    started = time.monotonic()
    failures: list[str] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            examples = MAX_EXAMPLES if time.monotonic() - started < BUDGET_S else 1
            failures.extend(run_operation(operation, mode, examples, headers))
    assert not failures, f"{len(failures)} failing cases:\n" + "\n\n".join(failures[:20])
