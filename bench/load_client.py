"""The served load benchmark's client side: imports, searches, chat streams and arrival schedules over HTTP.

Everything here talks to a running `jyntrix serve` through an httpx.AsyncClient and measures what a
client sees. Loops are bounded in count and in time; nothing leaves loopback.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import numpy as np

# A turn that waits longer than this is an error of the run, not a latency sample.
TURN_TIMEOUT_S = 120.0
# Open-loop arrivals beyond this many turns in flight are shed (counted), so a saturated server cannot
# make the client grow without bound.
MAX_IN_FLIGHT = 2000


def log(message: str) -> None:
    print(f"[serve_load] {message}", file=sys.stderr, flush=True)


class Progress:
    """A progress line on stderr at each tenth of `total` (and at the end), with the rate so far."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self.started = time.perf_counter()
        self._tenths = 0

    def add(self, n: int = 1) -> None:
        self.done += n
        tenths = min(10, self.done * 10 // self.total)
        if tenths > self._tenths:
            self._tenths = tenths
            elapsed = time.perf_counter() - self.started
            rate = self.done / elapsed if elapsed else 0.0
            log(f"  {self.label}: {self.done:,}/{self.total:,} ({rate:,.0f}/s)")


def summary_ms(samples_s: Sequence[float]) -> dict[str, float | int | None]:
    """p50, p95, p99, mean and max in ms of samples given in seconds; None when there are none."""
    if not samples_s:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "mean_ms": None, "max_ms": None}
    ms = np.asarray(samples_s) * 1000.0
    return {
        "n": len(samples_s),
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "mean_ms": round(float(ms.mean()), 2),
        "max_ms": round(float(ms.max()), 2),
    }


@dataclass
class Outcomes:
    """Each retrieval strategy's outcomes as the responses reported them (`ok`, `error`, `timeout`)."""

    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, strategies: Sequence[dict[str, Any]]) -> None:
        for s in strategies:
            self.counts.setdefault(s["name"], Counter())[s["status"]] += 1

    @property
    def timeouts(self) -> int:
        return sum(c["timeout"] for c in self.counts.values())

    def timeouts_of(self, name: str) -> int:
        return self.counts.get(name, Counter())["timeout"]

    def as_json(self) -> dict[str, dict[str, int]]:
        return {name: dict(sorted(c.items())) for name, c in sorted(self.counts.items())}


async def import_memories(
    client: httpx.AsyncClient, headers: dict[str, str], texts: Sequence[str], batch: int, progress: Progress
) -> float:
    """POST the texts as memories in batches of `batch`, one call at a time; seconds the calls took."""
    started = time.perf_counter()
    base = datetime(2026, 1, 1, tzinfo=UTC)
    for at in range(0, len(texts), batch):
        chunk = texts[at : at + batch]
        body = {
            "memories": [
                {"content": t, "type": "episodic", "created_at": (base + timedelta(minutes=at + i)).isoformat()}
                for i, t in enumerate(chunk)
            ]
        }
        response = await client.post("/api/memories/import", json=body, headers=headers)
        response.raise_for_status()
        progress.add(len(chunk))
    return time.perf_counter() - started


async def import_transcripts(
    client: httpx.AsyncClient, users: Sequence[dict[str, str]], texts: Sequence[str], per_call: int
) -> dict[str, Any]:
    """One transcript of `per_call` user turns per user, the users one after another: turns/s of the calls alone."""
    base = datetime(2026, 2, 1, tzinfo=UTC)
    turns = 0
    started = time.perf_counter()
    for n, headers in enumerate(users):
        chunk = texts[n * per_call : (n + 1) * per_call]
        messages = [
            {"role": "user", "content": t, "created_at": (base + timedelta(minutes=i)).isoformat()}
            for i, t in enumerate(chunk)
        ]
        response = await client.post(
            "/api/chat/conversations/import", json={"title": f"import {n}", "messages": messages}, headers=headers
        )
        response.raise_for_status()
        turns += len(chunk)
    seconds = time.perf_counter() - started
    return {"turns": turns, "calls": len(users), "seconds": round(seconds, 2), "turns_per_s": round(turns / seconds, 1)}


async def search(
    client: httpx.AsyncClient, headers: dict[str, str], query: str, outcomes: Outcomes, limit: int = 20
) -> float:
    started = time.perf_counter()
    response = await client.post("/api/memories/search", json={"query": query, "limit": limit}, headers=headers)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    outcomes.add(response.json()["strategies"])
    return elapsed


async def searches(
    client: httpx.AsyncClient, headers: dict[str, str], queries: Sequence[str], outcomes: Outcomes
) -> list[float]:
    """The queries one at a time, as one user searching; each round trip in seconds."""
    return [await search(client, headers, q, outcomes) for q in queries]


async def steady_writes(
    client: httpx.AsyncClient, headers: dict[str, str], texts: Sequence[str], per_s: float, stop: asyncio.Event
) -> dict[str, Any]:
    """POST /api/memories at `per_s` a second until `stop` is set or the texts run out."""
    written, failed, started = 0, 0, time.perf_counter()
    for text in texts:
        if stop.is_set():
            break
        due = started + written / per_s
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        response = await client.post("/api/memories", json={"content": text, "type": "episodic"}, headers=headers)
        if response.status_code == 201:
            written += 1
        else:
            failed += 1
    elapsed = time.perf_counter() - started
    return {"writes": written, "failed": failed, "writes_per_s": round(written / elapsed, 1) if elapsed else None}


@dataclass
class Turn:
    """One chat turn as the client saw it."""

    ok: bool = False
    status: int = 0
    error: str | None = None
    ttft_s: float | None = None
    total_s: float | None = None
    strategies: list[dict[str, Any]] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Endpoint:
    host: str
    port: int

    @classmethod
    def of(cls, base_url: str) -> Endpoint:
        url = httpx.URL(base_url)
        return cls(url.host, url.port or 80)


def _sse_events(buffer: bytearray) -> list[tuple[str, bytes]]:
    """The complete events at the front of `buffer` (removed from it) as (event, data)."""
    events = []
    while (end := buffer.find(b"\n\n")) >= 0:
        block = bytes(buffer[:end])
        del buffer[: end + 2]
        name, data = "", b""
        for line in block.split(b"\n"):
            if line.startswith(b"event: "):
                name = line[7:].decode()
            elif line.startswith(b"data: "):
                data = line[6:]
        events.append((name, data))
    return events


async def _read_turn(reader: asyncio.StreamReader, turn: Turn, started: float) -> None:
    status = await reader.readline()
    turn.status = int(status.split()[1])
    chunked = False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        chunked |= line.lower().startswith(b"transfer-encoding:") and b"chunked" in line.lower()
    if turn.status != 200:
        turn.error = f"HTTP {turn.status}"
        return
    buffer = bytearray()
    while True:
        if chunked:
            size = int((await reader.readline()).strip() or b"0", 16)
            if size == 0:
                return
            # litestar ends SSE lines with CRLF; a chunk holds whole messages, so CRLFs are never split.
            buffer += (await reader.readexactly(size + 2))[:-2].replace(b"\r\n", b"\n")
        else:
            piece = await reader.read(65536)
            if not piece:
                return
            buffer += piece.replace(b"\r\n", b"\n")
        for name, data in _sse_events(buffer):
            if name == "token" and turn.ttft_s is None:
                turn.ttft_s = time.perf_counter() - started
            elif name == "context":
                turn.strategies = json.loads(data)["strategies"]
            elif name == "done":
                turn.phases = json.loads(data)["phase_timings"]
                turn.ok = True
            elif name == "error":
                turn.error = f"error event: {json.loads(data).get('code')}"


async def chat_turn(endpoint: Endpoint, headers: dict[str, str], text: str) -> Turn:
    """A turn in a new conversation, read as SSE to the end: time to the first `token`, to `done`, and its outcome.

    A plain HTTP/1.1 exchange on its own connection rather than httpx: with hundreds of streams at once
    httpx's connection pool costs the client more CPU than the server spends on a turn, and client and
    server share the machine's cores.
    """
    turn = Turn()
    body = json.dumps({"content": text}).encode()
    request = (
        f"POST /api/chat/messages/stream HTTP/1.1\r\nHost: {endpoint.host}:{endpoint.port}\r\n"
        f"Authorization: {headers['Authorization']}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    started = time.perf_counter()
    writer = None
    try:
        async with asyncio.timeout(TURN_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(endpoint.host, endpoint.port)
            writer.write(request)
            await _read_turn(reader, turn, started)
    except (OSError, TimeoutError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
        turn.error = f"{type(exc).__name__}: {exc}"
    finally:
        if writer is not None:
            writer.close()
    turn.total_s = time.perf_counter() - started
    if not turn.ok and turn.error is None:
        turn.error = "stream ended without done"
    return turn


def turns_report(turns: Sequence[Turn], seconds: float, outcomes: Outcomes) -> dict[str, Any]:
    """TTFT and completion percentiles, errors, the server's phase timings from `done`, strategy outcomes."""
    own = Outcomes()
    for t in turns:
        outcomes.add(t.strategies)
        own.add(t.strategies)
    done = [t for t in turns if t.ok]
    errors = Counter(t.error for t in turns if not t.ok)
    phases: dict[str, list[float]] = {}
    for t in done:
        for name, ms in t.phases.items():
            phases.setdefault(name, []).append(ms / 1000.0)
    return {
        "turns": len(turns),
        "completed": len(done),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors.most_common(5)),
        "seconds": round(seconds, 3),
        "turns_per_s": round(len(done) / seconds, 1) if seconds else None,
        "ttft": summary_ms([t.ttft_s for t in done if t.ttft_s is not None]),
        "total": summary_ms([t.total_s for t in done if t.total_s is not None]),
        "phases_from_done": {name: summary_ms(v) for name, v in phases.items()},
        "strategy_outcomes": own.as_json(),
    }


async def sequential_turns(
    client: Endpoint, headers: dict[str, str], texts: Sequence[str], outcomes: Outcomes
) -> dict[str, Any]:
    """One stream at a time."""
    started = time.perf_counter()
    turns = [await chat_turn(client, headers, t) for t in texts]
    return turns_report(turns, time.perf_counter() - started, outcomes)


async def burst(
    client: Endpoint | Sequence[Endpoint], users: Sequence[dict[str, str]], texts: Sequence[str], outcomes: Outcomes
) -> dict[str, Any]:
    """One turn per user, all started at once; turns/s counts from the start until the last one is done.

    Given several endpoints (API processes), the turns go to them in turn.
    """
    apis = [client] if isinstance(client, Endpoint) else list(client)
    started = time.perf_counter()
    pairs = enumerate(zip(users, texts, strict=True))
    turns = await asyncio.gather(*(chat_turn(apis[n % len(apis)], h, t) for n, (h, t) in pairs))
    return turns_report(turns, time.perf_counter() - started, outcomes)


async def open_loop(
    client: Endpoint | Sequence[Endpoint],
    users: Sequence[dict[str, str]],
    texts: Callable[[int], str],
    per_s: float,
    duration_s: float,
    outcomes: Outcomes,
) -> dict[str, Any]:
    """Turns started on a fixed schedule (`per_s` a second for `duration_s`), whether or not earlier ones finished.

    The achieved rate counts the turns completed from the first arrival until the last one is done.
    """
    apis = [client] if isinstance(client, Endpoint) else list(client)
    planned = int(per_s * duration_s)
    tasks: list[asyncio.Task[Turn]] = []
    in_flight: set[asyncio.Task[Turn]] = set()
    shed = 0
    lateness: list[float] = []
    started = time.perf_counter()
    for k in range(planned):
        due = started + k / per_s
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            lateness.append(-delay)
        if len(in_flight) >= MAX_IN_FLIGHT:
            shed += 1
            continue
        task = asyncio.create_task(chat_turn(apis[k % len(apis)], users[k % len(users)], texts(k)))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        tasks.append(task)
    turns = list(await asyncio.gather(*tasks))
    report = turns_report(turns, time.perf_counter() - started, outcomes)
    report |= {
        "offered_per_s": per_s,
        "duration_s": duration_s,
        "planned": planned,
        "shed": shed,
        # How far behind its schedule the client itself fell (a busy client would understate the load).
        "client_late_p95_ms": summary_ms(lateness)["p95_ms"] if lateness else 0.0,
    }
    return report


async def gather_bounded(calls: Sequence[Callable[[], Awaitable[Any]]], limit: int) -> list[Any]:
    """Run the calls at most `limit` at a time; their results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await call()

    return list(await asyncio.gather(*(one(c) for c in calls)))
