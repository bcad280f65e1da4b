"""The living-memory suite (issue 21): stories of users changing their minds, told to a real server, then asked.

Nina's story (the issue's) and five more (tests/e2e/living_stories.py) are told conversation by conversation
through `POST /api/chat/.../messages/stream`, waiting after each until extraction has settled; each question is
then asked in a new conversation. It prints one JSON line: answers right (overall, per story, and for questions
about a change), stale values placed in a context unmarked, the user's questions listed as memories (and placed
in a context), and duplicate memories. What went wrong is listed on stderr. The same runner is the test
tests/e2e/test_living_memory.py (tests/e2e/story_runner.py says how each figure is judged).

By default it starts `jyntrix serve` on the embedded default (no model key) in a fresh data directory; with
`--url` it talks to a server already running, minting tokens with that server's JWT secret.

    .venv/bin/python bench/living_memory.py [--stories nina,omar] [--env NAME=VALUE ...]
    .venv/bin/python bench/living_memory.py --url http://127.0.0.1:8000 --jwt-secret "$(cat .jyntrix/jwt-secret)"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: the stories and their runner are the end-to-end test's

from tests.e2e.living_stories import STORIES  # noqa: E402
from tests.e2e.story_runner import explain, report, run_story  # noqa: E402
from testsupport.server import Server, free_port, server_env  # noqa: E402

Tokens = Callable[[str], dict[str, str]]


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="a running server (else one is started on the embedded default)")
    parser.add_argument("--jwt-secret", help="with --url: the server's SUPABASE_JWT_SECRET, to mint tokens")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="a setting of the server")


@contextmanager
def served(args: argparse.Namespace) -> Iterator[tuple[str, Tokens, dict[str, Any]]]:
    """The server to measure (`--url`, or one started here and stopped after), a token for a user, and what
    the JSON says of the server."""
    if args.url:
        if not args.jwt_secret:
            raise SystemExit("--url needs --jwt-secret")
        from jyntrix_http.auth import mint_token

        def minted(user: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {mint_token(args.jwt_secret, user)}"}

        yield args.url, minted, {"server": args.url}
        return
    overrides = dict(item.split("=", 1) for item in args.env)
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "data", overrides)
        try:
            yield server.base_url, server.token, {"server": "embedded default", "server_env": overrides}
        finally:
            server.stop()


def start_server(data_dir: Path, overrides: dict[str, str]) -> Server:
    """`jyntrix serve` on the embedded default, its data in `data_dir`, started and ready."""
    from jyntrix_adapters.fastembed.onnx_export import ensure_model

    port = free_port()
    model = ensure_model(REPO / ".jyntrix" / "models" / "all-MiniLM-L6-v2")
    settings = {"LOG_LEVEL": "WARNING", "RATE_LIMIT_REQUESTS": "100000", "OFFLINE_LLM_TOKEN_DELAY_S": "0"}
    env = server_env(data_dir, port, model, **(settings | overrides))
    server = Server(base_url=f"http://127.0.0.1:{port}", env=env, log_path=data_dir.parent / "server.log")
    server.start()
    return server


def run_name() -> str:
    """Names this run's users, so that a rerun against the same server starts from nothing."""
    return time.strftime("%Y%m%dT%H%M%S")


# What a suite measures, given a client of the server, tokens and the command line: its figures, and the lines
# that say what went wrong (or every answer, with --answers).
Measure = Callable[[httpx.AsyncClient, Tokens, argparse.Namespace], Awaitable[tuple[dict[str, Any], list[str]]]]


def bench_main(description: str | None, measure: Measure, arguments: Callable[[argparse.ArgumentParser], None]) -> int:
    """A suite's command: the server to measure, the figures as one JSON line on stdout, the faults on stderr."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_server_arguments(parser)
    parser.add_argument("--answers", action="store_true", help="list every answer on stderr, not only the wrong")
    arguments(parser)
    args = parser.parse_args()

    async def measured(base_url: str, tokens: Tokens) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
            figures, lines = await measure(client, tokens, args)
        for line in lines:
            print(line, file=sys.stderr)
        return figures

    with served(args) as (base_url, tokens, server):
        figures = asyncio.run(measured(base_url, tokens))
    print(json.dumps(server | figures))
    return 0


async def measure(
    client: httpx.AsyncClient, tokens: Tokens, args: argparse.Namespace
) -> tuple[dict[str, Any], list[str]]:
    names = set(args.stories.split(",")) if args.stories else None
    run = run_name()
    outcomes = []
    for story in (s for s in STORIES if names is None or s.name in names):
        print(f"living memory: telling {story.name}'s story…", file=sys.stderr)
        outcomes.append(await run_story(client, tokens(f"living-{story.name}-{run}"), story))
    return report(outcomes), explain(outcomes, args.answers)


def story_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stories", help="comma-separated story names (default: every story)")


if __name__ == "__main__":
    raise SystemExit(bench_main(__doc__, measure, story_arguments))
