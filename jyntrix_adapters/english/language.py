"""The Language port for English: what a message does, read by its speech acts (`speech_acts`) and as a query
(`queries`), the names and keywords in it (`names`), which way it points in time (`tense`), what a question is
about (`subjects`), and how a fact that ended is said (`endings`)."""

from __future__ import annotations

from jyntrix_adapters.english import endings, names, queries, speech_acts, subjects, tense
from jyntrix_adapters.english.stopwords import FACT_STOPWORDS
from jyntrix_adapters.english.vocabulary import COMMON_WORDS
from jyntrix_adapters.support.index_terms import keyword_terms


class EnglishLanguage:
    """Reads English messages for the domain: what they do, whether they state something, ask about the past,
    the present or what the assistant said, which names, keywords, relations and attributes of the user they
    name, which way they point in time, and whether they say that something changed; and says that a fact holds
    no longer. Each member is the English module's function of the same meaning (the port's docstrings)."""

    change_words = speech_acts.CHANGE_WORDS
    common_words = COMMON_WORDS
    fact_words = FACT_STOPWORDS

    states_something = staticmethod(speech_acts.states_something)
    asks_history = staticmethod(speech_acts.asks_history)
    asks_about_assistant = staticmethod(speech_acts.asks_about_assistant)
    says_change = staticmethod(speech_acts.says_change)
    says_contrary = staticmethod(speech_acts.says_contrary)
    stem = staticmethod(speech_acts.stem)
    # The keyword indexes' own split, so that what the domain compares is what they store and search.
    index_terms = staticmethod(keyword_terms)

    kin_of = staticmethod(subjects.kin_of)
    kin_words = staticmethod(subjects.kin_words)
    attributes_of = staticmethod(subjects.attributes_of)
    no_longer = staticmethod(endings.no_longer)

    intent_of = staticmethod(queries.classify_intent)
    is_small_talk = staticmethod(queries.is_small_talk)
    is_personal = staticmethod(queries.is_personal)
    asks_about_now = staticmethod(queries.asks_about_now)

    names_given = staticmethod(names.names_given)
    entities_of = staticmethod(names.extract_entities)
    keywords_of = staticmethod(names.extract_keywords)
    names_in = staticmethod(names.capitalised_names)

    tense_of = staticmethod(tense.tense_of)
    planned = staticmethod(tense.planned)
