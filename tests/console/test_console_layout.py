"""The console at a phone's width and a desktop's: every view fits the screen (no sideways scrolling), every section
is one tap away in the bar, and the memory list reflows into full-width entries on a phone instead of squeezing
its content into a narrow column."""

from __future__ import annotations

import pytest

from tests.console.conftest import BOTH_WIDTHS, Console

pytestmark = pytest.mark.slow

# Unbroken text (a long URL, a long word) must wrap too, not push the page wider.
LONG_URL = "https://example.org/" + "a-very-long-path-segment-" * 8 + "end"
MEMORIES = [
    {"content": "My sister Maya lives in Lisbon and teaches the cello at the conservatory", "type": "semantic"},
    {"content": f"The recipe I keep coming back to is at {LONG_URL}", "type": "episodic"},
    {"content": "Always answer in short bullet points", "type": "procedural"},
]
SECTIONS = ["memories", "search", "chat", "analytics", "forget"]


def _nav_links_fit(console: Console) -> None:
    boxes = console.page.eval_on_selector_all(
        "#nav a",
        "links => links.map(a => { const r = a.getBoundingClientRect(); return [r.left, r.right, r.height]; })",
    )
    assert len(boxes) == len(SECTIONS)
    for left, right, height in boxes:
        assert left >= 0 and right <= console.width, boxes
        assert height >= 24  # big enough to tap


@BOTH_WIDTHS
def test_every_view_fits_the_screen_and_every_section_is_one_tap_away(console: Console) -> None:
    page = console.page
    page.goto(console.url)
    page.wait_for_selector("[data-view=signin]")
    console.assert_fits()

    imported = console.api("POST", "/api/memories/import", json={"memories": MEMORIES})["memories"]
    console.sign_in()
    _nav_links_fit(console)
    for section in SECTIONS:
        page.click(f"#nav a[data-section={section}]")
        page.wait_for_selector(f"[data-view={section}]")
        assert page.get_attribute(f"#nav a[data-section={section}]", "class") == "active"
        console.assert_fits()
        console.shot(f"{section}-{console.width}")

    console.go("#/memories", "memories")
    page.wait_for_selector("#memory-rows[data-loading=no]")
    content_widths = page.eval_on_selector_all(
        "#memory-rows td.content", "cells => cells.map(c => c.getBoundingClientRect().width)"
    )
    assert len(content_widths) == len(MEMORIES)
    # The content takes the width of the list: on a phone the entry's full width, not a column beside the others.
    assert min(content_widths) >= 0.75 * console.width if console.width < 500 else min(content_widths) >= 500
    # The column heads are left for screen readers only, on a phone, where each entry labels its own numbers.
    head_height = page.eval_on_selector("table.memories thead", "t => t.getBoundingClientRect().height")
    assert head_height <= 1 if console.width < 500 else head_height >= 20

    console.go(f"#/memory/{imported[1]['id']}", "memory")
    assert page.text_content("#memory-content") == MEMORIES[1]["content"]
    console.assert_fits()
    console.shot(f"memory-{console.width}")

    console.go("#/search", "search")
    page.fill("#search-query", "where does my sister live")
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("#results li.result tr.signal-row")
    console.assert_fits()
    console.shot(f"search-results-{console.width}")

    console.go("#/chat", "chat")
    turn = console.chat(f"Can you open {LONG_URL} for me?")
    assert turn.locator(".answer").text_content()
    console.assert_fits()
    conversation_id = page.text_content("#chat-conversation a")
    console.go(f"#/conversation/{conversation_id}", "conversation")
    assert page.locator("#messages li.message").count() == 2
    console.assert_fits()

    console.go("#/analytics", "analytics")
    page.wait_for_selector("#chart-phases svg")
    console.assert_fits()
    console.shot(f"analytics-{console.width}")
