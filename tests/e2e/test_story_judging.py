"""How the story and offline-answer suites judge an answer, a context and a memory list, without a server.

The suites are the measure of issues 21 and 22; these tests pin what their checks count as right and wrong,
so that a change to a check is a decision, not an accident.
"""

from __future__ import annotations

from tests.e2e.answer_checks import (
    form_faults,
    lowercase_starts,
    missing,
    proper_nouns,
    repeated_sentences,
    stale_clauses,
    unrelated_remarks,
)
from tests.e2e.living_stories import NINA, STORIES
from tests.e2e.offline_cases import CATEGORIES, PERSONAS, SAID_THEN_ASKED
from tests.e2e.offline_runner import Case, judge_answer, report, shortfalls
from tests.e2e.story_runner import Question, StoryOutcome, duplicated, is_one_of, judge
from tests.e2e.story_runner import shortfalls as story_shortfalls

WHERE_NOW = Question("Where do I live now?", (("amsterdam",),), change=True, stale=("live in berlin",))


def test_an_answer_names_every_group_by_the_start_of_a_word() -> None:
    assert missing("You're swimming instead [2].", (("swim",),)) == []
    assert missing("Ella is 15.", (("ella",), ("5", "five"))) == [("5", "five")]
    assert missing("You work at N26 as a Product Manager.", (("n26",), ("product manager",))) == []


def test_a_stale_value_counts_only_when_stated_as_the_present() -> None:
    assert stale_clauses("You live in Amsterdam [1]. You live in Berlin [3].", ["live in berlin"]) == [
        "You live in Berlin [3]."
    ]
    for marked in (
        "You used to live in Berlin; now you live in Amsterdam.",
        "Before that you lived in Berlin, until January.",
        "You no longer live in Berlin.",
        "Until January, in Berlin; now Amsterdam.",
        "The user previously lived in Berlin, and now lives in Amsterdam.",
    ):
        assert stale_clauses(marked, ["live in berlin"]) == [], marked


def test_a_question_about_the_past_wants_the_answer_said_as_past() -> None:
    before = Question("Where did I live before Amsterdam?", (("berlin",),), change=True, past=True)
    assert judge(before, "Before Amsterdam you lived in Berlin, until January [2].", []).right
    assert not judge(before, "You live in Berlin [1].", []).right
    notes = Question("What did I use for notes before?", (("notion",),), change=True, past=True)
    assert judge(notes, "You used to use Notion, but switched because Notion got slow.", []).right


def test_a_still_true_event_is_not_stale_when_asking_about_now() -> None:
    context = [
        {"id": "a", "content": "I moved to Berlin in March 2023.", "current": True},
        {"id": "b", "content": "The user lives in Berlin", "current": False},
        {"id": "c", "content": "I live in Berlin and work at Zalando."},  # no `current`: taken as current
    ]
    asked = judge(WHERE_NOW, "You live in Amsterdam [1].", context)
    assert asked.right
    assert asked.stale_in_context == ["I live in Berlin and work at Zalando."]
    # A clause marked as the past does not mark the others of its sentence.
    kofi = "Left Deloitte in the summer, I'm a financial analyst at Monzo now."
    assert stale_clauses(kofi, ["analyst at", "at deloitte"]) == ["I'm a financial analyst at Monzo now."]


def test_stale_phrases_belong_to_present_change_questions_and_miss_what_stays_true() -> None:
    for story in STORIES:
        for question in story.questions:
            assert not question.stale or question.change, question.text
    # Nina's statements that never state an earlier value as the present, whatever she is asked about now.
    still_true = (
        "Quick update: I actually left Zalando last month, I'm now a product manager at N26.",
        "Big news, we're moving to Amsterdam in January! Tom got a job at a hospital there.",
        "Scratch the half marathon, I hurt my knee, I'm swimming instead.",
        "I switched from Duolingo to Babbel, the lessons are better.",
        "My mum Linda is visiting from Manchester next weekend.",
    )
    for question in (q for q in NINA.questions if q.stale):
        context = [{"id": str(n), "content": text} for n, text in enumerate(still_true)]
        assert judge(question, "", context).stale_in_context == [], question.text
    where = NINA.questions[0]
    berlin = "I'm training for the Berlin half marathon in April, wish me luck."
    assert judge(where, "", [{"id": "x", "content": berlin}]).stale_in_context == []
    stated = "I live in Berlin, I moved here in March 2023, and I work as a UX designer at Zalando."
    flagged = [q.text for q in NINA.questions if judge(q, "", [{"id": "x", "content": stated}]).stale_in_context]
    assert flagged == ["Where do I live now?", "Where do I work?"]


def test_ninas_story_is_the_issues_fourteen_questions_six_about_change() -> None:
    assert len(NINA.conversations) == 4
    assert len(NINA.questions) == 14
    assert sum(q.change for q in NINA.questions) == 6
    assert len(STORIES) >= 5 and len({s.name for s in STORIES}) == len(STORIES)


def test_a_question_is_found_among_memories_alone_or_with_a_speaker() -> None:
    questions = ["Where do I live now?", "Any tips?"]
    assert is_one_of("where do I  live now?", questions)
    assert is_one_of("Nina: Where do I live now?", questions)
    assert not is_one_of("The user lives in Amsterdam", questions)
    assert not is_one_of("Any tips for the weekend are welcome", questions)  # too short to be found inside


def test_duplicates_are_the_same_content_whitespace_and_case_aside() -> None:
    memories = [{"content": "I teach maths."}, {"content": "i teach  MATHS."}, {"content": "I teach maths"}]
    assert duplicated(memories) == ["i teach  MATHS."]


def test_the_story_bar_needs_thirteen_of_fourteen_and_every_change_right() -> None:
    outcome = StoryOutcome(story=NINA)
    for question in NINA.questions:
        named = " and ".join(group[0] for group in question.expect)
        outcome.asked.append(judge(question, f"It used to be {named}." if question.past else f"{named}.", []))
    assert story_shortfalls([outcome]) == []
    first_plain = next(n for n, a in enumerate(outcome.asked) if not a.question.change)
    outcome.asked[first_plain] = judge(NINA.questions[first_plain], "no idea", [])
    assert story_shortfalls([outcome]) == []
    first_change = next(n for n, a in enumerate(outcome.asked) if a.question.change)
    outcome.asked[first_change] = judge(NINA.questions[first_change], "no idea", [])
    assert story_shortfalls([outcome])[0].startswith("answers right 12 of 14")


def test_form_faults_of_todays_offline_answers_are_found() -> None:
    said = ["Hi! I'm Nina.", "Quick update: I left Zalando, I'm now a product manager at N26."]
    nouns = proper_nouns(said)
    assert lowercase_starts("Noted: hi! you're Nina.") == ["you're Nina."]
    assert repeated_sentences("Here is what I remember: Maya lives in Lisbon [1]. Maya lives in Lisbon [2].")
    faults = form_faults("I'm now a product manager at zalando (month of 2027-01-01) [1].", said, nouns)
    assert set(faults) == {"first_person", "lost_capital", "machine_date"}
    assert form_faults("Here is what I remember: You're now a product manager at N26 [1].", said, nouns) == {}


def test_a_remark_on_a_statement_must_share_a_word_with_it() -> None:
    said = "I started learning the cello."
    assert unrelated_remarks("Noted. Related to that, I remember: Your sister Maya lives in Lisbon [1].", said)
    assert not unrelated_remarks("Noted. Related to that, I remember: You bought a cello case [1].", said)


def test_the_past_must_be_stated_as_past() -> None:
    expect = (("barista",),)
    assert judge_answer("past", "q", "You worked as a barista in Bristol [1].", expect, [], past=True).right
    assert judge_answer("past", "q", "You used to be a barista.", expect, [], past=True).right
    assert not judge_answer("past", "q", "You are a barista [1].", expect, [], past=True).right


def test_the_offline_suite_covers_every_category_with_enough_statements_and_questions() -> None:
    statements = sum(len(c) for p in PERSONAS for c in p.conversations) + len(SAID_THEN_ASKED)
    questions = sum(len(p.questions) for p in PERSONAS) + len(SAID_THEN_ASKED)
    assert statements >= 40 and questions >= 40
    asked = {q.category for p in PERSONAS for q in p.questions} | {c.category for c in SAID_THEN_ASKED}
    assert asked | {"form"} == set(CATEGORIES)


def test_the_offline_bar_is_ninety_percent_overall_and_eighty_in_every_category() -> None:
    cases = [Case("pets", f"q{n}", "a") for n in range(9)] + [Case("pets", "q", "a", {"missing": []})]
    cases += [Case("form", f"s{n}", "a") for n in range(4)] + [Case("form", "s", "a", {"lowercase_start": ["x"]})]
    assert report(cases)["overall"] == {"right": 9, "of": 10, "share": 0.9}
    assert shortfalls(cases) == []
    cases.append(Case("pets", "q", "a", {"missing": []}))
    assert shortfalls(cases)[0].startswith("overall")
