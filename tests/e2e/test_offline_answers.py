"""Answers a user would trust on the offline default (issue 22), through the real server with no model key.

The suite of `bench/offline_answers.py` (tests/e2e/offline_cases.py, judged by tests/e2e/offline_runner.py):
done when at least 90% of the questions are answered right, and every category, the form of the answers to
statements included, at 80% or more.
"""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.offline_cases import CATEGORIES
from tests.e2e.offline_runner import explain, report, run_suite, shortfalls
from testsupport.server import Server

pytestmark = pytest.mark.slow


async def test_offline_answers_meet_the_bar_in_every_category(story_server: Server) -> None:
    async with httpx.AsyncClient(base_url=story_server.base_url, timeout=120) as client:
        cases = await run_suite(client, story_server.token, "test")
    figures = report(cases)
    print(figures, *explain(cases), sep="\n")
    assert set(figures["categories"]) == set(CATEGORIES)
    assert figures["statements"] >= 40 and figures["questions"] >= 40
    assert not shortfalls(cases), "\n".join(shortfalls(cases))
