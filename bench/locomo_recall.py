"""Evidence recall@k on the LoCoMo development split, through the HTTP search route of a running server.

Memory-import path: the bench starts `jyntrix serve` on the embedded default (Postgres, Qdrant Edge,
bm25s, fastembed) with a fresh data directory, posts each conversation's turns to
`POST /api/memories/import` as episodic memories of one user ("Speaker: text", created_at from the
session date, the turn's dia_id in metadata), then sends each question of categories 1-4 to
`POST /api/memories/search`. recall@k is the share of a question's evidence turns in the top k,
averaged over questions; latency is the search's round trip as the client sees it.
Research data in ../shared, never copied here. Prints JSON.

Transcript path (`--path transcript`, the issue's ingestion mode): each session goes to
`POST /api/chat/conversations/import` as one transcript (every turn role `user`, the speaker as `name`,
the session date as `created_at`, the dia_id as the client id); the bench waits until every imported
conversation's `extraction` is finished, then searches every question. Each result counts for at most
one evidence turn among those its `source_message_ids` name, and a memory citing more than 3 messages
counts for none (neither a summary nor a window of turns is a shortcut). It also reports the import
rate (turns/s, the import calls alone) and the memories stored per turn (turns, facts and summaries).

    .venv/bin/python bench/locomo_recall.py [--data ../shared/data/locomo-dev] [--env NAME=VALUE ...]
        [--data-dir DIR]   keep (and reuse) the server's data directory: later runs skip the import (both paths)
        [--pool 100]       also write each question's top results with their signals (either path; for
                           fitting weights with bench/locomo_grid.py)
        [--path transcript] ingest through the transcript import route instead (see above)

`--env` passes settings to the server, e.g. `--env RANK_FORMULA=seed` for the seed's formula.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from statistics import mean
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from bench/: the project's test support is beside it

sys.path.insert(0, str(Path(__file__).parent))

from evidence_recall import credited  # noqa: E402

from testsupport.server import Server, free_port, server_env  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "locomo-dev"
KS = (5, 10, 20)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}


def session_date(text: str) -> datetime:
    return datetime.strptime(text, "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def turns(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """The import body's memories: one episodic memory per turn."""
    out = []
    n = 1
    while f"session_{n}" in conversation:
        at = session_date(conversation[f"session_{n}_date_time"]).isoformat()
        for turn in conversation[f"session_{n}"]:
            text = f"{turn['speaker']}: {turn['text']}"
            if turn.get("blip_caption"):
                text += f" [shares a photo: {turn['blip_caption']}]"
            out.append({"content": text, "type": "episodic", "created_at": at, "metadata": {"dia_id": turn["dia_id"]}})
        n += 1
    return out


def sessions(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    """The import route's bodies: one transcript per session, every turn said by a named user."""
    out = []
    n = 1
    while f"session_{n}" in conversation:
        at = session_date(conversation[f"session_{n}_date_time"]).isoformat()
        messages = []
        for turn in conversation[f"session_{n}"]:
            text = turn["text"] + (f" [shares a photo: {turn['blip_caption']}]" if turn.get("blip_caption") else "")
            messages.append(
                {"role": "user", "name": turn["speaker"], "content": text, "created_at": at, "id": turn["dia_id"]}
            )
        if messages:
            out.append({"title": f"session {n}", "messages": messages})
        n += 1
    return out


def wait_for_extraction(client: httpx.Client, headers: dict[str, str], conversation_ids: list[str]) -> float:
    """Seconds until every conversation's extraction has finished."""
    started = time.perf_counter()
    for conversation_id in conversation_ids:
        while True:
            detail = client.get(f"/api/chat/conversations/{conversation_id}?limit=1", headers=headers)
            detail.raise_for_status()
            if detail.json()["extraction"]["finished"]:
                break
            time.sleep(0.5)
    return time.perf_counter() - started


def cited_evidence(results: list[dict[str, Any]], dia_of: dict[str, str], evidence: set[str], k: int) -> set[str]:
    """The evidence turns the top `k` results find (see `evidence_recall`)."""
    return credited([[dia_of.get(s) for s in r["memory"]["source_message_ids"]] for r in results], evidence, k)


def import_transcripts(
    client: httpx.Client, headers: dict[str, str], bodies: list[dict[str, Any]]
) -> tuple[dict[str, str], float, float]:
    """Every body imported as one transcript: message id -> the client's id, import seconds, extraction wait."""
    dia_of: dict[str, str] = {}
    conversation_ids = []
    started = time.perf_counter()
    for body in bodies:
        response = client.post("/api/chat/conversations/import", json=body, headers=headers)
        response.raise_for_status()
        answer = response.json()
        conversation_ids.append(answer["conversation_id"])
        dia_of.update(zip(answer["message_ids"], (m["id"] for m in body["messages"]), strict=True))
    import_s = time.perf_counter() - started
    return dia_of, import_s, wait_for_extraction(client, headers, conversation_ids)


def import_once(
    client: httpx.Client, headers: dict[str, str], bodies: list[dict[str, Any]], imported: dict[str, str] | None
) -> tuple[dict[str, str], float, float, int]:
    """`import_transcripts` unless `imported` (an earlier run's map for this user: nothing is imported then),
    and the memories the user has."""
    if imported is None:
        found, import_s, extraction_s = import_transcripts(client, headers, bodies)
    else:
        found, import_s, extraction_s = imported, 0.0, 0.0
    memories = client.get("/api/memories?limit=1&current_only=false", headers=headers).json()["total"]
    return found, import_s, extraction_s, memories


def ask_each(
    client: httpx.Client,
    headers: dict[str, str],
    asked: list[dict[str, Any]],
    recall: Callable[[list[dict[str, Any]], set[str], int], float],
    pool: int,
    pooled: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    keep_question: bool,
) -> list[dict[str, Any]]:
    """Each question through the search route after one warm-up search: its latency and `recall` at each k.

    With `pool`, also its evidence and its top `pool` results as `pooled` shows them (and the question if
    `keep_question`)."""
    client.post("/api/memories/search", json={"query": "warm up", "limit": max(KS)}, headers=headers)
    per_question = []
    for q in asked:
        t0 = time.perf_counter()
        response = client.post("/api/memories/search", json={"query": q["question"], "limit": max(KS)}, headers=headers)
        latency = (time.perf_counter() - t0) * 1000
        response.raise_for_status()
        results = response.json()["results"]
        evidence = set(q["evidence"])
        entry: dict[str, Any] = {
            "category": q["category"],
            "latency_ms": latency,
            **{f"recall@{k}": recall(results, evidence, k) for k in KS},
        }
        if pool:
            big = client.post("/api/memories/search", json={"query": q["question"], "limit": pool}, headers=headers)
            if keep_question:
                entry["question"] = q["question"]
            entry["evidence"] = sorted(evidence)
            entry["pool"] = [pooled(r) for r in big.json()["results"]]
        per_question.append(entry)
    return per_question


def evaluate_transcripts(
    client: httpx.Client,
    headers: dict[str, str],
    conversation: dict[str, Any],
    imported: dict[str, str] | None,
    pool: int,
) -> dict[str, Any]:
    """`imported` is the message id -> dia_id map of an earlier run's import of this user (then no import)."""
    dia_of, import_s, extraction_s, memories = import_once(client, headers, sessions(conversation), imported)
    asked = questions(conversation)
    per_question = ask_each(
        client,
        headers,
        asked,
        lambda results, evidence, k: len(cited_evidence(results, dia_of, evidence, k)) / len(evidence),
        pool,
        lambda r: {
            "dia_ids": [dia_of.get(s) for s in r["memory"]["source_message_ids"]],
            "kind": r["memory"]["kind"],
            "signals": r["scores"]["signals"],
        },
        keep_question=True,
    )
    n = len(dia_of)
    return {
        "dia_of": dia_of,
        "turns": n,
        "questions": len(asked),
        "ingest_s": round(import_s, 2),
        "import_turns_per_s": round(n / import_s, 1) if import_s else None,
        "extraction_wait_s": round(extraction_s, 2),
        "memories": memories,
        "memories_per_turn": round(memories / n, 3) if n else None,
        "per_question": per_question,
    }


def questions(conversation: dict[str, Any]) -> list[dict[str, Any]]:
    return [q for q in conversation["qa"] if q["category"] in CATEGORIES and q.get("evidence")]


def start_server(data_dir: Path, overrides: dict[str, str]) -> Server:
    """`jyntrix serve` on the embedded default, with its data in `data_dir`, started and ready."""
    from jyntrix_adapters.fastembed.onnx_export import ensure_model

    port = free_port()
    model = ensure_model(REPO / ".jyntrix" / "models" / "all-MiniLM-L6-v2")
    # No rate limit in the way of 383 searches a conversation; quiet logs so that logging costs nothing.
    env = server_env(data_dir, port, model, LOG_LEVEL="WARNING", RATE_LIMIT_REQUESTS="1000000", **overrides)
    server = Server(base_url=f"http://127.0.0.1:{port}", env=env, log_path=data_dir.parent / f"{data_dir.name}.log")
    server.start()
    return server


def evaluate(
    client: httpx.Client, headers: dict[str, str], conversation: dict[str, Any], imported: bool, pool: int
) -> dict[str, Any]:
    rows = turns(conversation)
    ingest_s = 0.0
    if not imported:
        started = time.perf_counter()
        for at in range(0, len(rows), 1000):
            response = client.post("/api/memories/import", json={"memories": rows[at : at + 1000]}, headers=headers)
            response.raise_for_status()
        ingest_s = time.perf_counter() - started
    asked = questions(conversation)
    per_question = ask_each(
        client,
        headers,
        asked,
        lambda results, evidence, k: (
            len(evidence & {r["memory"]["metadata"].get("dia_id") for r in results[:k]}) / len(evidence)
        ),
        pool,
        lambda r: {"dia_id": r["memory"]["metadata"].get("dia_id"), "signals": r["scores"]["signals"]},
        keep_question=False,
    )
    return {"turns": len(rows), "questions": len(asked), "ingest_s": round(ingest_s, 2), "per_question": per_question}


def summary(per_question: list[dict[str, Any]]) -> dict[str, Any]:
    latencies = sorted(q["latency_ms"] for q in per_question)
    by_category = {
        CATEGORIES[c]: round(mean(q["recall@10"] for q in per_question if q["category"] == c), 4)
        for c in sorted({q["category"] for q in per_question})
    }
    return {
        **{f"recall@{k}": round(mean(q[f"recall@{k}"] for q in per_question), 4) for k in KS},
        "recall@10_by_category": by_category,
        "search_p50_ms": round(latencies[len(latencies) // 2], 2),
        "search_p95_ms": round(latencies[int(len(latencies) * 0.95)], 2),
        "questions": len(per_question),
    }


def transcript_totals(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Import rate and memories per turn over every conversation (transcript path only)."""
    if not all("memories" in r for r in results.values()) or not results:
        return {}
    turns = sum(r["turns"] for r in results.values())
    seconds = sum(r["ingest_s"] for r in results.values())
    return {
        "import_turns_per_s": round(turns / seconds, 1) if seconds else None,
        "memories_per_turn": round(sum(r["memories"] for r in results.values()) / turns, 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="a server setting")
    parser.add_argument("--data-dir", type=Path, default=None, help="the server's data directory, kept and reused")
    parser.add_argument("--pool", type=int, default=0, help="write each question's top N results with signals")
    parser.add_argument("--pool-out", type=Path, default=Path("locomo_pool.json"))
    parser.add_argument(
        "--path", choices=("memory-import", "transcript"), default="memory-import", help="how the turns go in"
    )
    args = parser.parse_args()
    files = sorted(args.data.glob("*.json"))
    if not files:
        # The data set is research data kept outside the project; without it there is nothing to measure.
        print(f"locomo: no LoCoMo files under {args.data}; not measured", file=sys.stderr)
        return 0
    overrides = dict(item.split("=", 1) for item in args.env)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        marker = data_dir / "locomo-imported"
        imported = marker.exists() and args.path == "memory-import"
        # The transcript path's users and message ids, so that a rerun on the same data directory searches them.
        users_file = data_dir / "locomo-transcripts.json"
        users = json.loads(users_file.read_text()) if users_file.exists() else {}
        results = {}
        server = start_server(data_dir, overrides)
        try:
            with httpx.Client(base_url=server.base_url, timeout=120) as client:
                for path in files:
                    print(
                        f"locomo {path.stem}: {'querying' if imported else 'importing and querying'}…", file=sys.stderr
                    )
                    conversation = json.loads(path.read_text())
                    if args.path == "transcript":
                        # A user of its own each import: a repeated import would answer the same ids and add nothing.
                        earlier = users.get(path.stem)
                        user = earlier["user"] if earlier else f"locomo-transcript-{path.stem}-{time.time_ns()}"
                        headers = server.token(user)
                        dia_of = earlier["dia_of"] if earlier else None
                        results[path.stem] = evaluate_transcripts(client, headers, conversation, dia_of, args.pool)
                        users[path.stem] = {"user": user, "dia_of": results[path.stem].pop("dia_of")}
                        continue
                    headers = server.token(f"locomo-{path.stem}")
                    results[path.stem] = evaluate(client, headers, conversation, imported, args.pool)
        finally:
            server.stop()
        if args.path == "memory-import":
            marker.touch()
        if users:
            users_file.write_text(json.dumps(users))
    everything = [q for r in results.values() for q in r["per_question"]]
    if args.pool:
        pooled = {stem: r["per_question"] for stem, r in results.items()}
        args.pool_out.write_text(json.dumps(pooled))
    report = {
        "path": args.path,
        "server_env": overrides,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "overall": summary(everything) | transcript_totals(results),
        "conversations": {
            stem: {k: v for k, v in r.items() if k not in ("per_question", "questions")} | summary(r["per_question"])
            for stem, r in results.items()
        },
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
