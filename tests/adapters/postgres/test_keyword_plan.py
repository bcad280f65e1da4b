"""Which documents the Postgres keyword search scores, from the query words' document frequencies."""

from __future__ import annotations

from jyntrix_adapters.postgres.keyword_plan import MAX_CLAUSES, at_least, plan, quote


def test_words_that_fit_the_budget_are_scored_in_full_rarest_first() -> None:
    chosen = plan({"kayak": 40, "trip": 500, "river": 300, "absent": 0}, complete_rows=400)
    assert chosen.complete == "'kayak' | 'river'"
    assert chosen.levels == ("'trip'",)


def test_a_small_users_words_all_fit_so_nothing_is_capped() -> None:
    chosen = plan({"coffee": 3, "tea": 2}, prefix="u1")
    assert chosen.complete == "'u1tea' | 'u1coffee'"
    assert chosen.levels == ()


def test_common_words_are_read_by_how_many_of_them_a_document_holds() -> None:
    chosen = plan({"lisbon": 14_000, "quiet": 10_000, "restaur": 9_800}, complete_rows=1000)
    assert chosen.complete is None
    assert chosen.levels == (
        "('restaur' & 'quiet' & 'lisbon')",
        "('restaur' & 'quiet') | ('restaur' & 'lisbon') | ('quiet' & 'lisbon')",
        "'restaur' | 'quiet' | 'lisbon'",
    )


def test_levels_with_too_many_combinations_are_skipped_but_any_word_always_remains() -> None:
    words = {f"w{i:02d}": 5000 + i for i in range(12)}
    chosen = plan(words, complete_rows=10)
    for level in chosen.levels:
        assert level.count("(") <= MAX_CLAUSES
    assert chosen.levels[0].count("&") == 11  # all twelve at once: one clause
    assert chosen.levels[-1] == " | ".join(quote(w) for w in sorted(words))


def test_at_least_one_is_any_and_quotes_are_escaped() -> None:
    assert at_least(("a", "b"), 1) == "'a' | 'b'"
    assert quote("o'neil") == "'o''neil'"
    assert quote("back\\slash") == "'back\\\\slash'"
