"""The terms a text is indexed and searched under, shared by every keyword index adapter (`keyword_terms`).

Which words count is a retrieval decision, not a storage detail: two keyword indexes that split text
differently would score the same memory differently, so the bm25s, Postgres and in-process indexes split it
here, once. The stopwords are English, as the indexes' stemming is (bm25s's English Snowball stemmer,
Postgres's `english` configuration); the domain reads the same split through the Language port
(`Language.index_terms`, which the English adapter answers from here).
"""

from __future__ import annotations

import re

_WORDS = """
    a about am an and are as at be been but by can could did do does for from had has have he her him his how i
    if in into is it its me my of on or our she so than that the their them then there these they this to was we
    were what when where which who will with would you your
    """
INDEX_STOPWORDS = frozenset(_WORDS.split())
"""What the keyword indexes neither store nor search: English function words only."""

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Han and kana have no spaces between words: each character is a term. Everything else splits on non-word characters.
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")


def keyword_terms(text: str) -> list[str]:
    """Lower-cased word terms without English stopwords, in order, repeats kept."""
    return [t for t in _TOKEN.findall(text.casefold()) if t not in INDEX_STOPWORDS]
