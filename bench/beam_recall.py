"""Evidence recall@k on BEAM's 500K track through a running server's transcript route, beside in-process baselines.

Jyntrix: the bench starts `jyntrix serve` on the embedded default (Postgres, Qdrant Edge, bm25s, fastembed)
with a fresh data directory. Each chat is one user; each of its sessions (a BEAM batch) goes to
`POST /api/chat/conversations/import` as one transcript: the messages in order, roles user and assistant as
the data gives them, every message dated with its session's date, the BEAM message id as the client id
(`bench/beam_data.py` says how the layout is read). The bench waits until extraction has finished, then
sends every question that has evidence to `POST /api/memories/search` (limit 20) and maps each result to
the BEAM messages its `source_message_ids` name.

Baselines, in the same run over the very same messages (`bench/recall_baselines.py`): BM25 (bm25s over the
project's keyword tokens, the keyword index's k1 and b), dense (the server's all-MiniLM-L6-v2 through the
project's FastEmbedder, run in this process) and their reciprocal-rank fusion (k=60), each over the user
turns only (`*_user`) and over all turns (`*_all`, user and assistant).

Scores: turn recall@k is the share of a question's evidence messages among those the top k cite; session
recall@k the share of the sessions those evidence messages were said in among the sessions of the messages
the top k cite. A result counts for at most one evidence item, and a memory citing more than 3 messages for
none (`bench/evidence_recall.py`). Averaged over questions, overall and by question type, at 5, 10 and 20.
Until assistant messages are searchable turns, Jyntrix cannot find evidence said by the assistant:
`evidence.user_turn_ceiling` is the turn recall a system that finds every user turn would reach.
Research data in ../shared, never copied here.

    .venv/bin/python bench/beam_recall.py [--data ../shared/data/beam-dev] [--chats N | --chat NAME ...]
        [--questions-per-chat N]
        [--env NAME=VALUE ...]  a server setting, e.g. --env RANK_FORMULA=seed
        [--data-dir DIR]        keep (and reuse) the server's data and the baselines' vectors: a later run
                                with the same chats skips the import and the embedding
        [--pool 100] [--pool-out beam_pool.json]
                                also write each question's top results with their signals, for choosing weights
                                with `bench/locomo_grid.py` over BEAM and LoCoMo together

`--chats N` takes the first N chats by number, `--chat 7 --chat 21` those chats; `--questions-per-chat N` the
first N questions of a chat taken across its categories in turn (9 gives one of each type). The cost is the
embedding: the server embeds each user turn (about 540 a chat), the bench every turn (about 1,090), and
BEAM's messages are long (MiniLM reads up to 256 tokens of each). On 2 cores shared with other work (load
average 12 to 14) a chat took 8 to 11 minutes, so the whole split takes hours; the questions cost little,
and `--chats` is the knob for a quick run. It prints one JSON line:

    {"benchmark": "beam-recall", "chats": [...], "questions": 629, "server_env": {...}, "load_average": [...],
     "evidence": {"messages", "in_assistant_turns", "share_in_assistant_turns", "questions_with_assistant_evidence",
                  "questions_only_assistant_evidence", "user_turn_ceiling": {"recall@5", ...}},
     "systems": {"jyntrix" | "bm25_user" | "dense_user" | "rrf_user" | "bm25_all" | "dense_all" | "rrf_all":
                 {"turn": {"recall@5", "recall@10", "recall@20"}, "session": {...},
                  "by_type": {type: {"questions", "turn": {...}, "session": {...}}}}},
     "timing": {"import_s", "import_messages_per_s", "extraction_wait_s", "memories_per_user_turn",
                "search_p50_ms", "search_p95_ms", "embed_s", "embedded_texts", "baseline_search_ms_per_question",
                "wall_s"},
     "per_chat": {chat: {"messages", "user_turns", "questions", "memories", "truncated", "jyntrix_turn@10",
                         "rrf_user_turn@10", "rrf_all_turn@10"}}}
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from statistics import mean
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).parent))

from beam_data import Chat, Question, load_chats  # noqa: E402
from evidence_recall import recall  # noqa: E402
from locomo_recall import KS, import_once, start_server  # noqa: E402
from recall_baselines import Baselines  # noqa: E402

from jyntrix_adapters.fastembed.embedder import FastEmbedder  # noqa: E402
from jyntrix_adapters.fastembed.onnx_export import ensure_model  # noqa: E402
from jyntrix_domain.ports import Embedder  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "data" / "beam-dev"
SCOPES = ("user", "all")
BASELINES = ("bm25", "dense", "rrf")
SYSTEMS = ("jyntrix", *(f"{b}_{s}" for s in SCOPES for b in BASELINES))

Cites = list[list[str | None]]  # per result, the BEAM message ids it cites (None: not one of the chat's)


def transcripts(chat: Chat) -> list[dict[str, Any]]:
    """The import route's bodies: one transcript per session, each message dated with its session."""
    return [
        {
            "title": f"session {s.number}",
            "messages": [
                {"role": t.role, "content": t.content, "created_at": s.at.isoformat(), "id": t.id} for t in s.turns
            ],
        }
        for s in chat.sessions
        if s.turns
    ]


def asked(chat: Chat, per_chat: int | None) -> list[Question]:
    """The chat's questions with evidence, the first `per_chat` taken across the categories in turn."""
    order = {c: n for n, c in enumerate(dict.fromkeys(q.category for q in chat.questions))}
    return sorted(chat.questions, key=lambda q: (q.rank, order[q.category]))[:per_chat]


def search(
    client: httpx.Client, headers: dict[str, str], questions: Sequence[Question], turn_of: dict[str, str], pool: int = 0
) -> tuple[list[Cites], list[float], list[dict[str, Any]]]:
    """Each question's top results through the search route, as the messages they cite; the latencies; and with
    `pool`, each question's top `pool` results with their signals, in `bench/locomo_grid.py`'s pool layout."""
    client.post("/api/memories/search", json={"query": "warm up", "limit": max(KS)}, headers=headers)
    cites, latencies, pooled = [], [], []
    for q in questions:
        started = time.perf_counter()
        response = client.post("/api/memories/search", json={"query": q.text, "limit": max(KS)}, headers=headers)
        latencies.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        results = response.json()["results"]
        cites.append([[turn_of.get(s) for s in r["memory"]["source_message_ids"]] for r in results])
        if pool:
            big = client.post("/api/memories/search", json={"query": q.text, "limit": pool}, headers=headers)
            big.raise_for_status()
            pooled.append(
                {
                    "question": q.text,
                    "category": q.category,
                    "evidence": sorted(q.evidence),
                    "pool": [
                        {
                            "dia_ids": [turn_of.get(s) for s in r["memory"]["source_message_ids"]],
                            "signals": r["scores"]["signals"],
                            "role": (r["memory"].get("place") or {}).get("role"),
                        }
                        for r in big.json()["results"]
                    ],
                }
            )
    return cites, latencies, pooled


def _digest(texts: Sequence[str]) -> str:
    return hashlib.sha256("\x1e".join(texts).encode()).hexdigest()


def holds(cache: Path, texts: Sequence[str]) -> bool:
    """Whether `cache` (a .npy file) holds the vectors of exactly these texts."""
    stamp = cache.with_suffix(".sha256")
    return cache.exists() and stamp.exists() and stamp.read_text() == _digest(texts)


def embed(embedder: Embedder, texts: Sequence[str], cache: Path | None) -> npt.NDArray[np.float32]:
    """Unit vectors of `texts`, from `cache` when it `holds` them, else embedded (and kept there)."""
    if cache is not None and holds(cache, texts):
        cached: npt.NDArray[np.float32] = np.load(cache)
        return cached
    vectors = np.asarray(asyncio.run(embedder.embed(list(texts))), dtype=np.float32).reshape(len(texts), -1)
    if cache is not None:
        np.save(cache, vectors)
        cache.with_suffix(".sha256").write_text(_digest(texts))
    return vectors


def baseline_cites(
    chat: Chat, questions: Sequence[Question], vectors: npt.NDArray[np.float32], queries: npt.NDArray[np.float32]
) -> dict[str, list[Cites]]:
    """Every baseline's top results for each question, as the messages they are; `vectors` are the chat's turns'."""
    turns = chat.turns()
    scopes = {"user": [i for i, t in enumerate(turns) if t.role == "user"], "all": list(range(len(turns)))}
    out: dict[str, list[Cites]] = {}
    for scope, rows in scopes.items():
        baselines = Baselines([turns[i].content for i in rows], vectors[rows])
        for n, q in enumerate(questions):
            for name, ranked in baselines.rank(q.text, queries[n], max(KS)).items():
                out.setdefault(f"{name}_{scope}", []).append([[turns[rows[i]].id] for i in ranked])
    return out


def scored(chat: Chat, questions: Sequence[Question], cites: Sequence[Cites]) -> list[dict[str, Any]]:
    """Per question: its type and turn and session recall at each k."""
    session_of = {t.id: t.session for t in chat.turns()}
    out = []
    for q, found in zip(questions, cites, strict=True):
        sessions = [[session_of.get(c) if c is not None else None for c in cited] for cited in found]
        evidence_sessions = {session_of[e] for e in q.evidence if e in session_of}
        out.append(
            {
                "type": q.category,
                **{f"turn@{k}": recall(found, q.evidence, k) for k in KS},
                **{f"session@{k}": recall(sessions, evidence_sessions, k) for k in KS},
            }
        )
    return out


def summary(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Mean turn and session recall at each k, overall and by question type."""

    def means(part: Sequence[dict[str, Any]]) -> dict[str, Any]:
        return {
            level: {f"recall@{k}": round(mean(r[f"{level}@{k}"] for r in part), 4) for k in KS}
            for level in ("turn", "session")
        }

    types = sorted({r["type"] for r in rows})
    by_type = {}
    for t in types:
        part = [r for r in rows if r["type"] == t]
        by_type[t] = {"questions": len(part), **means(part)}
    return {**means(rows), "by_type": by_type}


def evidence(chats: Sequence[tuple[Chat, Sequence[Question]]]) -> dict[str, Any]:
    """Where the asked questions' evidence was said, and the turn recall finding every user turn would reach."""
    per_question = []
    for chat, questions in chats:
        role_of = {t.id: t.role for t in chat.turns()}
        for q in questions:
            said = [role_of.get(e) for e in q.evidence]
            per_question.append((len(said), said.count("assistant")))
    messages = sum(n for n, _ in per_question)
    by_assistant = sum(a for _, a in per_question)
    return {
        "messages": messages,
        "in_assistant_turns": by_assistant,
        "share_in_assistant_turns": round(by_assistant / messages, 4) if messages else None,
        "questions_with_assistant_evidence": sum(a > 0 for _, a in per_question),
        "questions_only_assistant_evidence": sum(a == n for n, a in per_question),
        # A result credits one evidence message at most, so k results find at most k of them.
        "user_turn_ceiling": {f"recall@{k}": round(mean(min(k, n - a) / n for n, a in per_question), 4) for k in KS}
        if per_question
        else {},
    }


def evaluate(
    client: httpx.Client,
    headers: dict[str, str],
    chat: Chat,
    questions: Sequence[Question],
    imported: dict[str, str] | None,
    embedder: Embedder,
    vector_cache: Path | None,
    pool: int = 0,
) -> dict[str, Any]:
    """One chat: imported (unless `imported`, an earlier run's message id -> BEAM id), searched, and baselined."""
    turn_of, import_s, extraction_s, memories = import_once(client, headers, transcripts(chat), imported)
    jyntrix, latencies, pooled = search(client, headers, questions, turn_of, pool)

    turns = chat.turns()
    texts = [t.content for t in turns]
    cached = vector_cache is not None and holds(vector_cache, texts)
    started = time.perf_counter()
    vectors = embed(embedder, texts, vector_cache)
    queries = embed(embedder, [q.text for q in questions], None)
    embed_s = time.perf_counter() - started
    started = time.perf_counter()
    cites = {"jyntrix": jyntrix} | baseline_cites(chat, questions, vectors, queries)
    baseline_s = time.perf_counter() - started
    return {
        "turn_of": turn_of,
        "messages": len(turns),
        "user_turns": sum(t.role == "user" for t in turns),
        "questions": len(questions),
        "memories": memories,
        "truncated": chat.truncated,
        "import_s": import_s,
        "extraction_wait_s": extraction_s,
        "latencies": latencies,
        "embed_s": embed_s,
        "embedded_texts": len(questions) + (0 if cached else len(turns)),
        "baseline_s": baseline_s,
        "rows": {system: scored(chat, questions, cites[system]) for system in SYSTEMS},
        "pool": pooled,
    }


def percentile(values: Sequence[float], q: float) -> float | None:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))], 2) if ordered else None


def report(results: dict[str, dict[str, Any]], chats: Sequence[tuple[Chat, Sequence[Question]]]) -> dict[str, Any]:
    every = list(results.values())
    imported = [r for r in every if r["import_s"]]
    import_s = sum(r["import_s"] for r in imported)
    latencies = [x for r in every for x in r["latencies"]]
    user_turns = sum(r["user_turns"] for r in every)
    questions = sum(r["questions"] for r in every)
    return {
        "chats": list(results),
        "questions": questions,
        "evidence": evidence(chats),
        "systems": {s: summary([row for r in every for row in r["rows"][s]]) for s in SYSTEMS},
        "timing": {
            "import_s": round(import_s, 2),
            "import_messages_per_s": round(sum(r["messages"] for r in imported) / import_s, 1) if imported else None,
            "extraction_wait_s": round(sum(r["extraction_wait_s"] for r in imported), 2),
            "memories_per_user_turn": round(sum(r["memories"] for r in every) / user_turns, 3) if user_turns else None,
            "search_p50_ms": percentile(latencies, 0.50),
            "search_p95_ms": percentile(latencies, 0.95),
            "embed_s": round(sum(r["embed_s"] for r in every), 2),
            "embedded_texts": sum(r["embedded_texts"] for r in every),
            "baseline_search_ms_per_question": round(sum(r["baseline_s"] for r in every) * 1000 / questions, 2)
            if questions
            else None,
        },
        "per_chat": {
            name: {
                **{k: r[k] for k in ("messages", "user_turns", "questions", "memories", "truncated")},
                **{
                    f"{s}_turn@10": round(mean(row["turn@10"] for row in r["rows"][s]), 4) if r["questions"] else None
                    for s in ("jyntrix", "rrf_user", "rrf_all")
                },
            }
            for name, r in results.items()
        },
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--chats", type=int, default=None, help="the first N chats (default: all)")
    parser.add_argument("--chat", action="append", default=[], metavar="NAME", help="this chat (instead of --chats)")
    parser.add_argument("--questions-per-chat", type=int, default=None, help="the first N questions of each chat")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="a server setting")
    parser.add_argument("--data-dir", type=Path, default=None, help="the server's data directory, kept and reused")
    parser.add_argument("--pool", type=int, default=0, help="write each question's top N results with signals")
    parser.add_argument("--pool-out", type=Path, default=Path("beam_pool.json"))
    args = parser.parse_args()
    started = time.perf_counter()
    chats = load_chats(args.data, args.chats, names=set(args.chat) or None)
    if not chats:
        # The data set is research data kept outside the project; without it there is nothing to measure.
        print(f"beam: no BEAM chats under {args.data}; not measured", file=sys.stderr)
        return 0
    overrides = dict(item.split("=", 1) for item in args.env)
    chosen = [(chat, asked(chat, args.questions_per_chat)) for chat in chats]
    model = ensure_model(REPO / ".jyntrix" / "models" / "all-MiniLM-L6-v2")  # the server's (start_server)
    embedder = FastEmbedder(model, build=False)
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir or Path(tmp) / "data"
        data_dir.mkdir(parents=True, exist_ok=True)
        vector_dir = data_dir / "beam-vectors" if args.data_dir else None
        if vector_dir is not None:
            vector_dir.mkdir(exist_ok=True)
        # Each chat's user and message ids, so that a rerun on the same data directory searches them.
        users_file = data_dir / "beam-transcripts.json"
        users = json.loads(users_file.read_text()) if users_file.exists() else {}
        server = start_server(data_dir, overrides)
        try:
            with httpx.Client(base_url=server.base_url, timeout=600) as client:
                for chat, questions in chosen:
                    earlier = users.get(chat.name)
                    print(f"beam {chat.name}: {'querying' if earlier else 'importing and querying'}…", file=sys.stderr)
                    # A user of its own each import: a repeated import would answer the same ids and add nothing.
                    user = earlier["user"] if earlier else f"beam-{chat.name}-{time.time_ns()}"
                    cache = vector_dir / f"{chat.name}.npy" if vector_dir is not None else None
                    imported = earlier["turn_of"] if earlier else None
                    headers = server.token(user)
                    results[chat.name] = evaluate(
                        client, headers, chat, questions, imported, embedder, cache, args.pool
                    )
                    users[chat.name] = {"user": user, "turn_of": results[chat.name].pop("turn_of")}
                    users_file.write_text(json.dumps(users))
        finally:
            server.stop()
    if args.pool:
        args.pool_out.write_text(json.dumps({f"beam-{name}": r.pop("pool") for name, r in results.items()}))
    out = {
        "benchmark": "beam-recall",
        "data": str(args.data),
        "server_env": overrides,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        **report(results, chosen),
    }
    out["timing"]["wall_s"] = round(time.perf_counter() - started, 1)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
