"""QueryAnalyzer: a table of messages with a fixed `now` and the analysis each must get."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_adapters.english.names import fold_plural
from jyntrix_adapters.english.tense import tense_of
from jyntrix_domain.english_time_phrases import TimeRange
from jyntrix_domain.english_time_phrases import resolve_time as resolve_in
from jyntrix_domain.query import Intent, QueryAnalyzer


def resolve_time(text: str, now: datetime) -> tuple[TimeRange, tuple[int, int]] | None:
    """The time phrase read as the query analyser reads it: in the tense English gives the text."""
    return resolve_in(text, now, tense_of(text))


# Wednesday 18 June 2025, mid-afternoon UTC.
NOW = datetime(2025, 6, 18, 15, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def analyzer() -> QueryAnalyzer:
    return QueryAnalyzer(EnglishLanguage())


INTENTS = [
    ("hi", Intent.CONVERSATION),
    ("Thanks!", Intent.CONVERSATION),
    ("I went hiking with Tom yesterday.", Intent.CONVERSATION),
    ("The weather is nice", Intent.CONVERSATION),
    ("What is my sister's name?", Intent.QUESTION),
    ("where do I live", Intent.QUESTION),
    ("Am I allergic to anything?", Intent.QUESTION),
    ("Do I have a dog?", Intent.QUESTION),
    ("Tell me about my cats", Intent.QUESTION),
    ("How should you format answers for me?", Intent.QUESTION),
    ("Don't you think so?", Intent.QUESTION),
    ("What did I forget?", Intent.QUESTION),
    ("I wonder where I put my keys", Intent.QUESTION),
    ("Do you remember what I told you about Berlin?", Intent.RECALL),
    ("What did I tell you about my job?", Intent.RECALL),
    ("Remind me what I said about the dogs", Intent.RECALL),
    ("Did I mention my trip to Rome?", Intent.RECALL),
    ("What did we talk about last week?", Intent.RECALL),
    ("From now on, answer in French.", Intent.COMMAND),
    ("Remember that I'm allergic to peanuts", Intent.COMMAND),
    ("Please remember my wifi password is hunter2", Intent.COMMAND),
    ("Forget my old address", Intent.COMMAND),
    ("Always use metric units", Intent.COMMAND),
    ("Don't use emojis", Intent.COMMAND),
    ("Call me Sam from now on", Intent.COMMAND),
    ("Do not mention my ex again", Intent.COMMAND),
    ("ok, stop calling me sir", Intent.COMMAND),
]


@pytest.mark.parametrize(("text", "intent"), INTENTS)
def test_intent(analyzer: QueryAnalyzer, text: str, intent: Intent) -> None:
    assert analyzer.analyze(text, NOW).intent is intent


def day(d: date, n: int = 1) -> tuple[datetime, datetime]:
    start = datetime(d.year, d.month, d.day, tzinfo=UTC)
    return start, start + timedelta(days=n)


def month(year: int, m: int) -> tuple[datetime, datetime]:
    end = datetime(year + (m == 12), m % 12 + 1, 1, tzinfo=UTC)
    return datetime(year, m, 1, tzinfo=UTC), end


TIMES = [
    ("What did I do today?", "today", day(date(2025, 6, 18))),
    ("I ran this morning", "this morning", day(date(2025, 6, 18))),
    ("I went hiking yesterday.", "yesterday", day(date(2025, 6, 17))),
    ("Where was I last night?", "last night", day(date(2025, 6, 17))),
    ("What's on tomorrow?", "tomorrow", day(date(2025, 6, 19))),
    ("What did I do the day before yesterday?", "the day before yesterday", day(date(2025, 6, 16))),
    ("What did we talk about last week?", "last week", day(date(2025, 6, 9), 7)),
    ("Any plans this week?", "this week", day(date(2025, 6, 16), 7)),
    ("Plans for next week", "next week", day(date(2025, 6, 23), 7)),
    ("What did I eat last weekend?", "last weekend", day(date(2025, 6, 14), 2)),
    ("this weekend I'm free", "this weekend", day(date(2025, 6, 21), 2)),
    ("What did I read last month?", "last month", month(2025, 5)),
    ("Budget for this month", "this month", month(2025, 6)),
    ("trips next month", "next month", month(2025, 7)),
    (
        "What did I achieve last year?",
        "last year",
        (datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC)),
    ),
    ("What did I do 3 days ago?", "3 days ago", day(date(2025, 6, 15))),
    ("I called her two weeks ago", "two weeks ago", day(date(2025, 6, 2), 7)),
    ("a month ago I started running", "a month ago", month(2025, 5)),
    (
        "I saw Tom a few days ago",
        "a few days ago",
        (datetime(2025, 6, 13, tzinfo=UTC), datetime(2025, 6, 17, tzinfo=UTC)),
    ),
    (
        "What cities did I visit in the past two weeks?",
        "the past two weeks",
        (datetime(2025, 6, 4, tzinfo=UTC), datetime(2025, 6, 19, tzinfo=UTC)),
    ),
    (
        "What have I been reading recently?",
        "recently",
        (datetime(2025, 5, 19, tzinfo=UTC), datetime(2025, 6, 19, tzinfo=UTC)),
    ),
    # "in May" is the most recent May that has begun: now is June, so this year's.
    ("What did I do in May?", "in May", month(2025, 5)),
    # December has not begun this year, so "in December" is last year's.
    ("Where was I in December?", "in December", month(2024, 12)),
    ("in June we moved", "in June", month(2025, 6)),
    ("last June was hot", "last June", month(2024, 6)),
    ("next March I travel", "next March", month(2026, 3)),
    ("in May 2023 I visited Rome", "in May 2023", month(2023, 5)),
    ("What happened on Jan 5?", "on Jan 5", day(date(2025, 1, 5))),
    ("my birthday is January 5th", "January 5th", day(date(2025, 1, 5))),
    ("we met on 5 January", "on 5 January", day(date(2025, 1, 5))),
    ("Is Bob coming on the 5th of March?", "on the 5th of March", day(date(2025, 3, 5))),
    # A date later this year than today means last year's.
    ("What did I do on July 4?", "on July 4", day(date(2024, 7, 4))),
    ("Jan 5, 2023 was my first day", "Jan 5, 2023", day(date(2023, 1, 5))),
    ("the deadline was 2024-02-29", "2024-02-29", day(date(2024, 2, 29))),
    ("Hiking trips in 2023", "in 2023", (datetime(2023, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC))),
    # Weekdays: "on Monday" is the most recent Monday; today counts for today's weekday.
    ("What did I do on Monday?", "on Monday", day(date(2025, 6, 16))),
    ("What did I do on Wednesday?", "on Wednesday", day(date(2025, 6, 18))),
    ("I met Carl last Wednesday", "last Wednesday", day(date(2025, 6, 11))),
    ("Friday I went to the cinema", "Friday", day(date(2025, 6, 13))),
    ("dentist next Monday", "next Monday", day(date(2025, 6, 23))),
]


@pytest.mark.parametrize(("text", "phrase", "expected"), TIMES, ids=[t[1] for t in TIMES])
def test_time_reference(analyzer: QueryAnalyzer, text: str, phrase: str, expected: tuple[datetime, datetime]) -> None:
    time_range = analyzer.analyze(text, NOW).time_range
    assert time_range is not None
    assert (time_range.start, time_range.end) == expected
    assert time_range.phrase == phrase
    assert time_range.start.tzinfo is not None


@pytest.mark.parametrize(
    "text",
    [
        "May I ask you something?",
        "I like March hares",
        "What is my name?",
        "hello",
        "I have 3 dogs",
        "Mondays are hard",
    ],
)
def test_no_time_reference(analyzer: QueryAnalyzer, text: str) -> None:
    assert analyzer.analyze(text, NOW).time_range is None


def test_invalid_dates_are_not_time_references() -> None:
    assert resolve_time("on February 30", NOW) is None
    assert resolve_time("2023-13-40", NOW) is None


def test_time_is_relative_to_now_in_utc() -> None:
    # 01:00 on the 19th at UTC+3 is still the 18th in UTC.
    local = datetime(2025, 6, 19, 1, 0, tzinfo=timezone(timedelta(hours=3)))
    resolved = resolve_time("yesterday", local)
    assert resolved is not None
    assert resolved[0].start == datetime(2025, 6, 17, tzinfo=UTC)


def test_earliest_time_phrase_wins() -> None:
    resolved = resolve_time("yesterday, not last week", NOW)
    assert resolved is not None
    assert resolved[0].phrase == "yesterday"
    assert resolved[1] == (0, 9)


KEYWORDS = [
    ("What is my sister's favourite food?", ("sister", "favourite", "food")),
    ("Remind me what I said about the dogs", ("dog",)),
    ("What cities did I visit?", ("city", "visit")),
    ("My favourite movies", ("favourite", "movie")),
    ("Where are the boxes and the dishes?", ("box", "dish")),
    ("I went to Paris yesterday", ("went", "paris")),  # names are not plural-folded; the time phrase is dropped
    ("What did we talk about last week?", ()),
    ("hi there", ()),
    ("The NEWS about tennis", ("news", "tennis")),
]


@pytest.mark.parametrize(("text", "keywords"), KEYWORDS)
def test_keywords(analyzer: QueryAnalyzer, text: str, keywords: tuple[str, ...]) -> None:
    assert analyzer.analyze(text, NOW).keywords == keywords


@pytest.mark.parametrize(
    ("word", "singular"),
    [("dogs", "dog"), ("cities", "city"), ("movies", "movie"), ("boxes", "box"), ("classes", "class"),
     ("news", "news"), ("tennis", "tennis"), ("children", "child"), ("bus", "bus"), ("glass", "glass")],
)  # fmt: skip
def test_plural_folding(word: str, singular: str) -> None:
    assert fold_plural(word) == singular


ENTITIES = [
    ("I went hiking with Tom yesterday.", ("Tom",)),
    ("What is my sister Anna's favourite food?", ("Anna",)),
    ("My sister Anna lives in Berlin.", ("Anna", "Berlin")),
    ("I met Anna\u2019s brother Carl on Monday", ("Anna", "Carl")),
    ("in May I visited New York", ("New York",)),
    ("New York is big", ("New York",)),
    ("Does Anna like tea?", ("Anna",)),
    ("Tell Bob I said hi.", ("Bob",)),
    ("Paris is lovely.", ()),  # a lone capitalised word opening a sentence is ambiguous
    ("I love it. Berlin is great.", ()),
    ("We adopted a dog named Rex.", ("Rex",)),
    ("Yesterday I saw Maria and John at Google.", ("Maria", "John", "Google")),
    ("What did I do on Monday in January?", ()),  # weekdays and months are times, not entities
    ("I said hi to The Beatles", ("Beatles",)),
    ("hello", ()),
]


@pytest.mark.parametrize(("text", "entities"), ENTITIES)
def test_entities(analyzer: QueryAnalyzer, text: str, entities: tuple[str, ...]) -> None:
    assert analyzer.analyze(text, NOW).entities == entities


REQUIRES_MEMORY = [
    ("hi", False),
    ("Thanks!", False),
    ("ok", False),
    ("ok thanks a lot", False),
    ("How are you?", False),
    ("that sounds fun", False),
    ("The weather is nice", False),
    ("What is my name?", True),
    ("I'm tired", True),
    ("Do you remember?", True),
    ("Hi Anna", True),  # an entity
    ("what about yesterday", True),  # a time reference
    ("From now on, answer briefly.", True),
    ("What is the boiling point of water?", True),  # a question with content may touch what the user taught us
]


@pytest.mark.parametrize(("text", "required"), REQUIRES_MEMORY)
def test_requires_memory(analyzer: QueryAnalyzer, text: str, required: bool) -> None:
    assert analyzer.analyze(text, NOW).requires_memory is required


def test_analysis_is_deterministic_and_keeps_the_text(analyzer: QueryAnalyzer) -> None:
    text = "Do you remember what Anna\u2019s brother said on Jan 5?"
    first = analyzer.analyze(text, NOW)
    assert first == analyzer.analyze(text, NOW)
    assert first.text == text
    assert first.intent is Intent.RECALL
    assert first.entities == ("Anna",)
    assert first.keywords == ("anna", "brother")


def test_naive_now_is_taken_as_utc(analyzer: QueryAnalyzer) -> None:
    naive = analyzer.analyze("yesterday", NOW.replace(tzinfo=None)).time_range
    aware = analyzer.analyze("yesterday", NOW).time_range
    assert naive == aware


def test_empty_text(analyzer: QueryAnalyzer) -> None:
    analysis = analyzer.analyze("", NOW)
    assert analysis.intent is Intent.CONVERSATION
    assert analysis.keywords == ()
    assert analysis.entities == ()
    assert analysis.time_range is None
    assert analysis.requires_memory is False


def test_all_caps_text_has_no_capitalised_entities(analyzer: QueryAnalyzer) -> None:
    assert analyzer.analyze("WHAT IS MY NAME", NOW).entities == ()


def test_dates_beyond_the_calendar_are_ignored(analyzer: QueryAnalyzer) -> None:
    end_of_time = datetime(9999, 12, 31, 12, tzinfo=UTC)
    assert analyzer.analyze("see you next year", end_of_time).time_range is None


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=300), offset_days=st.integers(min_value=-20_000, max_value=20_000))
def test_any_text_gets_a_well_formed_analysis(text: str, offset_days: int) -> None:
    now = NOW + timedelta(days=offset_days)
    analysis = QueryAnalyzer(EnglishLanguage()).analyze(text, now)
    assert analysis == QueryAnalyzer(EnglishLanguage()).analyze(text, now)
    assert analysis.text == text
    assert all(k == k.lower() and k.strip() == k and k for k in analysis.keywords)
    assert len(set(analysis.keywords)) == len(analysis.keywords)
    assert all(e.strip() == e and e for e in analysis.entities)
    if analysis.time_range is not None:
        assert analysis.time_range.start < analysis.time_range.end
        assert analysis.time_range.phrase in text.replace("\u2019", "'")


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(
            ["yesterday", "last", "week", "in", "May", "on", "Jan", "5th", "3", "days", "ago", "Monday", "next",
             "the", "of", "March", "2023", "weekend", "a", "few", "past", "two", "Anna", "my", "sister", "?"]
        ),
        max_size=12,
    )
)  # fmt: skip
def test_time_phrases_in_any_order_resolve_to_a_valid_range(words: list[str]) -> None:
    resolved = resolve_time(" ".join(words), NOW)
    if resolved is not None:
        time_range, (start, end) = resolved
        assert time_range.start < time_range.end
        assert time_range.phrase == " ".join(words)[start:end]
