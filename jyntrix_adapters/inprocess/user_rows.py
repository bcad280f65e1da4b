"""What the in-process stores share: rows kept in a dict keyed by (user id, ...), forgotten a user at a time."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TypeVar

from jyntrix_domain.model import UserId

K = TypeVar("K")
V = TypeVar("V")


def forget_rows(rows: MutableMapping[tuple[UserId, K], V], user_id: UserId) -> int:
    """Remove the user's rows from `rows` (in place); how many there were."""
    doomed = [key for key in rows if key[0] == user_id]
    for key in doomed:
        del rows[key]
    return len(doomed)
