"""The Python client as an app installs it: the wheel `make client` builds, in a fresh venv, against a real server.

The wheel is built from a copy of clients/python (so no stale build/ of the work tree can leak into it),
installed into a new venv with the machine's pip (its index or cache brings httpx and msgspec), and must
bring nothing of the server: none of the root project's own dependencies besides httpx and msgspec.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.client.conftest import CLIENTS_DIR, REPO_ROOT, bearer
from testsupport.server import Server

pytestmark = pytest.mark.slow

PIP_TIMEOUT_S = 600
# What the client may bring: itself, httpx and msgspec with what they depend on, and the venv's own tools.
ALLOWED = {"jyntrix-client", "httpx", "msgspec", "pip", "setuptools", "wheel"}


def _name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9_.\-]+", requirement)
    assert found is not None
    return found.group(0).lower().replace("_", "-")


def server_distributions() -> set[str]:
    """The root project's dependencies, less the client's own: what an app calling the API must not get."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    return {_name(r) for r in project["dependencies"]} - {"httpx", "msgspec", "jyntrix-client"}


def _run(*command: str | Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    done = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=PIP_TIMEOUT_S
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("client-wheel")
    source = work / "source"
    shutil.copytree(CLIENTS_DIR / "python", source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", work / "dist", source, cwd=work)
    (built,) = (work / "dist").glob("jyntrix_client-*.whl")
    return built


@pytest.fixture(scope="module")
def venv_python(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("client-venv")
    _run(sys.executable, "-m", "venv", root / "venv", cwd=root)
    python = root / "venv" / "bin" / "python"
    _run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel, cwd=root)
    return python


def test_the_wheel_holds_the_client_alone_and_needs_only_httpx_and_msgspec(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        requires = [line for line in archive.read(metadata).decode().splitlines() if line.startswith("Requires-Dist:")]
    packages = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert packages == {"jyntrix_client"}
    assert "jyntrix_client/py.typed" in names
    assert sorted(_name(line.removeprefix("Requires-Dist:").strip()) for line in requires) == ["httpx", "msgspec"]


def test_installing_the_wheel_brings_no_server_package(venv_python: Path) -> None:
    listed = json.loads(_run(venv_python, "-m", "pip", "list", "--format", "json", cwd=venv_python.parent))
    installed = {entry["name"].lower().replace("_", "-") for entry in listed}
    assert "jyntrix-client" in installed
    assert installed & server_distributions() == set()
    assert installed & {"jyntrix", "onnxruntime", "qdrant-client", "fastembed", "asyncpg", "dramatiq"} == set()
    # Everything else is httpx's and msgspec's own small dependencies.
    assert len(installed - ALLOWED) <= 8, sorted(installed - ALLOWED)


def test_the_installed_client_talks_to_a_real_server(venv_python: Path, server: Server) -> None:
    script = Path(__file__).with_name("wheel_session.py")
    token = bearer(server, "wheel-user")
    # -I: neither the work tree nor PYTHONPATH can lend the venv a jyntrix_client or a server package.
    seen = json.loads(_run(venv_python, "-I", script, server.base_url, token, cwd=venv_python.parent))
    assert str(seen["client_file"]).startswith(str(venv_python.parents[1]))
    assert seen["importable"] == []
    assert seen["search_first"] is True
    assert seen["events"] == ["ConversationEvent", "ContextEvent", "DoneEvent"]
    assert seen["context_has_memory"] is True
    assert "Lisbon" in seen["answer"]
    assert seen["display_name"] == "Ada"
    assert seen["exported"] is True
    assert seen["conversations_after_delete"] == 0
    assert seen["unconfirmed"] == [422, "invalid"]
    assert seen["async_forgotten"][1] == 0 and seen["async_forgotten"][0] >= 1
