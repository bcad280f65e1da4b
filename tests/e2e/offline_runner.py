"""The offline-answers suite (issue 22) against a real server: tell, wait for extraction, ask, judge.

Each persona (tests/e2e/offline_cases.py) tells its conversations through `POST /api/chat/.../messages/stream`,
settling after each (tests/e2e/story_runner.py); each question is then asked in a new conversation, and the
profile's display name is read from `GET /api/profile`. Each said-then-asked case is a user of its own: in one
conversation, the question straight after the statement; or one `POST /v1/chat/completions` whose earlier
messages hold the statement.

A question's answer is right when it names every expected group, states the answer as past where the case asks
(`Ask.past`), and has no fault of form (tests/e2e/answer_checks.py: no sentence twice, capitals kept, the user's
own first-person words not quoted back, no machine dates). The answers to the statements themselves make the
`form` category: the same faults, and no cited remark that shares no word with what was said.

`overall` is the share of questions right (every category but `form`); the bar (`shortfalls`) is issue 22's:
at least 90% overall, and every category, `form` included, at 80% or more.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.e2e.answer_checks import form_faults, missing, names, not_stated_as_past, proper_nouns
from tests.e2e.chat_turns import turn
from tests.e2e.offline_cases import FORM, NAMES, OPENAI, PERSONAS, SAID_THEN_ASKED, Ask, Persona, SaidThenAsked
from tests.e2e.story_runner import answer_text, http_settle

OVERALL_BAR = 0.9
CATEGORY_BAR = 0.8
Tokens = Callable[[str], dict[str, str]]


@dataclass
class Case:
    """One judged answer: its category, what was asked or said, the answer, and what was wrong with it."""

    category: str
    asked: str
    answer: str
    faults: dict[str, Any] = field(default_factory=dict)

    @property
    def right(self) -> bool:
        return not self.faults


def judge_answer(category: str, asked: str, answer: str, expect: Any, said: Sequence[str], past: bool = False) -> Case:
    faults: dict[str, Any] = {}
    if gaps := missing(answer, expect):
        faults["missing"] = gaps
    if past and (present := not_stated_as_past(answer, expect)):
        faults["not_stated_as_past"] = present
    faults |= form_faults(answer, said, proper_nouns(said))
    return Case(category, asked, answer, faults)


async def tell_and_ask(client: httpx.AsyncClient, headers: dict[str, str], persona: Persona) -> list[Case]:
    said = [text for conversation in persona.conversations for text in conversation]
    nouns = proper_nouns(said)
    settle = http_settle(client, headers)
    cases = []
    for conversation in persona.conversations:
        conversation_id = None
        for text in conversation:
            events = await turn(client, headers, text, conversation_id)
            conversation_id = events[0].data["id"]
            faults = form_faults(answer_text(events), said, nouns, message=text)
            cases.append(Case(FORM, text, answer_text(events), faults))
        assert conversation_id is not None
        await settle([conversation_id])
    for ask in persona.questions:
        cases.append(await _ask(client, headers, ask, said))
    profile = await client.get("/api/profile", headers=headers)
    assert profile.status_code == 200, profile.text
    display_name = profile.json().get("display_name") or ""
    shown = any(names(display_name, word) for word in persona.display_name)
    cases.append(
        Case(NAMES, "GET /api/profile display_name", display_name, {} if shown else {"display_name": display_name})
    )
    return cases


async def _ask(client: httpx.AsyncClient, headers: dict[str, str], ask: Ask, said: Sequence[str]) -> Case:
    answer = answer_text(await turn(client, headers, ask.text))
    return judge_answer(ask.category, ask.text, answer, ask.expect, said, past=ask.past)


async def said_then_asked(client: httpx.AsyncClient, headers: dict[str, str], case: SaidThenAsked) -> list[Case]:
    """The question answered from the conversation itself: the same stored conversation, or one OpenAI request."""
    if case.category == OPENAI:
        body = {
            "model": "jyntrix",
            "messages": [
                {"role": "user", "content": case.said},
                {"role": "assistant", "content": "Thanks for telling me."},
                {"role": "user", "content": case.asked},
            ],
        }
        response = await client.post("/v1/chat/completions", json=body, headers=headers)
        assert response.status_code == 200, response.text
        answer = response.json()["choices"][0]["message"]["content"]
        return [judge_answer(case.category, case.asked, answer, case.expect, [case.said])]
    events = await turn(client, headers, case.said)
    acknowledged = answer_text(events)
    statement = Case(
        FORM, case.said, acknowledged, form_faults(acknowledged, [case.said], proper_nouns([case.said]), case.said)
    )
    answer = answer_text(await turn(client, headers, case.asked, events[0].data["id"]))
    return [statement, judge_answer(case.category, case.asked, answer, case.expect, [case.said])]


async def run_suite(client: httpx.AsyncClient, tokens: Tokens, run: str) -> list[Case]:
    """Every persona and every said-then-asked case, each user named after `run` so that runs never meet."""
    cases = []
    for persona in PERSONAS:
        cases.extend(await tell_and_ask(client, tokens(f"offline-{persona.name}-{run}"), persona))
    for n, case in enumerate(SAID_THEN_ASKED):
        cases.extend(await said_then_asked(client, tokens(f"offline-{case.category}-{n}-{run}"), case))
    return cases


def report(cases: Sequence[Case]) -> dict[str, Any]:
    by_category: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_category[case.category].append(case)
    questions = [c for c in cases if c.category != FORM]
    faults: dict[str, int] = defaultdict(int)
    for case in cases:
        for check in case.faults:
            faults[check] += 1
    return {
        "overall": _share(questions),
        "categories": {name: _share(found) for name, found in by_category.items()},
        "faults": dict(sorted(faults.items())),
        "statements": len(by_category[FORM]) + sum(c.category == OPENAI for c in cases),
        "questions": len(questions),
    }


def _share(cases: Sequence[Case]) -> dict[str, Any]:
    right = sum(c.right for c in cases)
    return {"right": right, "of": len(cases), "share": round(right / len(cases), 3) if cases else None}


def explain(cases: Sequence[Case], every_answer: bool = False) -> list[str]:
    """A line per wrong answer (per answer, if asked), with what was wrong."""
    return [
        f"{c.category}: {c.asked!r} -> {c.answer!r}: {c.faults or 'right'}"
        for c in cases
        if every_answer or not c.right
    ]


def shortfalls(cases: Sequence[Case]) -> list[str]:
    figures = report(cases)
    misses = []
    if figures["overall"]["share"] < OVERALL_BAR:
        misses.append(f"overall {figures['overall']['share']} < {OVERALL_BAR}")
    misses += [
        f"{name} {share['share']} < {CATEGORY_BAR}"
        for name, share in figures["categories"].items()
        if share["share"] < CATEGORY_BAR
    ]
    return misses + explain(cases) if misses else []


def below(cases: Sequence[Case], overall: int, categories: dict[str, int]) -> list[str]:
    """What falls under the level reached (right answers overall and per category) while the bar is not met."""
    figures = report(cases)
    misses = [f"overall {figures['overall']['right']} right, the floor is {overall}"] * (
        figures["overall"]["right"] < overall
    )
    misses += [
        f"{name} {figures['categories'][name]['right']} right, the floor is {floor}"
        for name, floor in categories.items()
        if figures["categories"][name]["right"] < floor
    ]
    return misses + explain(cases) if misses else []
