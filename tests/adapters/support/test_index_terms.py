from jyntrix_adapters.support.index_terms import keyword_terms


def test_stopwords_go_and_case_folds() -> None:
    assert keyword_terms("The cat and the HAT") == ["cat", "hat"]


def test_unicode_words_stay_whole_and_cjk_splits_per_character() -> None:
    assert keyword_terms("São Paulo Straße") == ["são", "paulo", "strasse"]
    assert keyword_terms("東京 in 2025") == ["東", "京", "2025"]


def test_punctuation_splits_words_and_empty_text_has_no_terms() -> None:
    assert keyword_terms("dog_Rex! well—done") == ["dog_rex", "well", "done"]
    assert keyword_terms("") == []
