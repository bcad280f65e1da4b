"""TokenizersTokenCounter remembers counts of short texts, within a bound, and never of long ones."""

from __future__ import annotations

import pytest

from jyntrix_adapters.tokenizers import token_counter
from jyntrix_adapters.tokenizers.token_counter import TokenizersTokenCounter


def test_counts_are_remembered_within_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_counter, "CACHE_ENTRIES", 3)
    counter = TokenizersTokenCounter()
    counts = counter.count_many([f"memory number {n}" for n in range(5)])
    assert len(counter._counts) == 3
    assert list(counter._counts) == ["memory number 2", "memory number 3", "memory number 4"]
    assert counter.count("memory number 0") == counts[0]


def test_long_texts_are_counted_but_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_counter, "CACHE_MAX_CHARS", 10)
    counter = TokenizersTokenCounter()
    assert counter.count("a rather long memory text") == 5
    assert counter._counts == {}
