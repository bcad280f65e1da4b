"""English time phrases: the one reading of "yesterday", "in May" or "two weeks ago" against a given day.

Why English is here, in the domain: the query analyser resolves a message's time phrase to the range it
searches (`resolve_time`), and the English rules extractor (`jyntrix_adapters.english`) records an event at
the day the same reading gives (`read_time`), so what is stored and what is searched for agree. Issue 22 lets
these phrases stay beside the query analyser that uses them; in the domain only `jyntrix_domain.query` imports
this module (an import-linter contract holds that). Which way a bare month or weekday reads (the message's
tense) is the `Language` port's reading, passed in. Ranges are half-open UTC ``[start, end)``:

=========================  ================================================================
phrase                     range (and the day recorded, when it differs from the start)
=========================  ================================================================
today, tonight, this       the current day
morning/afternoon/evening
yesterday, last night      the previous day
the day before yesterday   two days back
tomorrow                   the next day
this/last/next week        ISO weeks (Monday 00:00 to the next Monday)
this/last/next weekend     Saturday 00:00 to Monday 00:00 of this/the previous/next ISO week
this/last/next month       calendar months
this/last/next year        calendar years
N days ago, in N days      that calendar day ("a"/"an"/"one".."twelve" count as numbers)
N weeks ago, in N weeks    the ISO week N back/ahead (day: exactly N weeks back/ahead)
N months ago, in N months  the calendar month N back/ahead (day: the same day of that month)
N years ago, in N years    the calendar year N back/ahead
a couple of days ago       days -3 and -2 (a stretch: names no one day)
a few days ago             days -5 to -2 (a stretch)
past/last N days/weeks...  from the start of that many units back up to the end of today (a stretch)
recently, lately           the last 30 days up to the end of today (a stretch)
the other day              the previous 7 days, not today (a stretch)
in/during May              past: the most recent May that has begun; future: the next May
                           that has not ended
last May                   the most recent May before the current month
this May / next May        this year's May / the next May after the current month
May 2023, in May 2023      that month
Jan 5, January 5th,        that day; without a year, past: the most recent such day not after
5 January, 5th of Jan      today; future: the first such day not before today
2023-01-05                 that day
in/during 2023             that year
(on) Monday, this Monday   past: the most recent Monday, today included ("this": of the current
                           ISO week); future: the first Monday after today
last/past Monday           the most recent Monday before today
next Monday                the first Monday after today
=========================  ================================================================

The direction of a bare month or weekday comes from the words around it (`Language.tense_of`, given as
`tense`): a past verb reads back, a plan forward, and otherwise the caller's default decides (a question about
memories reads back; a statement of an event with no past verb is a plan). When a text holds
several time phrases the earliest (then the longest) wins.
"""

from __future__ import annotations

import calendar
import enum
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import msgspec

from jyntrix_domain.tense import Tense


class TimeRange(msgspec.Struct, frozen=True):
    """A half-open UTC interval ``[start, end)`` and the words that named it."""

    start: datetime
    end: datetime
    phrase: str

    def contains(self, at: datetime) -> bool:
        return self.start <= at < self.end


class Period(enum.StrEnum):
    """What a reading's `day` stands for: that day, the start of a longer unit, or a vague stretch."""

    DAY = "day"
    WEEK = "week"
    WEEKEND = "weekend"
    MONTH = "month"
    YEAR = "year"
    STRETCH = "stretch"


_LABELS = {Period.WEEK: "week of ", Period.WEEKEND: "weekend of ", Period.MONTH: "month of ", Period.YEAR: "year "}


class TimeReading(msgspec.Struct, frozen=True):
    """One time phrase read against a day: the range to search, and the day (and unit) to record."""

    range: TimeRange
    day: date
    period: Period
    span: tuple[int, int] = (0, 0)

    @property
    def label(self) -> str:
        """How a recorded date is introduced: "week of ", "month of ", "" for a day."""
        return _LABELS.get(self.period, "")


MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
    "december",
)  # fmt: skip
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_ABBR = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10,
    "nov": 11, "dec": 12,
}  # fmt: skip
_MONTHS: dict[str, int] = {name: i + 1 for i, name in enumerate(MONTH_NAMES)} | _MONTH_ABBR
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip

_MONTH_ANY = r"(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")"
_MONTH_FULL_RE = r"(" + "|".join(MONTH_NAMES) + r")"
_NUM = r"(\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")"
_YEAR = r"((?:19|20)\d{2})"
_ORD = r"(\d{1,2})(?:st|nd|rd|th)?"


def _start_of_day(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=UTC)


def _range(first: date, days: int, phrase: str) -> TimeRange:
    return TimeRange(_start_of_day(first), _start_of_day(first + timedelta(days=days)), phrase)


def _add_months(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def _on(d: date, phrase: str) -> TimeReading:
    return TimeReading(_range(d, 1, phrase), d, Period.DAY)


def _week(monday: date, phrase: str, day: date | None = None) -> TimeReading:
    return TimeReading(_range(monday, 7, phrase), day or monday, Period.DAY if day else Period.WEEK)


def _month(year: int, month: int, phrase: str, day: date | None = None) -> TimeReading:
    ny, nm = _add_months(year, month, 1)
    first = date(year, month, 1)
    span = TimeRange(_start_of_day(first), _start_of_day(date(ny, nm, 1)), phrase)
    return TimeReading(span, day or first, Period.DAY if day else Period.MONTH)


def _year(year: int, phrase: str) -> TimeReading:
    first = date(year, 1, 1)
    return TimeReading(TimeRange(_start_of_day(first), _start_of_day(date(year + 1, 1, 1)), phrase), first, Period.YEAR)


def _stretch(first: date, end: date, phrase: str) -> TimeReading:
    return TimeReading(TimeRange(_start_of_day(first), _start_of_day(end), phrase), first, Period.STRETCH)


def _number(word: str) -> int:
    word = word.lower()
    return int(word) if word.isdigit() else _NUMBER_WORDS[word]


def _monday(today: date) -> date:
    return today - timedelta(days=today.weekday())


def _shift_months(today: date, n: int) -> date:
    y, mo = _add_months(today.year, today.month, n)
    return date(y, mo, min(today.day, calendar.monthrange(y, mo)[1]))


_Resolver = Callable[["re.Match[str]", date, Tense], TimeReading | None]


def _fixed_day(offset: int) -> _Resolver:
    return lambda m, today, tense: _on(today + timedelta(days=offset), m.group(0))


def _relative_unit(m: re.Match[str], today: date, tense: Tense) -> TimeReading | None:
    which, unit = m.group(1).lower(), m.group(2).lower()
    shift = {"this": 0, "last": -1, "past": -1, "previous": -1, "next": 1, "coming": 1}[which]
    phrase = m.group(0)
    if unit == "week":
        return _week(_monday(today) + timedelta(weeks=shift), phrase)
    if unit == "weekend":
        saturday = _monday(today) + timedelta(days=5, weeks=shift)
        return TimeReading(_range(saturday, 2, phrase), saturday, Period.WEEKEND)
    if unit == "month":
        return _month(*_add_months(today.year, today.month, shift), phrase)
    return _year(today.year + shift, phrase)


def _units_away(n: int, unit: str, today: date, phrase: str) -> TimeReading:
    """N days, weeks, months or years back (n < 0) or ahead: the unit it falls in, and the day itself."""
    if unit == "day":
        return _on(today + timedelta(days=n), phrase)
    if unit == "week":
        return _week(_monday(today) + timedelta(weeks=n), phrase, day=today + timedelta(weeks=n))
    if unit == "month":
        day = _shift_months(today, n)
        return _month(day.year, day.month, phrase, day=day)
    return _year(today.year + n, phrase)


def _ago(m: re.Match[str], today: date, tense: Tense) -> TimeReading | None:
    return _units_away(-_number(m.group(1)), m.group(2).lower(), today, m.group(0))


def _ahead(m: re.Match[str], today: date, tense: Tense) -> TimeReading | None:
    return _units_away(_number(m.group(1)), m.group(2).lower(), today, m.group(0))


def _few_days_ago(m: re.Match[str], today: date, tense: Tense) -> TimeReading | None:
    back = 3 if "couple" in m.group(0).lower() else 5
    return _stretch(today - timedelta(days=back), today - timedelta(days=1), m.group(0))


def _past_n(m: re.Match[str], today: date, tense: Tense) -> TimeReading | None:
    n, unit = _number(m.group(1)), m.group(2).lower()
    if unit == "day":
        start = today - timedelta(days=n)
    elif unit == "week":
        start = today - timedelta(weeks=n)
    elif unit == "month":
        y, mo = _add_months(today.year, today.month, -n)
        start = date(y, mo, min(today.day, 28))
    else:
        start = date(today.year - n, today.month, min(today.day, 28))
    return _stretch(start, today + timedelta(days=1), m.group(0))


def _recently(m: re.Match[str], today: date, tense: Tense) -> TimeReading | None:
    if "other day" in m.group(0).lower():
        return _stretch(today - timedelta(days=7), today, m.group(0))
    return _stretch(today - timedelta(days=30), today + timedelta(days=1), m.group(0))


def _month_name(m: re.Match[str], today: date, tense: Tense) -> TimeReading | None:
    which = (m.group(1) or "in").lower()
    month = _MONTHS[m.group(2).lower()]
    if m.group(3):
        return _month(int(m.group(3)), month, m.group(0))
    if which == "this":
        year = today.year
    elif which == "next":
        year = today.year if month > today.month else today.year + 1
    elif which == "last":
        year = today.year if month < today.month else today.year - 1
    elif tense is Tense.PAST:  # in / during: the most recent one that has begun
        year = today.year if month <= today.month else today.year - 1
    else:  # in / during, of a plan: the next one that has not ended
        year = today.year if month >= today.month else today.year + 1
    return _month(year, month, m.group(0))


def _month_year(m: re.Match[str], today: date, tense: Tense) -> TimeReading | None:
    return _month(int(m.group(2)), _MONTHS[m.group(1).lower()], m.group(0))


def _day_of(month: int, day: int, year_text: str | None, today: date, tense: Tense, phrase: str) -> TimeReading | None:
    try:
        if year_text:
            return _on(date(int(year_text), month, day), phrase)
        candidate = date(today.year, month, day)
        if tense is Tense.PAST and candidate > today:
            candidate = date(today.year - 1, month, day)
        elif tense is Tense.FUTURE and candidate < today:
            candidate = date(today.year + 1, month, day)
    except ValueError:  # 30 February, or 29 February in the other year
        return None
    return _on(candidate, phrase)


def _month_day(m: re.Match[str], today: date, tense: Tense) -> TimeReading | None:
    return _day_of(_MONTHS[m.group(1).lower()], int(m.group(2)), m.group(3), today, tense, m.group(0))


def _day_month(m: re.Match[str], today: date, tense: Tense) -> TimeReading | None:
    return _day_of(_MONTHS[m.group(2).lower()], int(m.group(1)), m.group(3), today, tense, m.group(0))


def _iso(m: re.Match[str], today: date, tense: Tense) -> TimeReading | None:
    try:
        return _on(date(int(m.group(1)), int(m.group(2)), int(m.group(3))), m.group(0))
    except ValueError:
        return None


def _in_year(m: re.Match[str], today: date, tense: Tense) -> TimeReading | None:
    return _year(int(m.group(1)), m.group(0))


def _weekday(m: re.Match[str], today: date, tense: Tense) -> TimeReading | None:
    which = (m.group(1) or "on").lower()
    wd = WEEKDAY_NAMES.index(m.group(2).lower())
    back = (today.weekday() - wd - 1) % 7 + 1  # the last one before today
    ahead = (wd - today.weekday() - 1) % 7 + 1  # the first one after today
    if which in ("last", "past"):
        return _on(today - timedelta(days=back), m.group(0))
    if which == "next" or tense is Tense.FUTURE:
        return _on(today + timedelta(days=ahead), m.group(0))
    if which == "this":
        return _on(_monday(today) + timedelta(days=wd), m.group(0))
    return _on(today - timedelta(days=(today.weekday() - wd) % 7), m.group(0))


# Stretches ("recently") name no day an event could be recorded at; `read_time(..., stretches=False)` skips them.
_PATTERNS: tuple[tuple[re.Pattern[str], _Resolver, bool], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), resolver, stretch)
    for pattern, resolver, stretch in (
        (r"\b(?:earlier\s+)?today\b|\btonight\b|\bthis (?:morning|afternoon|evening)\b", _fixed_day(0), False),
        (r"\b(?:the\s+)?day before yesterday\b", _fixed_day(-2), False),
        (r"\byesterday(?:\s+(?:morning|afternoon|evening))?\b|\blast night\b", _fixed_day(-1), False),
        (r"\btomorrow\b", _fixed_day(1), False),
        (r"\b(this|last|past|previous|next|coming)\s+(week|weekend|month|year)\b", _relative_unit, False),
        (r"\b" + _NUM + r"\s+(day|week|month|year)s?\s+ago\b", _ago, False),
        (r"\bin\s+" + _NUM + r"\s+(day|week|month|year)s?\b", _ahead, False),
        (
            r"\ba\s+(?:couple\s+of|few)\s+days\s+ago\b|\b(?:a\s+)?couple\s+(?:of\s+)?days\s+ago\b",
            _few_days_ago,
            True,
        ),
        (r"\b(?:the\s+)?(?:last|past)\s+" + _NUM + r"\s+(day|week|month|year)s?\b", _past_n, True),
        (r"\brecently\b|\blately\b|\bthe other day\b", _recently, True),
        (r"\b" + _YEAR + r"-(\d{2})-(\d{2})\b", _iso, False),
        (
            r"\b(?:on\s+)?(?:the\s+)?" + _MONTH_ANY + r"\.?\s+" + _ORD + r"\b(?:,?\s+" + _YEAR + r"\b)?",
            _month_day,
            False,
        ),
        (
            r"\b(?:on\s+)?(?:the\s+)?" + _ORD + r"\s+(?:of\s+)?" + _MONTH_ANY + r"\b\.?(?:,?\s+" + _YEAR + r"\b)?",
            _day_month,
            False,
        ),
        (r"\b(in|during|last|this|next)\s+" + _MONTH_ANY + r"\b\.?(?:\s+" + _YEAR + r"\b)?", _month_name, False),
        (r"\b" + _MONTH_FULL_RE + r"\s+" + _YEAR + r"\b", _month_year, False),
        (r"\b(?:in|during)\s+" + _YEAR + r"\b", _in_year, False),
        (r"\b(?:(on|last|this|next|past)\s+)?(" + "|".join(WEEKDAY_NAMES) + r")\b", _weekday, False),
    )
)


def read_time(
    text: str, now: datetime, default: Tense = Tense.PAST, *, tense: Tense | None, stretches: bool = True
) -> TimeReading | None:
    """The first time phrase in `text` read against `now` (taken as UTC when naive).

    A bare month or weekday is read in `tense`, the direction `text`'s words give (`Language.tense_of`), else
    `default`.
    """
    now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    today = now.date()
    tense = tense or default
    best: TimeReading | None = None
    for pattern, resolver, stretch in _PATTERNS:
        if stretch and not stretches:
            continue
        for m in pattern.finditer(text):
            start, end = m.span()
            if best is not None and (
                start > best.span[0] or (start == best.span[0] and end - start <= best.span[1] - best.span[0])
            ):
                continue
            try:
                reading = resolver(m, today, tense)
            except (ValueError, OverflowError):  # beyond the calendar, e.g. "next year" in 9999
                continue
            if reading is not None:
                best = msgspec.structs.replace(reading, span=(start, end))
    return best


def time_phrase_span(text: str, *, stretches: bool = True) -> tuple[int, int] | None:
    """Where the first time phrase in `text` stands (earliest, then longest), without reading it."""
    best: tuple[int, int] | None = None
    for pattern, _, stretch in _PATTERNS:
        if stretch and not stretches:
            continue
        m = pattern.search(text)
        if m and (best is None or m.start() < best[0] or (m.start() == best[0] and m.end() > best[1])):
            best = m.span()
    return best


def resolve_time(text: str, now: datetime, tense: Tense | None) -> tuple[TimeRange, tuple[int, int]] | None:
    """The first time phrase in `text` as the UTC range to search, with its character span; read in `tense`
    (`Language.tense_of`), else back."""
    reading = read_time(text, now, tense=tense)
    return None if reading is None else (reading.range, reading.span)


def resolve_date(phrase: str, today: date, default: Tense = Tense.FUTURE, *, tense: Tense | None) -> tuple[date, str]:
    """The day a time phrase points at and how to label it ("week of ", "" for a day); `today` if none.

    A phrase read in no `tense` (`Language.tense_of`) reads forward, as a plan does.
    """
    at = datetime.combine(today, time(12), tzinfo=UTC)
    reading = read_time(phrase, at, default, tense=tense, stretches=False)
    return (today, "") if reading is None else (reading.day, reading.label)
