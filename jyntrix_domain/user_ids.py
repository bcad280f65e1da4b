"""What a user id may be: not empty, at most 255 bytes of UTF-8, no control or format characters.

A user id enters the system only as the subject of a token the API has verified (jyntrix_http.auth applies this
rule there, and to the ids it mints tokens for); the worker, the CLI and MCP act for ids that came that way, so
the stores never see one that broke it. A new door that takes a user id from elsewhere must call check_user_id.
"""

from __future__ import annotations

import unicodedata

from jyntrix_domain.errors import Invalid

# MAX_USER_ID_BYTES is imported from here too. Supabase's subs are 36-character UUIDs; 255 bytes leave room
# for other issuers, and with the other key limits every btree index entry holding a user id fits.
from jyntrix_domain.key_sizes import MAX_USER_ID_BYTES as MAX_USER_ID_BYTES
from jyntrix_domain.key_sizes import utf8_size


def user_id_problem(user_id: str) -> str | None:
    """Why `user_id` cannot be a user, or None when it can."""
    if not user_id.strip():
        return "the user id is empty"
    if utf8_size(user_id) > MAX_USER_ID_BYTES:
        return f"the user id is longer than {MAX_USER_ID_BYTES} bytes of UTF-8"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in user_id):
        return "the user id contains control characters"
    return None


def check_user_id(user_id: str) -> str:
    """`user_id` when it can be a user; raises Invalid saying why not."""
    problem = user_id_problem(user_id)
    if problem is not None:
        raise Invalid(problem)
    return user_id
