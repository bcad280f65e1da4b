"""Give each test its own users on a shared server.

The index contracts name their users with constants ("alice", "bob"); on a server that every test of a
session shares (and other runs too), each test must see only its own. The wrapper prefixes every user id
with a fresh uuid, so "alice" of one test is not "alice" of the next.
"""

from __future__ import annotations

import uuid
from typing import Any


class UserNamespace:
    """Forward every call to `inner` with its first argument (the user id) prefixed by a fresh namespace."""

    _USER_FIRST = frozenset({"upsert", "delete", "search", "forget_user"})

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.prefix = uuid.uuid4().hex + ":"

    def user(self, user_id: str) -> str:
        """The id the inner index stores `user_id` under."""
        return self.prefix + user_id

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if name not in self._USER_FIRST:
            return attribute

        def scoped(user_id: str, *args: Any, **kwargs: Any) -> Any:
            return attribute(self.user(user_id), *args, **kwargs)

        return scoped
