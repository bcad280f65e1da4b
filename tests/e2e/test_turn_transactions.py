"""A chat turn in a conversation that exists takes at most four Postgres transactions (issue 26).

Counted as the server sees them (testsupport.transactions: every statement each pooled connection sends),
over ten turns of one conversation, on the embedded default (Postgres stores, Qdrant Edge, bm25s) and on
the services profile's indexes in the same Postgres (pgvector, full-text). What is counted is the turn's
own work plus the spans it emits, written in batches as the running service writes them; the extraction a
turn enqueues runs in the worker, and is not the turn's (the queue here keeps it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jyntrix_bootstrap.container import build_services
from jyntrix_bootstrap.settings import load_settings
from jyntrix_domain.chat import ChatService
from jyntrix_domain.chat_events import DoneEvent
from jyntrix_domain.model import new_id
from tests.worker.recording_queue import RecordingQueue
from testsupport.transactions import Transaction, counting_transactions

pytestmark = pytest.mark.slow

MAX_TRANSACTIONS_PER_TURN = 4

# Statements, questions about them, and the kin and entities that send retrieval to the graph.
TURNS = [
    "My sister Anna lives in Lisbon",
    "I work as a nurse at the city hospital",
    "What do you remember about my sister?",
    "I started learning the cello last month",
    "Where does Anna live?",
    "I prefer tea over coffee",
    "What is my job?",
    "We adopted a dog called Rex",
    "Tell me about my hobbies",
    "I moved to Porto in May",
]


async def _turn(chat: ChatService, user: str, conversation_id: str, text: str) -> None:
    events = [e async for e in chat.send_message_stream(user, text, conversation_id, message_id=new_id())]
    assert isinstance(events[-1], DoneEvent), events[-1]


def _shown(transactions: list[Transaction]) -> str:
    return "\n".join(repr(t) for t in transactions)


async def _count(env: dict[str, str]) -> tuple[list[list[Transaction]], list[Transaction]]:
    """The transactions of each turn after the first, and of all of them with their spans written."""
    with counting_transactions() as counter:
        runtime = await build_services(
            load_settings(env, create_local_secret=False), overrides={"tasks": RecordingQueue()}
        )
        try:
            chat = runtime.services.chat
            user = new_id()
            conversation = await chat.start_conversation(user, "counted")
            await _turn(chat, user, conversation.id, "Hello, I like hiking in the mountains")
            await runtime.emitter.flush()
            first = await counter.settled()
            per_turn = []
            for text in TURNS:
                before = await counter.settled()
                await _turn(chat, user, conversation.id, text)
                per_turn.append(counter.since(before)[: await counter.settled() - before])
            await runtime.emitter.flush()
            await counter.settled()
            return per_turn, counter.since(first)
        finally:
            await runtime.aclose()


def _env(tmp_path: Path, model_dir: Path, dsn: str, **more: str) -> dict[str, str]:
    return {
        "DATABASE_URL": dsn,
        "JYNTRIX_DATA_DIR": str(tmp_path),
        "EMBEDDING_MODEL_DIR": str(model_dir),
        "OFFLINE_LLM_TOKEN_DELAY_S": "0",
        **more,
    }


def _check(per_turn: list[list[Transaction]], everything: list[Transaction]) -> None:
    worst = max(per_turn, key=len)
    assert len(worst) <= MAX_TRANSACTIONS_PER_TURN, _shown(worst)
    # Spans included (a batch now and then): still at most four a turn.
    assert len(everything) <= MAX_TRANSACTIONS_PER_TURN * len(TURNS), _shown(everything)
    assert all(t.committed for t in everything), _shown([t for t in everything if not t.committed])


async def test_a_turn_takes_at_most_four_transactions_on_the_embedded_default(
    tmp_path: Path, minilm_model_dir: Path, postgres_dsn: str
) -> None:
    _check(*await _count(_env(tmp_path, minilm_model_dir, postgres_dsn)))


async def test_a_turn_takes_at_most_four_transactions_with_the_indexes_in_postgres(
    tmp_path: Path, minilm_model_dir: Path, embedded_postgres_dsn: str
) -> None:
    env = _env(tmp_path, minilm_model_dir, embedded_postgres_dsn, VECTOR_INDEX="pgvector", KEYWORD_INDEX="postgres")
    _check(*await _count(env))
