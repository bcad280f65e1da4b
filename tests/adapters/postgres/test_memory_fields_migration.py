"""Migration 0002 on a database made by the code before it, and the maintenance role it adds.

The rows below are written with the SQL the adapters ran before 0002 (slot and value in
metadata, relations only in the graph, a session summary marked in metadata, a claimed key),
then 0002 runs and today's adapters read them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from jyntrix_adapters.english.fact_rules import DeterministicExtractor
from jyntrix_adapters.english.language import EnglishLanguage
from jyntrix_adapters.postgres.migrations import load_migrations, migrate
from jyntrix_adapters.postgres.pool import APP_ROLE, MAINTENANCE_ROLE
from jyntrix_adapters.postgres.stores import PostgresStores
from jyntrix_domain.consolidation import Operation
from jyntrix_domain.extraction import ExtractionService
from jyntrix_domain.model import (
    Conversation,
    MemoryFilter,
    MemoryKind,
    MemoryType,
    Message,
    Origin,
    PendingBatch,
    Place,
    Relation,
    Role,
    new_id,
)
from jyntrix_domain.ports import ConversationPorts
from testsupport.clock import ManualClock
from testsupport.memory_services import memory_service
from testsupport.postgres import stores_for

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

# What PostgresMemoryStore.add ran before 0002.
_OLD_INSERT = """
INSERT INTO memories (id, user_id, type, content, reliability, access_count, last_accessed_at, created_at,
                      updated_at, valid_from, valid_until, superseded_by, source_message_ids, entities, metadata)
VALUES ($1, $2, $3, $4, 0.8, 0, NULL, $5, $5, $5, NULL, NULL, $6, $7, $8::jsonb)
"""


@asynccontextmanager
async def as_user(dsn: str, user_id: str) -> AsyncIterator[asyncpg.Connection]:
    """A transaction scoped like the adapters' user_tx (no jsonb codec: JSON goes in as text)."""
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute(
                "SELECT set_config('role', $1, true), set_config('app.user_id', $2, true)", APP_ROLE, user_id
            )
            yield conn
    finally:
        await conn.close()


async def old_memory(
    conn: asyncpg.Connection, user_id: str, content: str, metadata: str, entities: list[str], type: str = "profile"
) -> str:
    memory_id = new_id()
    await conn.execute(_OLD_INSERT, memory_id, user_id, type, content, T0, ["m1"], entities, metadata)
    await conn.execute(
        "INSERT INTO memory_history (user_id, memory_id, kind, content_after) VALUES ($1, $2, 'create', $3)",
        user_id,
        memory_id,
        content,
    )
    return memory_id


async def write_with_todays_code(dsn: str, user_id: str) -> dict[str, str]:
    async with as_user(dsn, user_id) as conn:
        await conn.execute(
            "INSERT INTO conversations (user_id, id, title, created_at, updated_at) VALUES ($1, 'c1', 'chat', $2, $2)",
            user_id,
            T0,
        )
        berlin = await old_memory(
            conn,
            user_id,
            "The user lives in Berlin",
            '{"extracted": true, "extractor": "deterministic", "slot": "location", "value": "Berlin"}',
            ["Berlin"],
        )
        anna = await old_memory(
            conn, user_id, "Anna works at Acme", '{"note": "from a test"}', ["Anna", "Acme"], type="semantic"
        )
        summary = await old_memory(
            conn,
            user_id,
            "Conversation on 2025-03-01. The user lives in Berlin.",
            '{"kind": "session_summary", "conversation_id": "c1", "last_message_id": "m1"}',
            [],
            type="episodic",
        )
        # The graph as PostgresEntityGraph.link left it: keys, not names, and the asserting memory.
        await conn.execute(
            "INSERT INTO entities (user_id, key, name, kind) VALUES"
            " ($1, 'anna', 'Anna', 'person'), ($1, 'acme', 'Acme', 'organisation'), ($1, 'berlin', 'Berlin', 'thing')",
            user_id,
        )
        await conn.execute(
            "INSERT INTO relations (user_id, source, predicate, target, memory_id)"
            " VALUES ($1, 'anna', 'works_at', 'acme', $2), ($1, 'user', 'lives_in', 'berlin', $3)",
            user_id,
            anna,
            berlin,
        )
        await conn.execute(
            "INSERT INTO mentions (user_id, memory_id, entity_key) VALUES ($1, $2, 'anna'), ($1, $2, 'acme')",
            user_id,
            anna,
        )
        await conn.execute("INSERT INTO processed_keys (user_id, key) VALUES ($1, 'extracted:c1:m0')", user_id)
    return {"berlin": berlin, "anna": anna, "summary": summary}


async def test_0002_moves_slot_value_relations_and_summaries_out_of_metadata(fresh_database_dsn: str) -> None:
    first, *rest = load_migrations()
    assert await migrate(fresh_database_dsn, [first]) == [1]
    user = new_id()
    ids = await write_with_todays_code(fresh_database_dsn, user)

    assert await migrate(fresh_database_dsn) == [m.version for m in rest]

    async with stores_for(fresh_database_dsn) as stores:
        berlin = await stores.memories.get(user, ids["berlin"])
        assert berlin is not None
        assert (berlin.kind, berlin.slot, berlin.value) == (MemoryKind.FACT, "location", "Berlin")
        # 0006 moved the system's own data out of the caller's metadata into typed fields.
        assert berlin.metadata == {} and berlin.origin == Origin(extractor="deterministic")
        assert berlin.relations == (Relation(source="user", predicate="lives_in", target="Berlin"),)

        anna = await stores.memories.get(user, ids["anna"])
        assert anna is not None
        assert (anna.kind, anna.slot, anna.value, anna.metadata) == (
            MemoryKind.FACT,
            None,
            None,
            {"note": "from a test"},
        )
        assert anna.relations == (Relation(source="Anna", predicate="works_at", target="Acme"),)

        summary = await stores.memories.get(user, ids["summary"])
        assert summary is not None
        assert summary.kind is MemoryKind.SUMMARY
        assert summary.metadata == {} and summary.place == Place(conversation_id="c1", message_id="m1")
        summaries = await stores.memories.list(user, MemoryFilter(kinds=frozenset({MemoryKind.SUMMARY})))
        assert [m.id for m in summaries] == [summary.id]

        assert await stores.ledger.claimed(user, "extracted:c1:m0") is True
        assert await stores.ledger.claim(user, "extracted:c1:m0") is False

        # Migrated data works with today's rules: an edit keeps the relation, a reindex rebuilds it ...
        clock = ManualClock(T0 + timedelta(days=1))
        memories = memory_service(stores.memories, stores.graph, clock)
        await memories.update(user, anna.id, reliability=0.95)
        assert len(await stores.graph.relations(user)) == 2
        await stores.graph.forget_user(user)
        assert await memories.reindex(user) == 3
        assert {(r.source, r.predicate, r.target) for r in await stores.graph.relations(user)} == {
            ("anna", "works_at", "acme"),
            ("user", "lives_in", "berlin"),
        }

        # ... and consolidation finds the migrated slot holder: a move supersedes Berlin.
        said = Message(
            id="m2",
            conversation_id="c1",
            user_id=user,
            role=Role.USER,
            content="I live in Munich now.",
            created_at=clock.now(),
        )
        await stores.conversations.add_message(said)
        extraction = ExtractionService(
            ConversationPorts(
                conversations=stores.conversations, ledger=stores.ledger, clock=clock, language=EnglishLanguage()
            ),
            memories=memories,
            extractor=DeterministicExtractor(),
        )
        report = await extraction.extract(user, "c1", ["m2"])
        assert [d.operation for d in report.decisions] == [Operation.SUPERSEDE]
        assert report.decisions[0].replaced == (berlin.id,)
        current = await stores.memories.list(user, MemoryFilter(types=frozenset({MemoryType.PROFILE})))
        assert [(m.slot, m.value) for m in current] == [("location", "Munich")]


async def test_the_maintenance_role_reads_every_users_ledger_and_nothing_else(
    postgres_stores: PostgresStores, postgres_dsn: str
) -> None:
    users = [new_id(), new_id()]
    for user in users:
        c = await postgres_stores.conversations.create(
            Conversation(id=new_id(), user_id=user, created_at=T0, updated_at=T0)
        )
        await postgres_stores.conversations.add_messages(
            [],
            pending=PendingBatch(key="k", user_id=user, conversation_id=c.id, message_ids=("m",), pending_since=T0),
        )
    found = await postgres_stores.ledger.unfinished(T0 + timedelta(seconds=1), limit=10_000)
    assert {b.user_id for b in found} >= set(users)

    conn = await asyncpg.connect(postgres_dsn)
    try:
        # The application role without a user scope sees no one's ledger: RLS holds.
        async with conn.transaction():
            await conn.execute(f"SET LOCAL ROLE {APP_ROLE}")
            rows = await conn.fetch("SELECT user_id FROM processed_keys WHERE user_id = ANY($1::text[])", users)
            assert rows == []
        for forbidden in (
            "SELECT count(*) FROM memories",
            "SELECT count(*) FROM messages",
            "UPDATE processed_keys SET claimed_at = now()",
            "DELETE FROM processed_keys",
        ):
            with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
                async with conn.transaction():
                    await conn.execute(f"SET LOCAL ROLE {MAINTENANCE_ROLE}")
                    await conn.execute(forbidden)
    finally:
        await conn.close()
    for user in users:
        await postgres_stores.ledger.forget_user(user)
    assert not {b.user_id for b in await postgres_stores.ledger.unfinished(T0 + timedelta(seconds=1), 10_000)} & set(
        users
    )
