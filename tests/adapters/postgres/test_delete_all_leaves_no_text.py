"""A user's delete-all leaves none of their text in any table, history included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from jyntrix_adapters.postgres.stores import PostgresStores
from jyntrix_domain.model import (
    ChangeKind,
    Conversation,
    Entity,
    Memory,
    MemoryType,
    Message,
    Profile,
    Relation,
    Role,
    Span,
    SpanKind,
    new_id,
)

T0 = datetime(2024, 5, 1, tzinfo=UTC)


async def give_everything(stores: PostgresStores, user: str, marker: str) -> None:
    """Put `marker` in every place a user's text can land."""
    first = Memory(
        id=new_id(),
        user_id=user,
        type=MemoryType.SEMANTIC,
        content=f"I live in {marker}-city",
        created_at=T0,
        updated_at=T0,
        valid_from=T0,
        source_message_ids=(f"{marker}-msg",),
        entities=(f"{marker}-entity",),
        metadata={"note": f"{marker} in metadata"},
    )
    second = msgspec.structs.replace(first, id=new_id(), content=f"I moved to {marker}-town")
    await stores.memories.add(first)
    await stores.memories.add(second)
    await stores.memories.update(msgspec.structs.replace(first, content=f"{marker} updated"))
    await stores.memories.update(
        msgspec.structs.replace(first, superseded_by=second.id, valid_until=T0 + timedelta(days=1)),
        ChangeKind.SUPERSEDE,
    )
    doomed = msgspec.structs.replace(first, id=new_id(), content=f"{marker} deleted alone")
    await stores.memories.add(doomed)
    await stores.memories.delete(user, doomed.id)

    conv = await stores.conversations.create(
        Conversation(
            id=new_id(), user_id=user, created_at=T0, updated_at=T0, title=f"{marker} title", metadata={"t": marker}
        )
    )
    for role in (Role.USER, Role.ASSISTANT):
        await stores.conversations.add_message(
            Message(
                id=new_id(),
                conversation_id=conv.id,
                user_id=user,
                role=role,
                content=f"{marker} says hi",
                created_at=T0,
                metadata={"m": marker},
            )
        )
    await stores.ledger.claim(user, f"extract:{marker}")
    await stores.profiles.put(
        Profile(user_id=user, updated_at=T0, display_name=f"{marker} name", preferences={marker: marker})
    )
    await stores.graph.link(
        user,
        first.id,
        [Entity(name=f"{marker} Person", kind="person")],
        [Relation(source=f"{marker} Person", predicate=f"{marker} knows", target=f"{marker} Friend")],
    )
    await stores.analytics.write(
        [
            Span(
                id=new_id(),
                trace_id=new_id(),
                name="chat",
                kind=SpanKind.PHASE,
                started_at=T0,
                duration_ms=1.0,
                user_id=user,
                attributes={"a": marker},
            )
        ]
    )


async def rows_containing(dsn: str, needle: str) -> dict[str, int]:
    """table.column -> rows whose text, jsonb or array value contains `needle`, over every table."""
    conn = await asyncpg.connect(dsn)
    try:
        columns = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
            " AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY')"
        )
        assert len(columns) > 20  # the scan really covers the schema
        found = {}
        for c in columns:
            n = await conn.fetchval(
                f'SELECT count(*) FROM "{c["table_name"]}" WHERE strpos("{c["column_name"]}"::text, $1) > 0', needle
            )
            if n:
                found[f"{c['table_name']}.{c['column_name']}"] = n
        return found
    finally:
        await conn.close()


async def test_delete_all_leaves_no_row_holding_the_users_text(
    postgres_stores: PostgresStores, postgres_dsn: str
) -> None:
    user, bystander = new_id(), new_id()
    marker, other_marker = "zq" + new_id().replace("-", ""), "zq" + new_id().replace("-", "")
    await give_everything(postgres_stores, user, marker)
    await give_everything(postgres_stores, bystander, other_marker)

    before = await rows_containing(postgres_dsn, marker)
    expected = {
        "memories.content",
        "memory_history.content_before",
        "memory_history.content_after",
        "messages.content",
        "conversations.title",
        "profiles.display_name",
        "entities.name",
        "relations.predicate",
        "spans.attributes",
    }
    assert expected <= set(before)

    await postgres_stores.memories.forget_user(user)
    await postgres_stores.conversations.forget_user(user)
    await postgres_stores.profiles.forget_user(user)
    await postgres_stores.graph.forget_user(user)
    await postgres_stores.analytics.forget_user(user)
    await postgres_stores.ledger.forget_user(user)

    assert await rows_containing(postgres_dsn, marker) == {}
    assert await rows_containing(postgres_dsn, user) == {}
    # The bystander's identical data is all still there, so the scan would have seen ours.
    assert set(await rows_containing(postgres_dsn, other_marker)) == set(before)
