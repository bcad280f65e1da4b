"""tools/need-chromium, which `make test` runs first: the console's browser installed when it may be, else named."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "need-chromium"


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    """`id` answering $FAKE_UID and an `apt-get` that logs its calls and, on install, puts the browser in place."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "id").write_text('#!/bin/sh\necho "$FAKE_UID"\n')
    (bin_dir / "apt-get").write_text(
        '#!/bin/sh\necho "$@" >> "$APT_LOG"\n'
        'if [ "$1" = install ]; then printf "#!/bin/sh\\n" > "$FAKE_BROWSER"; chmod +x "$FAKE_BROWSER"; fi\n'
    )
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    return bin_dir


def run(browser: Path, path: str, uid: int, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    log = tmp_path / "apt.log"
    env = {"PATH": path, "FAKE_UID": str(uid), "APT_LOG": str(log), "FAKE_BROWSER": str(browser)}
    done = subprocess.run(["/bin/bash", str(SCRIPT), str(browser)], env=env, capture_output=True, text=True)
    return done, log.read_text().splitlines() if log.exists() else []


def test_a_browser_in_place_is_left_alone(tmp_path: Path, fake_bin: Path) -> None:
    browser = tmp_path / "chromium"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    done, apt = run(browser, f"{fake_bin}:{os.environ['PATH']}", 0, tmp_path)
    assert (done.returncode, done.stdout, done.stderr, apt) == (0, "", "", [])


def test_root_with_apt_get_installs_debians_chromium(tmp_path: Path, fake_bin: Path) -> None:
    browser = tmp_path / "chromium"
    done, apt = run(browser, f"{fake_bin}:{os.environ['PATH']}", 0, tmp_path)
    assert done.returncode == 0, done.stderr
    assert apt == ["update -q", "install -y -q --no-install-recommends chromium"]
    assert os.access(browser, os.X_OK)


def test_anyone_else_is_told_the_one_command_to_run(tmp_path: Path, fake_bin: Path) -> None:
    browser = tmp_path / "chromium"
    done, apt = run(browser, f"{fake_bin}:{os.environ['PATH']}", 1000, tmp_path)
    assert done.returncode == 1
    assert apt == []
    said = done.stderr.strip().splitlines()
    assert len(said) == 1
    assert said[0].endswith("run: sudo apt-get install -y chromium")
    assert str(browser) in said[0]


def test_without_apt_get_it_says_what_to_set(tmp_path: Path, fake_bin: Path) -> None:
    (fake_bin / "apt-get").unlink()
    done, _ = run(tmp_path / "chromium", str(fake_bin), 1000, tmp_path)
    assert done.returncode == 1
    assert "set JYNTRIX_CHROMIUM" in done.stderr


def test_a_root_install_that_leaves_the_browser_missing_fails_clearly(tmp_path: Path, fake_bin: Path) -> None:
    (fake_bin / "apt-get").write_text('#!/bin/sh\necho "$@" >> "$APT_LOG"\n')  # installs nothing
    done, apt = run(tmp_path / "chromium", f"{fake_bin}:{os.environ['PATH']}", 0, tmp_path)
    assert done.returncode == 1
    assert len(apt) == 2
    assert "still missing" in done.stderr


def test_make_test_checks_the_browser_before_running_the_suite() -> None:
    makefile = (SCRIPT.parents[1] / "Makefile").read_text().splitlines()
    recipe = makefile[makefile.index("test: install") + 1 :][:2]
    assert [line.strip() for line in recipe] == ["tools/need-chromium", "$(PY) -m pytest -q $(PYTEST_ARGS)"]
