"""The real server process (`jyntrix serve`) on the embedded deployment, for end-to-end tests; and an app under
uvicorn on a thread (`in_thread`) for tests that need a real HTTP server but not a process.

`Server` starts and stops it; `server_env` is the zero-setup default's environment: the data
directory in a temporary folder, and DATABASE_URL, REDIS_URL and the model keys removed so that
nothing but the embedded adapters is under test.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

STARTUP_TIMEOUT_S = 180.0
EXTRACTION_TIMEOUT_S = 60.0
NOT_INHERITED = (
    "DATABASE_URL",
    "REDIS_URL",
    "QDRANT_URL",
    "QDRANT_API_KEY",
    "GOOGLE_AI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_API_KEY",
    "SUPABASE_JWT_SECRET",
    "SUPABASE_JWKS_URL",
    "ENVIRONMENT",
    "JYNTRIX_DEPLOYMENT",
    "TASK_RUNNER",
    # read by `jyntrix mcp` and `jyntrix import`, which a test may run with the server's environment
    "JYNTRIX_URL",
    "JYNTRIX_TOKEN",
)


@dataclass
class Server:
    base_url: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jyntrix_cli.cli", "serve"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.base_url}/health/ready", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not ready within {STARTUP_TIMEOUT_S}s:\n{self.log()}")

    def stop(self) -> int:
        """SIGINT, as Ctrl-C would: uvicorn runs the lifespan's shutdown."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(f"server did not stop on SIGINT:\n{self.log()}") from None
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]

    def token(self, user: str) -> dict[str, str]:
        """A dev token from `jyntrix token`, signed with the secret the server uses."""
        result = subprocess.run(
            [sys.executable, "-m", "jyntrix_cli.cli", "token", "--user", user],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return {"Authorization": f"Bearer {result.stdout.strip()}"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def in_thread(server: Any, timeout_s: float = STARTUP_TIMEOUT_S) -> Iterator[None]:
    """Runs a `uvicorn.Server` on a thread of its own from when it has started until the block ends."""
    thread = threading.Thread(target=server.run, name="uvicorn-in-thread", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise AssertionError("the server did not start")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def server_env(data_dir: Path, port: int, model_dir: Path, **extra: str) -> dict[str, str]:
    """The embedded default's environment for a server on `port` with its data in `data_dir`."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    env.update(
        JYNTRIX_DATA_DIR=str(data_dir),
        # the model is built once per machine (testsupport.models); the server would build it the same way
        EMBEDDING_MODEL_DIR=str(model_dir),
        HOST="127.0.0.1",
        PORT=str(port),
        LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
        # Many servers run at once in the suite; a test that scrapes metrics passes METRICS_PORT.
        METRICS_PORT="off",
    )
    env.update(extra)
    return env


async def eventually(check: Any, what: str, timeout_s: float = EXTRACTION_TIMEOUT_S) -> Any:
    """Poll `check()` (async) until it returns something truthy; that value. Background work takes its time."""
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.25)
    raise AssertionError(f"{what}: not within {timeout_s}s (last: {last!r})")


def embedded_server(directory: Path, model_dir: Path, **extra: str) -> Server:
    """A server (not started yet) on a free port, with its data and its log under `directory`."""
    port = free_port()
    env = server_env(directory / "data", port, model_dir, **extra)
    return Server(base_url=f"http://127.0.0.1:{port}", env=env, log_path=directory / "server.log")


@contextmanager
def serving(directory: Path, model_dir: Path, **extra: str) -> Iterator[Server]:
    """`embedded_server`, started, and stopped on the way out."""
    running = embedded_server(directory, model_dir, **extra)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def serving_in(tmp_path_factory: pytest.TempPathFactory, name: str, model_dir: Path, **extra: str) -> Iterator[Server]:
    """The body of a server fixture shared by a module or package: `serving` in a fresh directory named `name`."""
    with serving(tmp_path_factory.mktemp(name), model_dir, **extra) as running:
        yield running


@contextmanager
def stale_serving_file(server: Server) -> Iterator[None]:
    """For a while, the server's `server.json` as a server that died leaves it: an address nothing answers on."""
    path = Path(server.env["JYNTRIX_DATA_DIR"]) / "server.json"
    kept = path.read_bytes()
    path.write_text(json.dumps({"url": f"http://127.0.0.1:{free_port()}", "pid": json.loads(kept)["pid"]}))
    try:
        yield
    finally:
        path.write_bytes(kept)
