"""How text splits into words: the tokens every rule reads (`word_tokens`), and the terms a text is indexed and
searched under, shared by every keyword index adapter (`keyword_terms`).

Which words count is a retrieval decision, not a storage detail: two keyword indexes that
split text differently would score the same memory differently.
"""

from __future__ import annotations

import re

from jyntrix_domain.index_stopwords import INDEX_STOPWORDS

# A word with its apostrophes ("I'm", "Anna's"): what rules compare, look up and rewrite word by word.
WORD_TOKEN = re.compile(r"[\w']+")


def plain(text: str) -> str:
    """Typographic apostrophes as ASCII ones; same length, so character spans stay valid."""
    return text.replace("\u2019", "'")


def word_tokens(text: str) -> list[str]:
    """The words of `text` with their apostrophes, in order, case kept."""
    return WORD_TOKEN.findall(text)


_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# Han and kana have no spaces between words: each character is a term. Everything else splits on non-word characters.
_TOKEN = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")


def keyword_terms(text: str) -> list[str]:
    """Lower-cased word terms without English stopwords, in order, repeats kept."""
    return [t for t in _TOKEN.findall(text.casefold()) if t not in INDEX_STOPWORDS]
