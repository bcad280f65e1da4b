"""The served load benchmark's server side: start `jyntrix serve`, wait for it to go quiet, read its own figures.

The server's figures come from two places: each user's `/api/v1/analytics/latency` (the spans it recorded
for that user's turns) and, when the server exposes one on `METRICS_PORT`, its Prometheus `/metrics`.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

from testsupport.server import Server, free_port, server_env

REPO = Path(__file__).resolve().parents[1]
SETTLE_CPU_PERCENT = 15.0  # of one core, the API process and its Postgres together
SETTLE_TIMEOUT_S = 120.0
ANALYTICS_TIMEOUT_S = 40.0  # the server writes buffered spans at least every ANALYTICS_FLUSH_INTERVAL_S (10 s)


class TimedServer(Server):
    ready_s: float = 0.0

    def start(self) -> None:
        started = time.perf_counter()
        super().start()
        self.ready_s = time.perf_counter() - started


def start_server(data_dir: Path, secret: str, overrides: dict[str, str]) -> tuple[TimedServer, str | None]:
    """`jyntrix serve` on the embedded default with the offline model unpaced; its metrics URL when it has one."""
    from jyntrix_adapters.fastembed.onnx_export import ensure_model

    data_dir.mkdir(parents=True, exist_ok=True)
    port, metrics_port = free_port(), free_port()
    given = overrides.get("EMBEDDING_MODEL_DIR")
    model = Path(given) if given else ensure_model(REPO / ".jyntrix" / "models" / "all-MiniLM-L6-v2")
    settings = {
        "LOG_LEVEL": "WARNING",  # logging a line per request would be part of what is measured
        "RATE_LIMIT_REQUESTS": "100000000",  # the bench is one client sending for many users
        "OFFLINE_LLM_TOKEN_DELAY_S": "0",  # no pacing: the server's own cost, not a model's speed
        "SUPABASE_JWT_SECRET": secret,
        "METRICS_PORT": str(metrics_port),
    } | overrides
    env = server_env(data_dir, port, model, **settings)
    server = TimedServer(base_url=f"http://127.0.0.1:{port}", env=env, log_path=data_dir.parent / "server.log")
    server.start()
    return server, f"http://127.0.0.1:{settings['METRICS_PORT']}/metrics"


def server_processes(pid: int, data_dir: Path) -> list[psutil.Process]:
    """The API process, its children, and the embedded Postgres (started detached, so no child of it)."""
    api = psutil.Process(pid)
    found = {p.pid: p for p in [api, *api.children(recursive=True)]}
    for process in psutil.process_iter(["cmdline"]):
        if str(data_dir) in " ".join(process.info["cmdline"] or ()):
            # the postmaster names the data directory; its backends ("postgres: ...") are its children
            with contextlib.suppress(psutil.NoSuchProcess):
                for found_one in [process, *process.children(recursive=True)]:
                    found.setdefault(found_one.pid, found_one)
    return list(found.values())


def rss_mb(pid: int, data_dir: Path) -> dict[str, float]:
    """Resident memory of the API process, and of it with the embedded Postgres (shared pages counted once each)."""
    own, total = 0, 0
    for process in server_processes(pid, data_dir):
        with contextlib.suppress(psutil.NoSuchProcess):
            rss = process.memory_info().rss
            own += rss if process.pid == pid else 0
            total += rss
    return {"api_mb": round(own / 2**20, 1), "with_postgres_mb": round(total / 2**20, 1)}


def cpu_seconds(pid: int, data_dir: Path) -> dict[str, float]:
    """CPU time used so far by the API process and by the embedded Postgres, and by this (the client) process."""
    api, postgres = 0.0, 0.0
    for process in server_processes(pid, data_dir):
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            busy = times.user + times.system
            if process.pid == pid:
                api += busy
            else:
                postgres += busy
    return {"api": api, "postgres": postgres, "client": time.process_time()}


def cpu_per_turn(before: dict[str, float], after: dict[str, float], turns: int) -> dict[str, float | None]:
    """CPU ms per completed turn in each process: on 2 cores, 2,000 ms/s is all there is.

    None where the figure cannot be known: a Postgres backend that exited meanwhile took its CPU time with it.
    """
    spent = {k: after[k] - before[k] for k in before}
    return {f"{k}_ms": round(v * 1000 / turns, 2) if turns and v >= 0 else None for k, v in spent.items()}


def _tree_cpu(processes: list[psutil.Process]) -> float:
    busy = 0.0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            times = process.cpu_times()
            busy += times.user + times.system
    return busy


async def settle(pid: int, data_dir: Path, window_s: float = 0.5) -> float:
    """Wait until the server (with its Postgres) uses under SETTLE_CPU_PERCENT of a core: background work done.

    Extraction of the turns just sent runs in the API process after them; the next phase should not pay
    for the last one's. Seconds waited (at most SETTLE_TIMEOUT_S).
    """
    processes = server_processes(pid, data_dir)
    started = time.perf_counter()
    while time.perf_counter() - started < SETTLE_TIMEOUT_S:
        before = _tree_cpu(processes)
        await asyncio.sleep(window_s)
        if (_tree_cpu(processes) - before) / window_s * 100 < SETTLE_CPU_PERCENT:
            break
    return time.perf_counter() - started


async def _latency(client: httpx.AsyncClient, headers: dict[str, str], since: datetime) -> dict[str, Any]:
    response = await client.get("/api/v1/analytics/latency", params={"since": since.isoformat()}, headers=headers)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


async def analytics_phases(
    client: httpx.AsyncClient, users: list[dict[str, str]], since: datetime, expected: int
) -> dict[str, Any]:
    """Per phase and per strategy, p50/p95 over the users' turns as the server recorded them.

    Each user had `expected` turns since `since`; waits (bounded) until their spans are written.
    A user's figure is its mean over its turns (its only one in a burst).
    """
    from load_client import summary_ms

    deadline = time.monotonic() + ANALYTICS_TIMEOUT_S
    gate = asyncio.Semaphore(16)

    async def one(headers: dict[str, str]) -> dict[str, Any]:
        async with gate:
            while True:
                report = await _latency(client, headers, since)
                streamed = [p for p in report["phases"] if p["name"] == "llm_streaming"]
                if (streamed and streamed[0]["count"] >= expected) or time.monotonic() > deadline:
                    return report
                await asyncio.sleep(1.0)

    reports = await asyncio.gather(*(one(h) for h in users))
    grouped: dict[str, dict[str, list[float]]] = {"phases": {}, "strategies": {}}
    timeouts = 0
    for report in reports:
        for kind in ("phases", "strategies"):
            for stats in report[kind]:
                grouped[kind].setdefault(stats["name"], []).append(stats["mean_ms"] / 1000.0)
                timeouts += stats["timeouts"]
    return {
        "users": len(users),
        "users_reported": sum(1 for r in reports if r["phases"]),
        "timeouts": timeouts,
        **{kind: {name: summary_ms(v) for name, v in sorted(g.items())} for kind, g in grouped.items()},
    }


def parse_metrics(text: str) -> dict[str, float]:
    """Prometheus text format: every sample but histogram buckets, `name{labels}` to value."""
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        name = key.split("{", 1)[0]
        if name.endswith(("_bucket", "_created")):
            continue
        try:
            samples[key] = float(value)
        except ValueError:
            continue
    return samples


async def scrape_metrics(url: str | None) -> dict[str, float] | None:
    """The server's /metrics, or None when it serves none (a server without the metrics port)."""
    if url is None:
        return None
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(url)
    except httpx.HTTPError:
        return None
    return parse_metrics(response.text) if response.status_code == 200 else None
