"""The Language port for English: what a message does, read by its speech acts (`speech_acts`), what a question
is about (`subjects`), and how a fact that ended is said (`endings`)."""

from __future__ import annotations

from jyntrix_adapters.english import endings, speech_acts, subjects


class EnglishLanguage:
    """Reads English messages for the domain: whether they state something, ask about the past or about what
    the assistant said, which relations and attributes of the user they ask about, and whether they say that
    something changed; and says that a fact holds no longer."""

    @property
    def change_words(self) -> frozenset[str]:
        return speech_acts.CHANGE_WORDS

    def states_something(self, text: str) -> bool:
        return speech_acts.states_something(text)

    def asks_history(self, text: str) -> bool:
        return speech_acts.asks_history(text)

    def asks_about_assistant(self, text: str) -> bool:
        return speech_acts.asks_about_assistant(text)

    def says_change(self, text: str) -> bool:
        return speech_acts.says_change(text)

    def kin_of(self, text: str) -> tuple[str, ...]:
        return subjects.kin_of(text)

    def kin_words(self, relation: str) -> frozenset[str]:
        return subjects.kin_words(relation)

    def attributes_of(self, text: str) -> tuple[str, ...]:
        return subjects.attributes_of(text)

    def no_longer(self, fact: str) -> str:
        return endings.no_longer(fact)
