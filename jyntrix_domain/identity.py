"""Who a user can be: the rule every user id meets before any store sees it."""

from __future__ import annotations

import unicodedata

from jyntrix_domain.errors import Invalid

# Supabase's subs are 36-character UUIDs; 255 leaves room for other issuers while staying far below
# what one btree index row can hold in Postgres (about 2.7 KB), so no valid id can fail a write.
MAX_USER_ID_CHARS = 255


def user_id_problem(user_id: str) -> str | None:
    """Why `user_id` cannot be a user, or None when it can."""
    if not user_id.strip():
        return "the user id is empty"
    if len(user_id) > MAX_USER_ID_CHARS:
        return f"the user id is longer than {MAX_USER_ID_CHARS} characters"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in user_id):
        return "the user id contains control characters"
    return None


def check_user_id(user_id: str) -> str:
    """`user_id` when it can be a user; raises Invalid saying why not."""
    problem = user_id_problem(user_id)
    if problem is not None:
        raise Invalid(problem)
    return user_id
