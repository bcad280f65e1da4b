"""An embedded server left running by a parent killed with SIGKILL: the next start reuses it, and stops it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import psutil
import pytest

from jyntrix_adapters.postgres.embedded import EmbeddedPostgres
from testsupport.postgres import server_parent_dir

ROOT = Path(__file__).parents[3]
CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from jyntrix_adapters.postgres.embedded import EmbeddedPostgres

    async def main():
        embedded = EmbeddedPostgres(sys.argv[1])
        await embedded.start()
        print("ready", flush=True)
        time.sleep(600)  # until killed

    asyncio.run(main())
    """
)


def postmasters(data: Path) -> list[psutil.Process]:
    """Postgres server processes started on `data` (backends rename themselves, so only postmasters match)."""
    found = []
    for proc in psutil.process_iter(attrs=["name", "cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and str(data) in cmdline:
            found.append(proc)
    return found


@pytest.fixture
def data() -> Iterator[Path]:
    with server_parent_dir() as parent:
        yield (parent / "pg").resolve()
        for proc in postmasters((parent / "pg").resolve()):  # never leave a server behind, whatever failed
            proc.kill()


def child_opening(data: Path) -> subprocess.Popen[str]:
    """A process that opens embedded Postgres on `data`, says "ready" and waits to be killed."""
    return subprocess.Popen([sys.executable, "-c", CHILD, str(data)], stdout=subprocess.PIPE, text=True, cwd=ROOT)


def start_and_kill_a_child(data: Path) -> int:
    """Run a process that opens embedded Postgres on `data`, kill it with SIGKILL once ready; its pid."""
    child = child_opening(data)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)
    return child.pid


async def answers(dsn: str) -> None:
    """The server at `dsn` takes a connection and answers a query."""
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


@pytest.mark.slow
async def test_a_server_orphaned_by_sigkill_is_reused_then_stopped(data: Path) -> None:
    start_and_kill_a_child(data)
    orphans = postmasters(data)
    assert len(orphans) == 1  # the parent's death did not stop it

    embedded = EmbeddedPostgres(data)
    dsn = await embedded.start()
    try:
        await answers(dsn)
        assert [p.pid for p in postmasters(data)] == [orphans[0].pid]  # reused, not a second server
    finally:
        await embedded.stop()
    assert postmasters(data) == []
    assert not (data / "postmaster.pid").exists()


@pytest.mark.slow
async def test_a_server_whose_starter_was_killed_mid_start_is_reused_or_started_once(data: Path) -> None:
    child = child_opening(data)
    try:
        while not (data / "postmaster.pid").exists():  # the server is being started: kill its starter now
            assert child.poll() is None
            await asyncio.sleep(0.01)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(30)

    embedded = EmbeddedPostgres(data)
    dsn = await embedded.start()
    try:
        await answers(dsn)
        assert len(postmasters(data)) == 1
    finally:
        await embedded.stop()
    assert postmasters(data) == []
