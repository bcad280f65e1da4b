"""Answers a user would trust on the offline default (issue 22): a public suite anyone can rerun.

Two users tell some forty things over several conversations (tests/e2e/offline_cases.py), and are then asked
about them, each question in a new conversation and in other words: pets, work, dates, plans, hobbies, family,
names (and the profile's display name), sets gathered whole, and the past stated as past. Seven more cases answer
from the conversation itself: a question right after a statement in the same conversation, and a statement in an
earlier message of one `POST /v1/chat/completions` request. Every answer is also judged on form (no sentence
twice, capitals and names kept, the user's words turned into "you", dates in words, no unrelated remark).

Prints one JSON line: the share right overall and per category, and how often each fault was found; the wrong
answers are listed on stderr. tests/e2e/test_offline_answers.py runs the same suite and holds the issue's bar
(90% overall, every category at 80% or more); tests/e2e/offline_runner.py says how each answer is judged.

    .venv/bin/python bench/offline_answers.py [--env NAME=VALUE ...]
    .venv/bin/python bench/offline_answers.py --url http://127.0.0.1:8000 --jwt-secret "$(cat .jyntrix/jwt-secret)"
"""

from __future__ import annotations

import argparse
from typing import Any

import httpx
from living_memory import Tokens, bench_main, run_name  # puts the project on sys.path

from tests.e2e.offline_runner import explain, report, run_suite


async def measure(
    client: httpx.AsyncClient, tokens: Tokens, args: argparse.Namespace
) -> tuple[dict[str, Any], list[str]]:
    cases = await run_suite(client, tokens, run_name())
    return report(cases), explain(cases, args.answers)


if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__, measure, lambda parser: None))
