"""The served load benchmark on the services deployment: several API processes over one Postgres, Redis and a worker.

The same client as bench/serve_load.py (its burst and open-loop runs, and search at one size), against
`--apis` `jyntrix serve` processes sharing a PostgreSQL 18 on a loopback TCP port (pgvector and full-text
search as the indexes), Redis (`REDIS_URL`, default redis://127.0.0.1:6379/7) and one dramatiq worker
(`python -m jyntrix_worker`) that runs the extraction the APIs enqueue. The client sends the turns to the
APIs in turn. CPU per turn adds up every process of the deployment. Writes bench/out/serve_load_services.json.

    .venv/bin/python bench/serve_load_services.py [--apis 2] [--size 10000] [--burst 200] [--loads 50,100]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import psutil

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

import load_client as lc  # noqa: E402
from load_server import analytics_phases  # noqa: E402
from synthetic_text import queries, questions, sentences  # noqa: E402

from testsupport.server import Server, free_port, server_env  # noqa: E402
from testsupport.tcp_postgres import tcp_postgres  # noqa: E402
from testsupport.worker_process import Worker  # noqa: E402

OUT = Path(__file__).parent / "out"


def profile_cpu(pids: list[int], pgdata_marker: str) -> dict[str, float]:
    """CPU seconds of the APIs (and their children), the worker's process group, Postgres, and this client."""
    groups = {"apis_and_worker": 0.0, "postgres": 0.0}
    seen: set[int] = set()
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            root = psutil.Process(pid)
            for p in [root, *root.children(recursive=True)]:
                if p.pid not in seen:
                    seen.add(p.pid)
                    times = p.cpu_times()
                    groups["apis_and_worker"] += times.user + times.system
    for p in psutil.process_iter(["cmdline"]):
        if pgdata_marker in " ".join(p.info["cmdline"] or ()):
            with contextlib.suppress(psutil.NoSuchProcess):
                for q in [p, *p.children(recursive=True)]:
                    if q.pid not in seen:
                        seen.add(q.pid)
                        times = q.cpu_times()
                        groups["postgres"] += times.user + times.system
    return groups | {"client": time.process_time()}


async def measure(args: argparse.Namespace, apis: list[Server], secret: str, cpu: Any) -> dict[str, Any]:
    from jyntrix_http.auth import mint_token

    rng = np.random.default_rng(args.seed)
    run = uuid.uuid4().hex[:8]

    def headers(user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(secret, f'svc-{run}-{user}', hours=12)}"}

    endpoints = [lc.Endpoint.of(a.base_url) for a in apis]
    search_outcomes, chat_outcomes = lc.Outcomes(), lc.Outcomes()
    report: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=apis[0].base_url, timeout=600) as client:
        if args.size:
            target = headers("target")
            lc.log(f"import {args.size:,} memories for one user")
            seconds = await lc.import_memories(
                client, target, sentences(rng, args.size), 1000, lc.Progress("import", args.size)
            )
            await lc.searches(client, target, queries(rng, 5), search_outcomes)
            lc.log(f"{args.queries} searches at {args.size:,}")
            samples = await lc.searches(client, target, queries(rng, args.queries), search_outcomes)
            report["size"] = {
                "memories_per_user": args.size,
                "import_memories_per_s": round(args.size / seconds, 1),
                "search": lc.summary_ms(samples),
            }
        crowd = [headers(f"crowd{i:03d}") for i in range(args.burst)]
        texts = sentences(rng, 10 * args.burst)
        progress = lc.Progress("crowd memories", len(texts))
        await lc.gather_bounded(
            [
                lambda h=h, i=i: lc.import_memories(client, h, texts[10 * i : 10 * i + 10], 10, progress)
                for i, h in enumerate(crowd)
            ],
            4,
        )
        await lc.sequential_turns(endpoints[0], crowd[0], questions(rng, 3), chat_outcomes)  # warm-up
        await asyncio.sleep(args.settle_s)
        lc.log(f"burst: {args.burst} streams at once over {len(apis)} APIs")
        since = datetime.now(UTC)
        before = cpu()
        burst = await lc.burst(endpoints, crowd, questions(rng, args.burst), chat_outcomes)
        burst["cpu_per_turn"] = per_turn(before, cpu(), burst["completed"])
        burst["phases_from_analytics"] = await analytics_phases(client, crowd, since, expected=1)
        report["burst"] = burst
        report["sustained"] = []
        asked = questions(rng, 997)
        for per_s in args.loads:
            await asyncio.sleep(args.settle_s)
            lc.log(f"open loop: {per_s:g} turns/s for {args.sustain_s:g} s")
            before = cpu()
            run_report = await lc.open_loop(
                endpoints, crowd, lambda k: asked[k % len(asked)], per_s, args.sustain_s, chat_outcomes
            )
            run_report["cpu_per_turn"] = per_turn(before, cpu(), run_report["completed"])
            lc.log(f"  achieved {run_report['turns_per_s']} turns/s, TTFT p95 {run_report['ttft']['p95_ms']} ms")
            report["sustained"].append(run_report)
    report["search_strategy_outcomes"] = search_outcomes.as_json()
    report["chat_strategy_outcomes"] = chat_outcomes.as_json()
    return report


def per_turn(before: dict[str, float], after: dict[str, float], turns: int) -> dict[str, float | None]:
    return {f"{k}_ms": round((after[k] - before[k]) * 1000 / turns, 2) if turns else None for k in before}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--apis", type=int, default=2)
    parser.add_argument("--size", type=int, default=10_000, help="memories of the searching user (0: no search)")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--loads", default="50,100")
    parser.add_argument("--sustain-s", type=float, default=30.0)
    parser.add_argument("--settle-s", type=float, default=10.0, help="pause before each run (the worker catches up)")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7"))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    args.loads = [float(x) for x in args.loads.split(",") if x.strip()]
    from jyntrix_adapters.fastembed.onnx_export import ensure_model

    model = ensure_model(REPO / ".jyntrix" / "models" / "all-MiniLM-L6-v2")
    secret = secrets.token_urlsafe(48)
    load_before = [round(x, 2) for x in os.getloadavg()]
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="serve-load-services-") as tmp, tcp_postgres() as dsn:
        shared = {
            "DATABASE_URL": dsn,
            "REDIS_URL": args.redis_url,
            "VECTOR_INDEX": "pgvector",
            "KEYWORD_INDEX": "postgres",
            "TASK_RUNNER": "dramatiq",
            "SUPABASE_JWT_SECRET": secret,
            "JYNTRIX_WORKER_NAMESPACE": f"serve-load-{uuid.uuid4().hex[:8]}",
            "RATE_LIMIT_REQUESTS": "100000000",
            "OFFLINE_LLM_TOKEN_DELAY_S": "0",
            "LOG_LEVEL": "WARNING",
            "JYNTRIX_WORKER_DAILY_PURGE": "false",
        }
        root = Path(tmp)
        apis = []
        for n in range(args.apis):
            port = free_port()
            env = server_env(root / f"api-{n}", port, model, **shared)
            apis.append(Server(base_url=f"http://127.0.0.1:{port}", env=env, log_path=root / f"api-{n}.log"))
        worker = Worker(server_env(root / "worker", free_port(), model, **shared), root / "worker.log")
        try:
            with ThreadPoolExecutor(max_workers=len(apis)) as pool:
                list(pool.map(Server.start, apis))
            pids = [a.process.pid for a in apis if a.process is not None] + [worker.process.pid]
            marker = dsn.rsplit(":", 1)[-1].split("/")[0]  # the TCP port on Postgres's command line

            def cpu() -> dict[str, float]:
                return profile_cpu(pids, f"-p {marker}")

            report = asyncio.run(measure(args, apis, secret, cpu))
        finally:
            for api in apis:
                if api.process is not None:
                    api.stop()
            worker.stop()
    report = {
        "command": " ".join(["serve_load_services.py", *sys.argv[1:]]),
        "started": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "deployment": {
            "apis": args.apis,
            "worker": 1,
            "indexes": "pgvector + postgres full-text",
            "redis": args.redis_url,
        },
        "machine": {"cpus": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / 2**30, 1)},
        "load_average_before": load_before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        **report,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "serve_load_services.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    timeouts = sum(c.get("timeout", 0) for c in report["search_strategy_outcomes"].values())
    return 1 if timeouts else 0


if __name__ == "__main__":
    raise SystemExit(main())
