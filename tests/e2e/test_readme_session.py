"""The README's first session, as a new user follows it on the embedded default: each message it sends, then its
Python snippet, must get the answers the README prints, word for word (the snippet's score aside), so that the
walkthrough followed by the snippet answers without repeating itself (issue 21) and the README says what a user
will really see (issue 24)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.e2e.chat_turns import turn
from tests.e2e.story_runner import answer_text, http_settle
from testsupport.postgres import run_sync
from testsupport.server import Server

pytestmark = pytest.mark.slow

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def _one(pattern: str) -> re.Match[str]:
    found = re.search(pattern, README, re.S)
    assert found, f"the README no longer holds {pattern!r}"
    return found


def readme_session() -> list[tuple[str, str]]:
    """Each message the README sends, in order, with the answer it says it gets."""
    first = _one(r"-d '\{\"content\": \"([^\"]+)\"\}'").group(1)
    said_first = _one(r'The answer reads "([^"]+)"').group(1)
    asked = re.findall(r'^\$ chat "([^"]+)"', README, re.M)
    said_second = _one(r"The answer reads:\n\n> ([^\n]+)").group(1)
    four = re.findall(r'^- "([^"]+)"$', _one(r"The four answers read:\n\n((?:- [^\n]+\n)+)").group(1), re.M)
    assert len(asked) == 5 and len(four) == 4, (asked, four)
    return list(zip([first, *asked], [said_first, said_second, *four], strict=True))


def snippet() -> tuple[str, list[str]]:
    """The README's Python snippet and the lines it says the snippet prints."""
    code = _one(r"\(`first\.py`; `TOKEN` exported\):\n\n```python\n(.+?)```").group(1)
    printed = _one(r"\$ \.venv/bin/python first\.py\n(.+?)```").group(1).strip().splitlines()
    return code, printed


async def _follow(server: Server, headers: dict[str, str]) -> list[tuple[str, str, str]]:
    got = []
    async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
        settle = http_settle(client, headers)
        for message, expected in readme_session():
            events = await turn(client, headers, message)
            got.append((message, expected, answer_text(events)))
            await settle([events[0].data["id"]])
    return got


def test_the_readme_first_session_gets_the_answers_it_prints(story_server: Server) -> None:
    headers = story_server.token("readme-reader")
    for message, expected, answer in run_sync(_follow(story_server, headers)):
        assert answer == expected, f"{message!r}: the README says {expected!r}, the server answered {answer!r}"
    code, printed = snippet()
    code = code.replace('"http://127.0.0.1:8000"', repr(story_server.base_url))
    token = headers["Authorization"].removeprefix("Bearer ")
    ran = subprocess.run(
        [sys.executable, "-c", code], env={"TOKEN": token}, capture_output=True, text=True, timeout=120, check=True
    )
    lines = ran.stdout.strip().splitlines()
    assert len(lines) == len(printed) == 3, (lines, printed)
    assert lines[0] == printed[0] and lines[2] == printed[2], (lines, printed)
    # The score depends on the moment (recency); the memory found and whether it is current do not.
    assert lines[1].rsplit(" ", 1)[0] == printed[1].rsplit(" ", 1)[0], (lines, printed)
    answer = lines[2]
    assert len(re.findall(r"\[\d+\]", answer)) == 1, f"the snippet's answer repeats itself: {answer!r}"
