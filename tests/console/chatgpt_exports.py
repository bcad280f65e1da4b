"""A ChatGPT export of a few chats, as the console and `jyntrix import` both read it."""

from __future__ import annotations

from typing import Any


def node(node_id: str, parent: str | None, children: list[str], role: str | None, text: str, at: Any) -> dict[str, Any]:
    message = None
    if role is not None:
        message = {
            "id": node_id,
            "author": {"role": role},
            "create_time": at,
            "content": {"content_type": "text", "parts": [text]},
            "metadata": {},
        }
    return {"id": node_id, "parent": parent, "children": children, "message": message}


def chatgpt_export() -> list[dict[str, Any]]:
    """Two chats: one with an abandoned branch and times to the microsecond, one with no current_node (followed
    down its last children) behind a system prompt; and one with nothing said, which is skipped."""
    dutch = {
        "title": "Dutch lessons",
        "create_time": 1717000000.5,
        "current_node": "d-3",
        "mapping": {
            "d-root": node("d-root", None, ["d-1"], None, "", None),
            "d-1": node("d-1", "d-root", ["d-2"], "user", "I am learning Dutch on Duolingo.", 1717000001.123456),
            "d-2": node("d-2", "d-1", ["d-3", "d-x"], "assistant", "Goed zo! Keep practising.", 1717000002.654321),
            "d-x": node("d-x", "d-2", [], "user", "A branch nobody kept.", 1717000003),
            "d-3": node("d-3", "d-2", [], "user", "I switched from Duolingo to Babbel.", 1717000004.25),
        },
    }
    cat = {
        "title": "Cat",
        "create_time": 1718000000,
        "mapping": {
            "c-root": node("c-root", None, ["c-1"], "system", "You are ChatGPT", None),
            "c-1": node("c-1", "c-root", ["c-2"], "user", "We adopted a cat called Miso.", 1718000001),
            "c-2": node("c-2", "c-1", [], "assistant", "Miso is a lovely name for a cat.", None),
        },
    }
    silent = {"title": "Tools only", "create_time": 1718000100, "mapping": {"s": node("s", None, [], "tool", "x", 1)}}
    return [dutch, cat, silent]
