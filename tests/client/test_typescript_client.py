"""The TypeScript client (clients/typescript), built with npm and tested with node against a real server.

`npm ci` installs from the committed lock file, `npm run build` compiles it, and the node tests
(node:test, clients/typescript/test/) run against `jyntrix serve` with three users' tokens. The types it
is built on (src/schema.ts) must be what openapi-typescript generates from today's OpenAPI document.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.client.conftest import CLIENTS_DIR, REPO_ROOT, bearer
from testsupport.server import Server

pytestmark = pytest.mark.slow

TYPESCRIPT_DIR = CLIENTS_DIR / "typescript"
NPM_TIMEOUT_S = 600
NODE_TIMEOUT_S = 300
NEEDS_NODE = (
    "the TypeScript client's tests need Node.js 20 or newer with npm on PATH "
    "(Debian: apt-get install nodejs npm); {found}"
)


def _run(*command: str | Path, env: dict[str, str] | None = None, timeout: float = NPM_TIMEOUT_S) -> str:
    done = subprocess.run(
        [str(c) for c in command], cwd=TYPESCRIPT_DIR, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def built() -> Path:
    """The client, installed from its lock file and compiled; fails (never skips) without node 20 and npm."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(NEEDS_NODE.format(found="node or npm is not installed"))
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    major = re.match(r"v(\d+)\.", version)
    if major is None or int(major.group(1)) < 20:
        pytest.fail(NEEDS_NODE.format(found=f"found node {version}"))
    _run(npm, "ci", "--no-audit", "--no-fund")
    _run(npm, "run", "build")
    return TYPESCRIPT_DIR


def test_the_committed_types_are_what_the_openapi_document_generates(built: Path, tmp_path: Path) -> None:
    document = tmp_path / "openapi.json"
    with document.open("w") as out:
        subprocess.run([sys.executable, REPO_ROOT / "tools" / "openapi_schema.py"], stdout=out, check=True)
    generated = tmp_path / "schema.ts"
    _run(built / "node_modules" / ".bin" / "openapi-typescript", document, "--output", generated)
    committed = built / "src" / "schema.ts"
    assert generated.read_text() == committed.read_text(), (
        "clients/typescript/src/schema.ts is stale: run `make typescript` and commit it"
    )


def test_the_node_tests_pass_against_a_real_server(built: Path, server: Server) -> None:
    tokens = ",".join(bearer(server, f"typescript-{n}-{uuid.uuid4()}") for n in range(3))
    env = {**os.environ, "JYNTRIX_URL": server.base_url, "JYNTRIX_TOKENS": tokens}
    report = _run("node", "--test", "test/", env=env, timeout=NODE_TIMEOUT_S)
    summary = dict(re.findall(r"^# (pass|fail|cancelled|skipped|todo) (\d+)$", report, re.MULTILINE))
    assert summary["fail"] == summary["cancelled"] == summary["skipped"] == summary["todo"] == "0", report[-4000:]
    assert int(summary["pass"]) >= 10, report[-4000:]
