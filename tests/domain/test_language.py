"""One reading of time phrases: what extraction records and what query analysis searches agree."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_adapters.english.person import addressed, restate, third_person
from jyntrix_adapters.english.stopwords import ANSWER_STOPWORDS, FACT_STOPWORDS, INDEX_STOPWORDS, QUERY_STOPWORDS
from jyntrix_adapters.english.tense import Tense, tense_of
from jyntrix_domain.english_time_phrases import Period, read_time, resolve_date, time_phrase_span
from jyntrix_domain.model import MemoryType
from jyntrix_domain.query import QueryAnalyzer

# Friday 15 August 2025.
AUGUST = datetime(2025, 8, 15, 12, 0, tzinfo=UTC)


def month(year: int, m: int) -> tuple[datetime, datetime]:
    end = datetime(year + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
    return datetime(year, m, 1, tzinfo=UTC), end


def events(text: str, now: datetime = AUGUST) -> list[tuple[str, str]]:
    found = DeterministicExtractor().extract_text(text, now)
    return [
        (c.content, c.occurred.start.date().isoformat())
        for c in found
        if c.type is MemoryType.EPISODIC and c.occurred is not None
    ]


def searched(text: str, now: datetime = AUGUST) -> tuple[datetime, datetime]:
    time_range = QueryAnalyzer(EnglishLanguage()).analyze(text, now).time_range
    assert time_range is not None
    return time_range.start, time_range.end


def test_a_trip_told_in_the_past_is_stored_and_searched_in_the_same_may() -> None:
    # The old extraction rules read every bare month forward and stored this as May 2026.
    assert events("I went to Rome in May.") == [("The user went to Rome in May", "2025-05-01")]
    assert searched("What did I do in May?") == month(2025, 5)


@pytest.mark.parametrize(
    ("plan", "day"),
    [
        ("I'm going to Rome in May.", "2026-05-01"),
        ("I'm planning a trip to Lisbon in March.", "2026-03-01"),
        ("I will see Anna on Monday.", "2025-08-18"),
        ("I'll fly to Oslo on the 5th of January.", "2026-01-05"),
        ("I have a dentist appointment on Friday.", "2025-08-22"),
    ],
)
def test_a_plan_means_the_next_one(plan: str, day: str) -> None:
    [(_, recorded)] = events(plan)
    assert recorded == day


@pytest.mark.parametrize(
    ("said", "day"),
    [
        ("I saw Anna on Monday.", "2025-08-11"),
        ("I met Tom on the 5th of January.", "2025-01-05"),
        ("I visited my parents in December.", "2024-12-01"),
        ("I was going to visit Rome in May.", "2025-05-01"),  # a past plan points back
    ],
)
def test_a_past_statement_means_the_last_one(said: str, day: str) -> None:
    [(_, recorded)] = events(said)
    assert recorded == day


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did I do in May?", month(2025, 5)),
        ("Where was I in December?", month(2024, 12)),
        ("What will I do in May?", month(2026, 5)),
        ("Where am I going in March?", month(2026, 3)),
        ("Where am I going in Sept?", month(2025, 9)),
        ("What am I doing in 3 days?", (datetime(2025, 8, 18, tzinfo=UTC), datetime(2025, 8, 19, tzinfo=UTC))),
        ("What did I plan for January?", None),  # no time phrase: "for January" names none
    ],
)
def test_a_question_reads_back_unless_it_asks_about_a_plan(
    question: str, expected: tuple[datetime, datetime] | None
) -> None:
    time_range = QueryAnalyzer(EnglishLanguage()).analyze(question, AUGUST).time_range
    assert (None if time_range is None else (time_range.start, time_range.end)) == expected


@pytest.mark.parametrize(
    ("text", "tense"),
    [
        ("I went to Rome", Tense.PAST),
        ("we visited Rome", Tense.PAST),
        ("What did I do?", Tense.PAST),
        ("we're going to Rome", Tense.FUTURE),
        ("I'll be in Rome", Tense.FUTURE),
        ("planning a trip", Tense.FUTURE),
        ("next time", Tense.FUTURE),
        ("I was going to call", Tense.PAST),
        ("I'm excited about Rome", None),
        ("my birthday is in May", None),
    ],
)
def test_tense_of(text: str, tense: Tense | None) -> None:
    assert tense_of(text) == tense


def test_a_statement_stored_in_the_past_is_found_by_the_question_about_it() -> None:
    for said, asked in [
        ("I went to Rome in May.", "What did I do in May?"),
        ("I met Tom last Friday.", "Who did I meet last Friday?"),
        ("I ran a marathon two weeks ago.", "What did I run two weeks ago?"),
        ("I started running 3 months ago.", "What did I start 3 months ago?"),
    ]:
        [(_, recorded)] = events(said)
        start, end = searched(asked)
        assert start <= datetime.combine(date.fromisoformat(recorded), time(0), tzinfo=UTC) < end, said


def test_the_days_and_labels_extraction_records() -> None:
    today = AUGUST.date()
    assert resolve_date("in 3 days", today, tense=tense_of("in 3 days")) == (date(2025, 8, 18), "")
    assert resolve_date("in two months", today, tense=tense_of("in two months")) == (date(2025, 10, 15), "")
    assert resolve_date("next week", today, tense=tense_of("next week")) == (date(2025, 8, 18), "week of ")
    assert resolve_date("last weekend", today, tense=tense_of("last weekend")) == (date(2025, 8, 9), "weekend of ")
    assert resolve_date("two years ago", today, tense=tense_of("two years ago")) == (date(2023, 1, 1), "year ")
    assert resolve_date("nothing here", today, tense=tense_of("nothing here")) == (today, "")
    # A vague stretch names no day to record an event at.
    assert resolve_date("recently", today, tense=tense_of("recently")) == (today, "")


def test_a_habit_on_weekdays_is_no_time_phrase() -> None:
    assert time_phrase_span("I play tennis on Sundays") is None
    assert time_phrase_span("I play tennis on Sunday") == (14, 23)
    assert time_phrase_span("I've been tired lately", stretches=False) is None


PHRASES = [
    "today", "yesterday", "tomorrow", "the day before yesterday", "last week", "next weekend", "this month",
    "next year", "3 days ago", "two weeks ago", "a month ago", "5 years ago", "in 3 days", "in two weeks",
    "in a month", "in May", "last March", "next December", "on Jan 31", "the 29th of February", "on Monday",
    "this Sunday", "last Friday", "next Wednesday", "in 2023", "May 2023", "2024-02-29", "recently", "the other day",
    "a few days ago", "the past two weeks",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    phrase=st.sampled_from(PHRASES),
    tense=st.sampled_from(list(Tense)),
    offset_days=st.integers(min_value=-3_000, max_value=3_000),
)
def test_the_day_recorded_lies_in_the_range_searched(phrase: str, tense: Tense, offset_days: int) -> None:
    now = AUGUST + timedelta(days=offset_days)
    reading = read_time(phrase, now, tense, tense=tense_of(phrase))
    if reading is None:  # 29 February in a year without one
        return
    assert reading.range.start < reading.range.end
    assert reading.range.phrase == phrase
    if reading.period is not Period.STRETCH:
        assert reading.range.contains(datetime.combine(reading.day, time(0), tzinfo=UTC))


def test_person_converters_take_a_statement_from_the_user_to_a_memory_and_back() -> None:
    memory = third_person("I live in Lisbon with my sister")
    assert memory == "The user lives in Lisbon with the user's sister"
    assert addressed(memory) == "You live in Lisbon with your sister"
    assert restate("I live in Lisbon with my sister.") == "You live in Lisbon with your sister"
    assert restate("Oh, I've been thinking of our dog.") == "Oh, you've been thinking of your dog"


def test_each_stopword_list_keeps_what_its_reader_needs() -> None:
    # Keyword search matches memories word for word, so time words stay searchable there.
    assert "yesterday" in QUERY_STOPWORDS and "yesterday" not in INDEX_STOPWORDS
    assert "user" in ANSWER_STOPWORDS and "user" in FACT_STOPWORDS and "user" not in QUERY_STOPWORDS
    assert QUERY_STOPWORDS | {"user", "user's"} > FACT_STOPWORDS
