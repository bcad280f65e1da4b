"""Transactions contract: a block's store calls share one transaction, and behave as they do alone.

Each adapter comes with the stores whose calls it groups (what it does when a block raises differs by
backend: tests/adapters/postgres/test_shared_transactions.py holds Postgres's all-or-nothing).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from contracts.memory_store.records import ALL, T0, mem
from jyntrix_bootstrap.resources import Storage
from jyntrix_domain.errors import NotFound
from jyntrix_domain.model import Conversation, Message, Role, new_id
from jyntrix_domain.ports import ConversationStore, MemoryStore, Transactions


@dataclass
class Stores:
    transactions: Transactions
    conversations: ConversationStore
    memories: MemoryStore


@pytest.fixture
def stores(storage: Storage) -> Stores:
    """Each store case's transactions, with the stores whose calls they group (contracts/conftest.py)."""
    return Stores(storage.transactions, storage.conversations, storage.memories)


def _message(user: str, conversation_id: str, content: str = "I grow tomatoes") -> Message:
    return Message(
        id=new_id(), conversation_id=conversation_id, user_id=user, role=Role.USER, content=content, created_at=T0
    )


async def _conversation(stores: Stores, user: str) -> Conversation:
    return await stores.conversations.create(Conversation(id=new_id(), user_id=user, created_at=T0, updated_at=T0))


async def test_what_a_block_wrote_is_there_after_it_and_seen_within_it(stores: Stores, user: str) -> None:
    conversation = await _conversation(stores, user)
    said = _message(user, conversation.id)
    memory = mem(user)
    async with stores.transactions.shared(user):
        await stores.conversations.add_messages([said])
        assert await stores.memories.add_many(user, [memory]) == [True]
        assert [m.id for m in await stores.conversations.get_messages(user, [said.id])] == [said.id]
        assert await stores.memories.add_many(user, [memory]) == [False]  # there already, within the block
    assert [m.id for m in await stores.memories.list(user, ALL)] == [memory.id]
    assert [m.id for m in await stores.conversations.messages(user, conversation.id)] == [said.id]


async def test_calls_of_a_block_may_run_at_once(stores: Stores, user: str) -> None:
    conversation = await _conversation(stores, user)
    memories = [mem(user, f"I visited city number {n}") for n in range(6)]
    async with stores.transactions.shared(user):
        added = await asyncio.gather(*(stores.memories.add_many(user, [m]) for m in memories))
        found = await asyncio.gather(
            stores.memories.get_many(user, [m.id for m in memories]),
            stores.conversations.get(user, conversation.id),
            stores.memories.count(user, ALL),
        )
    assert added == [[True]] * 6
    assert {m.id for m in found[0]} == {m.id for m in memories}
    assert found[1] == conversation
    assert found[2] == 6


async def test_a_refused_call_leaves_the_others_of_its_block_standing(stores: Stores, user: str) -> None:
    conversation = await _conversation(stores, user)
    kept = _message(user, conversation.id, "I kept this")
    async with stores.transactions.shared(user):
        with pytest.raises(NotFound):
            await stores.conversations.add_message(_message(user, "no-such-conversation"))
        await stores.conversations.add_message(kept)
    assert [m.id for m in await stores.conversations.messages(user, conversation.id)] == [kept.id]


async def test_a_block_groups_only_its_own_users_calls(stores: Stores, user: str) -> None:
    other = new_id()
    mine, theirs = mem(user), mem(other)
    async with stores.transactions.shared(user):
        await stores.memories.add_many(user, [mine])
        await stores.memories.add_many(other, [theirs])
        assert await stores.memories.get_many(user, [theirs.id]) == []
    assert [m.id for m in await stores.memories.list(other, ALL)] == [theirs.id]
    await stores.memories.forget_user(other)
