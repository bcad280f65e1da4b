"""In-process TokenCounter: words and punctuation marks, a close-enough stand-in for a subword tokenizer."""

from __future__ import annotations

import re
from collections.abc import Sequence

# A word, or a single mark of punctuation; whitespace is never a token.
_TOKEN = re.compile(r"\w+|[^\w\s]", re.UNICODE)


class RegexTokenCounter:
    """Counts words and punctuation marks; subword tokenizers count somewhat more on rare words."""

    def count(self, text: str) -> int:
        return sum(1 for _ in _TOKEN.finditer(text))

    def count_many(self, texts: Sequence[str]) -> list[int]:
        return [self.count(text) for text in texts]
