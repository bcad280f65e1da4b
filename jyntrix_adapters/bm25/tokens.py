"""The terms BM25 indexes and searches, and the token format stored files are written in.

Tokens are `keyword_terms` reduced to their English Snowball stems ("painting", "paints" and "painted" are
one term). Snapshots and log lines carry the format they were written in; format 1 (before stemming) is
upgraded on load by stemming the stored tokens, and the postings built from it are rebuilt.
"""

from __future__ import annotations

from py_rust_stemmers import SnowballStemmer

from jyntrix_adapters.support.index_terms import keyword_terms

# The token format: 1 = keyword_terms as they are, 2 = their Snowball stems.
FORMAT = 2
UNSTEMMED = 1
_stem_words = SnowballStemmer("english").stem_words


def tokens(text: str) -> list[str]:
    """The terms of `text` in the current format: keyword terms, stemmed."""
    return list(_stem_words(keyword_terms(text)))


def upgrade(words: list[str], written_in: int) -> list[str]:
    """Stored tokens in the current format; older ones are stemmed once."""
    return words if written_in >= FORMAT else list(_stem_words(words))
