"""The served load benchmark: the real `jyntrix serve` on the embedded default, measured from a client over HTTP.

It starts the server on a fresh data directory (Postgres, Qdrant Edge, bm25s, fastembed, the offline model
with no pacing between its streamed pieces) and measures, through the HTTP API:

- import: memories/s through `POST /api/memories/import` (batches of 1,000) while the corpus is built, and
  turns/s through the transcript import `POST /api/chat/conversations/import`;
- at each size (memories of one user, among other users' memories: a tenth as many again, over 20 users):
  search p50/p95, search p95 while writes keep arriving for that user, time to first token of one
  chat stream at a time, and the server's RSS;
- a burst of concurrent chat streams (200 users, one turn each): turns/s, TTFT p50/p95, errors, and where
  the time went per phase (from each user's `/api/v1/analytics/latency` and each `done` event);
- open-loop sustained load (turns started on a schedule, never waiting for answers) at several offered
  rates: achieved rate and TTFT p50/p95.

Every search and chat turn's per-strategy outcomes are read; any `timeout` fails the run (exit status 1).
Prints JSON, writes bench/out/serve_load.json and two PNG plots beside it.

    .venv/bin/python bench/serve_load.py [--sizes 1000,10000,100000] [--quick] [--data-dir DIR] [--env K=V ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: the project's test support is beside bench/
sys.path.insert(0, str(Path(__file__).parent))

import load_client as lc  # noqa: E402
from load_plots import plot_loads, plot_sizes  # noqa: E402
from load_server import analytics_phases, cpu_per_turn, cpu_seconds, rss_mb, scrape_metrics, settle, start_server  # noqa: E402
from synthetic_text import queries, questions, sentences  # noqa: E402

OUT = Path(__file__).parent / "out"
OTHER_USERS = 20
IMPORT_BATCH = 1000

QUICK = {"sizes": "200,1000", "queries": 20, "turns": 5, "burst": 20, "loads": "10,20", "sustain_s": 4.0}
FULL = {"sizes": "1000,10000,100000", "queries": 200, "turns": 30, "burst": 200, "loads": "25,50,100,150"}


class Texts:
    """Seeded synthetic memories, queries and chat questions (bench/synthetic_text.py)."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def memories(self, n: int) -> list[str]:
        return sentences(self.rng, n)

    def queries(self, n: int) -> list[str]:
        return queries(self.rng, n)

    def questions(self, n: int) -> list[str]:
        return questions(self.rng, n)


class Bench:
    def __init__(
        self, args: argparse.Namespace, client: httpx.AsyncClient, secret: str, pid: int, data_dir: Path
    ) -> None:
        from jyntrix_http.auth import mint_token

        self.args, self.client, self.pid, self.data_dir = args, client, pid, data_dir
        self.endpoint = lc.Endpoint.of(str(client.base_url))
        self.texts = Texts(args.seed)
        self.run = f"{int(time.time())}"
        self.headers = lambda user: {"Authorization": f"Bearer {mint_token(secret, user, hours=12)}"}
        self.target = self.headers(f"load-{self.run}-target")
        self.others = [self.headers(f"load-{self.run}-other{i:02d}") for i in range(OTHER_USERS)]
        self.outcomes = lc.Outcomes()  # of every search
        self.chat_outcomes = lc.Outcomes()  # of every chat turn's retrieval
        self.imported = {"memories": 0, "seconds": 0.0}

    def rss_mb(self) -> dict[str, float]:
        return rss_mb(self.pid, self.data_dir)

    async def settle(self) -> float:
        return await settle(self.pid, self.data_dir)

    async def grow(self, size: int, have: int) -> dict[str, Any]:
        """Import the target user's memories up to `size`, and a tenth as many again over the other users."""
        target_n = size - have
        other_n = max(OTHER_USERS, target_n // 10)
        progress = lc.Progress(f"import to {size:,}", target_n + other_n)
        seconds = await lc.import_memories(
            self.client, self.target, self.texts.memories(target_n), IMPORT_BATCH, progress
        )
        texts = self.texts.memories(other_n)
        share = -(-other_n // OTHER_USERS)
        for i, headers in enumerate(self.others):
            seconds += await lc.import_memories(
                self.client, headers, texts[i * share : (i + 1) * share], IMPORT_BATCH, progress
            )
        self.imported["memories"] += target_n + other_n
        self.imported["seconds"] += seconds
        return {
            "memories": target_n + other_n,
            "seconds": round(seconds, 2),
            "memories_per_s": round((target_n + other_n) / seconds, 1),
        }

    async def at_size(self, size: int, have: int) -> dict[str, Any]:
        lc.log(f"size {size:,}: importing")
        imported = await self.grow(size, have)
        await self.settle()
        queries = self.texts.queries(self.args.queries)
        await lc.searches(self.client, self.target, self.texts.queries(5), self.outcomes)  # warm-up
        lc.log(f"size {size:,}: {len(queries)} searches")
        quiet = await lc.searches(self.client, self.target, queries, self.outcomes)
        lc.log(f"size {size:,}: {len(queries)} searches while writes arrive")
        stop = asyncio.Event()
        writes_to_send = self.texts.memories(10 * len(queries))
        writer = asyncio.create_task(
            lc.steady_writes(self.client, self.target, writes_to_send, self.args.write_rate, stop)
        )
        busy = await lc.searches(self.client, self.target, self.texts.queries(len(queries)), self.outcomes)
        stop.set()
        writes = await writer
        await self.settle()
        lc.log(f"size {size:,}: {self.args.turns} chat turns, one at a time")
        chat = await lc.sequential_turns(
            self.endpoint, self.target, self.texts.questions(self.args.turns), self.chat_outcomes
        )
        return {
            "memories_per_user": size,
            "import": imported,
            "search": lc.summary_ms(quiet),
            "search_with_writes": lc.summary_ms(busy) | writes,
            "chat_one_at_a_time": {k: chat[k] for k in ("completed", "errors", "ttft", "total", "phases_from_done")},
            "rss": self.rss_mb(),
        }

    async def transcripts(self) -> dict[str, Any]:
        users = [self.headers(f"load-{self.run}-transcript{i}") for i in range(self.args.transcripts)]
        lc.log(f"transcript import: {len(users)} calls of {self.args.transcript_turns} turns")
        texts = self.texts.memories(len(users) * self.args.transcript_turns)
        report = await lc.import_transcripts(self.client, users, texts, self.args.transcript_turns)
        await self.settle()
        return report

    async def crowd(self, n: int) -> list[dict[str, str]]:
        """`n` users with a few memories each, the burst's and the sustained load's."""
        users = [self.headers(f"load-{self.run}-crowd{i:03d}") for i in range(n)]
        texts = self.texts.memories(10 * n)
        progress = lc.Progress("crowd memories", len(texts))
        calls = [
            lambda h=h, i=i: lc.import_memories(self.client, h, texts[10 * i : 10 * i + 10], 10, progress)
            for i, h in enumerate(users)
        ]
        await lc.gather_bounded(calls, 4)  # BULK_CONCURRENCY's default
        await self.settle()
        return users

    async def burst(self, users: list[dict[str, str]]) -> dict[str, Any]:
        await lc.sequential_turns(self.endpoint, self.others[0], self.texts.questions(3), self.chat_outcomes)  # warm-up
        await self.settle()
        lc.log(f"burst: {len(users)} streams at once")
        since = datetime.now(UTC)
        cpu = cpu_seconds(self.pid, self.data_dir)
        report = await lc.burst(self.endpoint, users, self.texts.questions(len(users)), self.chat_outcomes)
        report["cpu_per_turn"] = cpu_per_turn(cpu, cpu_seconds(self.pid, self.data_dir), report["completed"])
        report["phases_from_analytics"] = await analytics_phases(self.client, users, since, expected=1)
        report["rss"] = self.rss_mb()
        await self.settle()
        return report

    async def sustained(self, users: list[dict[str, str]], loads: list[float]) -> list[dict[str, Any]]:
        questions = self.texts.questions(997)
        out = []
        for per_s in loads:
            lc.log(f"open loop: {per_s:g} turns/s for {self.args.sustain_s:g} s")
            cpu = cpu_seconds(self.pid, self.data_dir)
            report = await lc.open_loop(
                self.endpoint,
                users,
                lambda k: questions[k % len(questions)],
                per_s,
                self.args.sustain_s,
                self.chat_outcomes,
            )
            report["cpu_per_turn"] = cpu_per_turn(cpu, cpu_seconds(self.pid, self.data_dir), report["completed"])
            lc.log(
                f"  achieved {report['turns_per_s']} turns/s, TTFT p50 {report['ttft']['p50_ms']} ms"
                f" p95 {report['ttft']['p95_ms']} ms, {report['errors']} errors"
            )
            out.append(report)
            await self.settle()
        return out


async def measure(
    args: argparse.Namespace, base_url: str, secret: str, pid: int, data_dir: Path, metrics_url: str | None
) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=300) as client:
        bench = Bench(args, client, secret, pid, data_dir)
        report: dict[str, Any] = {"rss_at_start": bench.rss_mb(), "sizes": []}
        have = 0
        for size in args.sizes:
            report["sizes"].append(await bench.at_size(size, have))
            have = size
        report["metrics_after_sizes"] = await scrape_metrics(metrics_url)
        report["import"] = {
            "memories": bench.imported["memories"],
            "seconds": round(bench.imported["seconds"], 2),
            "memories_per_s": round(bench.imported["memories"] / bench.imported["seconds"], 1)
            if bench.imported["seconds"]
            else None,
            "batch": IMPORT_BATCH,
            "transcript": await bench.transcripts(),
        }
        users = await bench.crowd(args.burst)
        report["burst"] = await bench.burst(users)
        report["metrics_after_burst"] = await scrape_metrics(metrics_url)
        report["sustained"] = await bench.sustained(users, args.loads)
        report["metrics_after_sustained"] = await scrape_metrics(metrics_url)
        report["search_strategy_outcomes"] = bench.outcomes.as_json()
        report["chat_strategy_outcomes"] = bench.chat_outcomes.as_json()
        # What fails the run: a search whose strategy timed out (the keyword index must never make one
        # wait), or a keyword timeout in any chat turn. Other strategies of chat turns under an overload
        # wait for Postgres connections and may time out; each run reports its own.
        report["failing_timeouts"] = bench.outcomes.timeouts + bench.chat_outcomes.timeouts_of("keyword")
        report["rss_at_end"] = bench.rss_mb()
        return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes and short phases: a smoke run")
    parser.add_argument("--sizes", default=None, help="memories of the searching user, comma-separated, ascending")
    parser.add_argument("--queries", type=int, default=None, help="searches per size (and again with writes)")
    parser.add_argument("--turns", type=int, default=None, help="chat turns one at a time, per size")
    parser.add_argument("--burst", type=int, default=None, help="concurrent streams (one user each)")
    parser.add_argument("--loads", default=None, help="offered turns/s of the open-loop runs, comma-separated")
    parser.add_argument("--sustain-s", type=float, default=30.0, help="length of each open-loop run")
    parser.add_argument("--write-rate", type=float, default=10.0, help="memories/s written during the busy searches")
    parser.add_argument("--transcripts", type=int, default=5, help="transcript import calls")
    parser.add_argument("--transcript-turns", type=int, default=200, help="turns per transcript")
    parser.add_argument("--data-dir", type=Path, default=None, help="the server's data directory (must be new)")
    parser.add_argument("--env", action="append", default=[], metavar="K=V", help="a server setting")
    parser.add_argument("--out", type=Path, default=OUT, help="where the JSON and the plots go")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    preset = QUICK if args.quick else FULL
    for key, value in preset.items():
        if key == "sustain_s":
            if args.quick and args.sustain_s == 30.0:
                args.sustain_s = value
        elif getattr(args, key) is None:
            setattr(args, key, value)
    if args.quick and args.transcript_turns == 200:
        args.transcripts, args.transcript_turns = 2, 50
    args.sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]
    args.loads = [float(s) for s in str(args.loads).split(",") if s.strip()]
    if args.sizes != sorted(args.sizes) or any(s < 1 for s in args.sizes):
        parser.error("--sizes must be positive and ascending")
    args.env = dict(item.split("=", 1) for item in args.env)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    secret = secrets.token_urlsafe(48)
    started = time.time()
    load_before = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        if data_dir.exists() and any(data_dir.iterdir()):
            raise SystemExit(f"serve_load: {data_dir} is not empty; the bench needs a fresh data directory")
        server, metrics_url = start_server(data_dir, secret, args.env)
        cold_start_s = server.ready_s
        try:
            assert server.process is not None
            report = asyncio.run(measure(args, server.base_url, secret, server.process.pid, data_dir, metrics_url))
        finally:
            server.stop()
            if args.data_dir is None:
                shutil.rmtree(data_dir, ignore_errors=True)
    report = {
        "command": " ".join([Path(sys.argv[0]).name, *(argv if argv is not None else sys.argv[1:])]),
        "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "wall_s": round(time.time() - started, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "server_env": {k: v for k, v in server.env.items() if k in args.env or k in SERVER_SHOWN},
        "cold_start_s": round(cold_start_s, 2),
        **report,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serve_load.json").write_text(json.dumps(report, indent=2) + "\n")
    plot_sizes(report, args.out / "serve_load_sizes.png")
    plot_loads(report, args.out / "serve_load_loads.png")
    print(json.dumps(report, indent=2))
    if report["failing_timeouts"]:
        lc.log(
            f"FAIL: {report['failing_timeouts']} strategy timeouts: searches {report['search_strategy_outcomes']},"
            f" chat turns {report['chat_strategy_outcomes']}"
        )
        return 1
    return 0


SERVER_SHOWN = ("OFFLINE_LLM_TOKEN_DELAY_S", "RATE_LIMIT_REQUESTS", "LOG_LEVEL", "METRICS_PORT")

if __name__ == "__main__":
    raise SystemExit(main())
