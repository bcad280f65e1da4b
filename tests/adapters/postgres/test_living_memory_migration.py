"""Migration 0006 on a database made by the code before it: typed place, origin and occurred out of the
caller's metadata, content keys, and twins of one content merged into the first said."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec
import pytest

from jyntrix_adapters.postgres.migrations import load_migrations, migrate
from jyntrix_domain.errors import Conflict
from jyntrix_domain.model import (
    MemoryFilter,
    MemoryKind,
    Origin,
    Period,
    Place,
    content_key,
    new_id,
)
from tests.adapters.postgres.test_memory_fields_migration import as_user
from testsupport.postgres import stores_for

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)

# What PostgresMemoryStore.add ran before 0006 (after 0002: kind, slot, value and relations are columns).
_BEFORE_0006 = """
INSERT INTO memories (id, user_id, type, content, reliability, access_count, created_at, updated_at, valid_from,
                      source_message_ids, entities, metadata, kind, slot, value, relations)
VALUES ($1, $2, $3, $4, 0.6, 0, $5, $5, $5, $6, '{}', $7::jsonb, $8, NULL, NULL, '[]')
"""


async def test_0006_moves_place_origin_and_dates_into_fields_and_merges_twins(fresh_database_dsn: str) -> None:
    migrations = load_migrations()
    before = [m for m in migrations if m.version < 6]
    assert await migrate(fresh_database_dsn, before) == [m.version for m in before]
    user = new_id()
    rows = {
        "turn": (
            "episodic",
            "I live in Berlin.",
            ["m1"],
            '{"turn": {"conversation_id": "c1", "message_id": "m1"}}',
            "turn",
        ),
        "twin": (
            "episodic",
            "i live  in berlin.",
            ["m2"],
            '{"turn": {"conversation_id": "c2", "message_id": "m2"}}',
            "turn",
        ),
        "event": (
            "episodic",
            "The user moved to Berlin in March 2023",
            ["m1"],
            '{"extracted": true, "extractor": "deterministic", "event_date": "2023-03-01", "time_phrase": "in March"}',
            "fact",
        ),
        "summary": (
            "episodic",
            "A chat about Berlin.",
            ["m1"],
            '{"conversation_id": "c1", "last_message_id": "m1"}',
            "summary",
        ),
        "mine": ("semantic", "Pay the rent", [], '{"note": "the caller\'s own"}', "fact"),
    }
    ids = {name: new_id() for name in rows}
    async with as_user(fresh_database_dsn, user) as conn:
        for n, (name, (type_, content, sources, metadata, kind)) in enumerate(rows.items()):
            at = T0.replace(minute=n)
            await conn.execute(_BEFORE_0006, ids[name], user, type_, content, at, sources, metadata, kind)

    assert await migrate(fresh_database_dsn) == [m.version for m in migrations if m.version >= 6]

    async with stores_for(fresh_database_dsn) as stores:
        got = {name: await stores.memories.get(user, memory_id) for name, memory_id in ids.items()}
        turn, twin, event, summary, mine = (got[name] for name in rows)
        assert turn is not None and twin is not None and event is not None and summary is not None and mine is not None
        assert (turn.place, turn.metadata) == (Place(conversation_id="c1", message_id="m1"), {})
        # The later twin ends, replaced by the first said, which now cites both messages.
        assert turn.current and turn.source_message_ids == ("m1", "m2")
        assert not twin.current and twin.superseded_by == turn.id
        assert (event.origin, event.metadata) == (Origin(extractor="deterministic"), {})
        assert event.occurred == Period(start=datetime(2023, 3, 1, tzinfo=UTC), end=datetime(2023, 3, 2, tzinfo=UTC))
        assert (summary.kind, summary.place, summary.metadata) == (
            MemoryKind.SUMMARY,
            Place(conversation_id="c1", message_id="m1"),
            {},
        )
        assert mine.metadata == {"note": "the caller's own"} and mine.origin is None and mine.place is None
        # The keys written in SQL are the application's: the same content is refused as a twin.
        assert await stores.memories.add(msgspec.structs.replace(mine, id=new_id())) is False
        keyed = await stores.memories.list(user, MemoryFilter(content_keys=frozenset({content_key("pay the RENT")})))
        assert [m.id for m in keyed] == [mine.id]
        with pytest.raises(Conflict):
            await stores.memories.update(msgspec.structs.replace(twin, valid_until=None, superseded_by=None))
