"""`jyntrix mcp` as a real subprocess, reached through the `mcp` SDK's stdio client."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters, stdio_client

from testsupport.server import NOT_INHERITED

REPO = Path(__file__).resolve().parents[2]


def mcp_env(**values: str) -> dict[str, str]:
    """The test's environment without the variables that would select other backends, plus `values`."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED and k not in ("JYNTRIX_URL", "JYNTRIX_TOKEN")}
    env.update(values)
    return env


@asynccontextmanager
async def stdio_session(env: dict[str, str], *args: str, errlog: Any = None) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "jyntrix_cli.cli", "mcp", *args], env=env, cwd=str(REPO)
    )
    async with (
        stdio_client(params, errlog=errlog or sys.stderr) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def run_mcp(env: dict[str, str], *args: str, timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    """`jyntrix mcp` with nothing on stdin: for the cases where it must refuse to start."""
    return subprocess.run(
        [sys.executable, "-m", "jyntrix_cli.cli", "mcp", *args],
        env=env,
        cwd=REPO,
        input="",
        capture_output=True,
        text=True,
        timeout=timeout,
    )
