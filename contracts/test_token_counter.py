"""TokenCounter contract: the regex counter and the MiniLM tokenizer, each as the plan opens it, agree on the
properties budgets rely on."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jyntrix_domain.ports import TokenCounter


@pytest.fixture(scope="module")
def counter(token_counter: TokenCounter) -> TokenCounter:
    """Each counter the plan can choose (contracts/conftest.py)."""
    return token_counter


TEXTS = ["", "Hello", "My name is Ada, and I live in Berlin!", "Zoë 東京 🙂", "antidisestablishmentarianism"]
words = st.text(alphabet=st.characters(categories=["L", "N", "P"]), min_size=1, max_size=30)
phrases = st.lists(words, min_size=0, max_size=12).map(" ".join)


def test_the_empty_text_has_no_tokens(counter: TokenCounter) -> None:
    assert counter.count("") == 0
    assert counter.count("   \n\t") == 0


def test_one_plain_word_is_one_token_without_special_tokens(counter: TokenCounter) -> None:
    assert counter.count("hello") == 1


def test_count_many_matches_count(counter: TokenCounter) -> None:
    assert counter.count_many(TEXTS) == [counter.count(t) for t in TEXTS]


def test_count_many_of_nothing_is_empty(counter: TokenCounter) -> None:
    assert counter.count_many([]) == []


def test_long_texts_are_counted_whole(counter: TokenCounter) -> None:
    # the packaged tokenizer.json truncates at 128 tokens for the model; a budget must see everything
    assert counter.count("memory " * 1000) == 1000


@settings(max_examples=60, deadline=None)
@given(a=phrases, b=phrases)
def test_joining_texts_adds_their_counts(counter: TokenCounter, a: str, b: str) -> None:
    joined = counter.count(f"{a} {b}")
    assert max(counter.count(a), counter.count(b)) <= joined <= counter.count(a) + counter.count(b)


def test_a_text_counted_again_counts_the_same_alone_or_in_a_batch(counter: TokenCounter) -> None:
    texts = ["My sister Maya lives in Lisbon.", "", "Zoë wrote 東京 🙂", "My sister Maya lives in Lisbon."]
    first = counter.count_many(texts)
    assert first[0] == first[3] and first[1] == 0
    assert counter.count_many(texts) == first
    assert [counter.count(t) for t in texts] == first
