"""Living memory (issue 21), through the real server on the embedded default (no model key, no service).

Nina's story and five more (tests/e2e/living_stories.py) are told over several conversations; each question is
then asked in a new conversation. Done when, for Nina and for the other stories together: at least 13 of 14
right (the same share of however many questions), every question about a change right, no stale value in a
context unmarked, no question of the user listed as a memory or placed in a context, and no duplicate memory.
`bench/living_memory.py` runs the same stories and prints the figures.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest

from tests.e2e.living_stories import NINA, OTHER_STORIES
from tests.e2e.story_runner import Story, StoryOutcome, explain, report, run_story, shortfalls
from testsupport.server import Server

pytestmark = pytest.mark.slow


async def told(server: Server, stories: Sequence[Story]) -> list[StoryOutcome]:
    outcomes = []
    async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as client:
        for story in stories:
            outcomes.append(await run_story(client, server.token(f"living-{story.name}"), story))
    print(report(outcomes), *explain(outcomes), sep="\n")
    return outcomes


async def test_ninas_story_is_answered_as_it_stands_now(story_server: Server) -> None:
    (outcome,) = await told(story_server, (NINA,))
    assert len(outcome.asked) == 14 and len(outcome.change_asked) == 6
    assert not shortfalls([outcome]), "\n".join(shortfalls([outcome]))


async def test_other_stories_of_changes_of_mind_pass_the_same_bar(story_server: Server) -> None:
    outcomes = await told(story_server, OTHER_STORIES)
    assert not shortfalls(outcomes), "\n".join(shortfalls(outcomes))
