"""How text splits into words: the tokens every rule reads (`word_tokens`). The terms a text is indexed and
searched under drop a language's stopwords, so the domain reads them through the Language port
(`Language.index_terms`)."""

from __future__ import annotations

import re

# A word with its apostrophes ("I'm", "Anna's"): what rules compare, look up and rewrite word by word.
WORD_TOKEN = re.compile(r"[\w']+")


def plain(text: str) -> str:
    """Typographic apostrophes as ASCII ones; same length, so character spans stay valid."""
    return text.replace("\u2019", "'")


def word_tokens(text: str) -> list[str]:
    """The words of `text` with their apostrophes, in order, case kept."""
    return WORD_TOKEN.findall(text)
