"""Postgres's shared transactions (jyntrix_adapters.postgres.shared_transaction): one transaction for a block,
its writes kept together or not at all, and a call that fails or is cancelled taking back only its own."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from jyntrix_adapters.postgres.stores import PostgresStores
from jyntrix_domain.errors import NotFound
from jyntrix_domain.model import Conversation, Memory, MemoryFilter, MemoryType, Message, Role, new_id
from testsupport.transactions import counting_transactions

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
ALL = MemoryFilter(current_only=False, limit=100)


class Boom(Exception):
    pass


def _memory(user: str, content: str) -> Memory:
    return Memory(
        id=new_id(),
        user_id=user,
        type=MemoryType.SEMANTIC,
        content=content,
        created_at=T0,
        updated_at=T0,
        valid_from=T0,
    )


async def _conversation(stores: PostgresStores, user: str) -> Conversation:
    return await stores.conversations.create(Conversation(id=new_id(), user_id=user, created_at=T0, updated_at=T0))


def _message(user: str, conversation_id: str) -> Message:
    return Message(
        id=new_id(), conversation_id=conversation_id, user_id=user, role=Role.USER, content="hi", created_at=T0
    )


async def test_a_blocks_calls_are_one_transaction(postgres_stores: PostgresStores) -> None:
    user = new_id()
    conversation = await _conversation(postgres_stores, user)
    with counting_transactions() as counter:
        start = await counter.settled()
        async with postgres_stores.transactions.shared(user):
            await postgres_stores.conversations.add_messages([_message(user, conversation.id)])
            await postgres_stores.memories.add_many(user, [_memory(user, "I grow tomatoes")])
            await asyncio.gather(
                postgres_stores.memories.list(user, ALL), postgres_stores.conversations.get(user, conversation.id)
            )
        transactions = counter.since(start)[: await counter.settled() - start]
    assert len(transactions) == 1, transactions
    assert transactions[0].committed


async def test_a_block_that_raises_keeps_none_of_its_writes(postgres_stores: PostgresStores) -> None:
    user = new_id()
    conversation = await _conversation(postgres_stores, user)
    with pytest.raises(Boom):
        async with postgres_stores.transactions.shared(user):
            await postgres_stores.conversations.add_messages([_message(user, conversation.id)])
            assert await postgres_stores.memories.add_many(user, [_memory(user, "I grow tomatoes")]) == [True]
            raise Boom
    assert await postgres_stores.conversations.messages(user, conversation.id) == []
    assert await postgres_stores.memories.list(user, ALL) == []


async def test_a_refused_call_is_taken_back_alone(postgres_stores: PostgresStores) -> None:
    user = new_id()
    conversation = await _conversation(postgres_stores, user)
    async with postgres_stores.transactions.shared(user):
        with pytest.raises(NotFound):  # the foreign key refuses it, after its savepoint began
            await postgres_stores.conversations.add_message(_message(user, "no-such-conversation"))
        await postgres_stores.conversations.add_message(_message(user, conversation.id))
    assert len(await postgres_stores.conversations.messages(user, conversation.id)) == 1


async def test_a_call_cancelled_mid_statement_leaves_the_block_usable(postgres_stores: PostgresStores) -> None:
    user = new_id()
    memory = _memory(user, "I play the cello")

    async def slow() -> None:
        async with postgres_stores.db.user_tx(user) as conn:
            await conn.execute("SELECT pg_sleep(5)")

    async with postgres_stores.transactions.shared(user):
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(slow(), 0.2)  # as a retrieval strategy's timeout cancels it
        assert await postgres_stores.memories.add_many(user, [memory]) == [True]
    assert [m.id for m in await postgres_stores.memories.list(user, ALL)] == [memory.id]


async def test_a_task_that_outlives_its_block_runs_on_its_own(postgres_stores: PostgresStores) -> None:
    user = new_id()
    memory = _memory(user, "I like green tea")
    started = asyncio.Event()

    async def later() -> list[bool]:
        started.set()
        await asyncio.sleep(0.05)
        return await postgres_stores.memories.add_many(user, [memory])

    async with postgres_stores.transactions.shared(user):
        task = asyncio.create_task(later())
        await started.wait()
    assert await task == [True]
    assert [m.id for m in await postgres_stores.memories.list(user, ALL)] == [memory.id]


async def test_a_first_call_that_times_out_waiting_for_a_connection_leaves_the_block_usable(
    postgres_stores: PostgresStores,
) -> None:
    user = new_id()
    memory = _memory(user, "I swim on Sundays")
    pool = postgres_stores.db.pool
    taken = [await pool.acquire() for _ in range(pool.get_max_size())]
    try:
        async with postgres_stores.transactions.shared(user):
            with pytest.raises(TimeoutError):  # as the kin lookup's timeout cancels it on a busy pool
                await asyncio.wait_for(postgres_stores.memories.list(user, ALL), 0.2)
            for connection in taken:
                await pool.release(connection)
            taken = []
            assert await postgres_stores.memories.add_many(user, [memory]) == [True]
    finally:
        for connection in taken:
            await pool.release(connection)
    assert [m.id for m in await postgres_stores.memories.list(user, ALL)] == [memory.id]
