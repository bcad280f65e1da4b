"""Row-level security: a connection scoped to one user sees and changes only that user's rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from jyntrix_adapters.postgres.pool import APP_ROLE
from jyntrix_adapters.postgres.stores import PostgresStores
from jyntrix_domain.model import Conversation, Entity, Memory, MemoryType, Message, Profile, Relation, Role, new_id

T0 = datetime(2024, 5, 1, tzinfo=UTC)
USER_TABLES = [
    "memories",
    "memory_history",
    "conversations",
    "messages",
    "processed_keys",
    "profiles",
    "entities",
    "relations",
    "mentions",
]


@pytest.fixture
async def raw(postgres_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection as the server's (super)user, with no help from the adapters."""
    conn = await asyncpg.connect(postgres_dsn)
    yield conn
    await conn.close()


async def fill(stores: PostgresStores, user: str) -> None:
    """Give `user` a row in every user-owned table."""
    m = Memory(
        id=new_id(),
        user_id=user,
        type=MemoryType.SEMANTIC,
        content="A's secret",
        created_at=T0,
        updated_at=T0,
        valid_from=T0,
    )
    await stores.memories.add(m)
    c = await stores.conversations.create(Conversation(id=new_id(), user_id=user, created_at=T0, updated_at=T0))
    await stores.conversations.add_message(
        Message(id=new_id(), conversation_id=c.id, user_id=user, role=Role.USER, content="hi", created_at=T0)
    )
    await stores.ledger.claim(user, "key")
    await stores.profiles.put(Profile(user_id=user, updated_at=T0, display_name="A"))
    await stores.graph.link(
        user, m.id, [Entity(name="Anna")], [Relation(source="Anna", predicate="knows", target="Bo")]
    )


@pytest.fixture
async def a(postgres_stores: PostgresStores) -> str:
    """A user with a row in every user-owned table."""
    user = new_id()
    await fill(postgres_stores, user)
    return user


async def act_as(conn: asyncpg.Connection, user_id: str | None) -> None:
    """Within the open transaction, be the application role scoped to `user_id` (None: no user set)."""
    await conn.execute(f"SET LOCAL ROLE {APP_ROLE}")
    if user_id is not None:
        await conn.execute("SELECT set_config('app.user_id', $1, true)", user_id)


async def count_as(conn: asyncpg.Connection, table: str, scope: str | None, owner: str) -> int:
    """Rows of `owner` visible in `table` when the transaction is scoped to `scope` (None: no user set)."""
    async with conn.transaction():
        await act_as(conn, scope)
        # Deliberately no WHERE on the scope: the policy alone must hide other users' rows.
        rows = await conn.fetch(f"SELECT user_id FROM {table}")
    return sum(1 for r in rows if r["user_id"] == owner)


async def test_a_user_scoped_connection_sees_none_of_another_users_rows(a: str, raw: asyncpg.Connection) -> None:
    b = new_id()
    for table in USER_TABLES:
        assert await count_as(raw, table, a, a) >= 1, table
        assert await count_as(raw, table, b, a) == 0, table
        assert await count_as(raw, table, None, a) == 0, table


async def test_a_raw_select_as_user_b_returns_nothing_at_all(a: str, raw: asyncpg.Connection) -> None:
    b = new_id()
    async with raw.transaction():
        await act_as(raw, b)
        assert await raw.fetch("SELECT * FROM memories") == []
        assert await raw.fetch("SELECT * FROM memories WHERE user_id = $1", a) == []


async def test_writes_into_another_users_rows_are_refused_or_have_no_effect(a: str, raw: asyncpg.Connection) -> None:
    b = new_id()
    async with raw.transaction():
        await act_as(raw, b)
        assert await raw.execute("UPDATE memories SET content = 'hijacked' WHERE user_id = $1", a) == "UPDATE 0"
        assert await raw.execute("DELETE FROM memories WHERE user_id = $1", a) == "DELETE 0"
    with pytest.raises(asyncpg.exceptions.InsufficientPrivilegeError):
        async with raw.transaction():
            await act_as(raw, b)
            await raw.execute("INSERT INTO processed_keys (user_id, key) VALUES ($1, 'forged')", a)
    assert await count_as(raw, "memories", a, a) == 1
    assert await count_as(raw, "processed_keys", a, a) == 1


async def test_the_scope_does_not_outlive_its_transaction(postgres_stores: PostgresStores, a: str) -> None:
    async with postgres_stores.db.pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("SELECT set_config('role', $1, true), set_config('app.user_id', $2, true)", APP_ROLE, a)
        assert await conn.fetchval("SELECT current_user") != APP_ROLE
        assert await conn.fetchval("SELECT coalesce(current_setting('app.user_id', true), '')") == ""


async def test_every_user_owned_table_forces_rls_and_the_app_role_cannot_bypass_it(raw: asyncpg.Connection) -> None:
    rows = await raw.fetch(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c"
        " WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace AND c.relname = ANY($1::text[])",
        USER_TABLES,
    )
    assert {r["relname"]: (r["relrowsecurity"], r["relforcerowsecurity"]) for r in rows} == {
        t: (True, True) for t in USER_TABLES
    }
    role = await raw.fetchrow("SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = $1", APP_ROLE)
    assert role is not None and tuple(role) == (False, False, False)
