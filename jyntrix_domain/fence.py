"""What user data may look like inside the memory fence of a prompt: nothing a model could read as a tag."""

from __future__ import annotations

# The ASCII brackets and ampersand, and every character Unicode holds to be one of them in another dress (NFKC:
# the fullwidth and the small forms): a model reads `\uff1c/user_memories\uff1e` much as it reads the tag, so each
# becomes the entity of the character it stands for. tests/domain/test_fence.py checks the list against all of
# Unicode.
BRACKETS = {"&": "&\uff06\ufe60", "<": "<\uff1c\ufe64", ">": ">\uff1e\ufe65"}
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ESCAPES = {ord(char): _ENTITIES[plain] for plain, chars in BRACKETS.items() for char in chars}


def fenced(data: str) -> str:
    """User data as it may stand inside the fence: no markup a model could read as a tag (any case, any
    spacing, opening or closing, in ASCII or compatibility brackets) survives, so nothing inside can close the
    fence or open another."""
    return data.translate(_ESCAPES)
