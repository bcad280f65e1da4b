"""How large the text a store indexes may be, in UTF-8 bytes: limits every write is checked against first.

Postgres keeps text keys in btree indexes, and one index entry must fit in a third of a page (2,704
bytes). A character takes 1 to 4 bytes in UTF-8, so a limit in characters alone lets a write that is
valid by every documented rule fail half-way (200 characters of emoji are 800 bytes). The widest entry
is a relation's, (user id, source key, predicate, target key, memory id): with the limits below it is at
most 255 + 3 x 600 + 100 = 2,155 bytes plus its headers, and every other index entry is smaller.
"""

from __future__ import annotations

MAX_USER_ID_BYTES = 255
MAX_MEMORY_ID_BYTES = 100
# 200 characters of any script that takes up to 3 bytes a character (Latin, Greek, Cyrillic, CJK...).
MAX_NAME_BYTES = 600
MAX_SLOT_BYTES = 600


def utf8_size(text: str) -> int:
    """How many bytes `text` takes in UTF-8 (a lone surrogate, which no store takes, counts its 3 bytes)."""
    return len(text.encode("utf-8", "surrogatepass"))
