"""TaskLedger contract: pending batches recorded with their messages, claims, unfinished batches.

Each adapter comes with the ConversationStore that shares its transactions, since a batch
becomes pending in the same write that stores its messages.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from jyntrix_bootstrap.resources import Storage
from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import Conversation, Message, PendingBatch, Role, new_id
from jyntrix_domain.ports import ConversationStore, TaskLedger

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@dataclass
class Pair:
    ledger: TaskLedger
    conversations: ConversationStore


@pytest.fixture
def pair(storage: Storage) -> Pair:
    return Pair(storage.ledger, storage.conversations)


async def conversation(pair: Pair, user_id: str) -> Conversation:
    return await pair.conversations.create(Conversation(id=new_id(), user_id=user_id, created_at=T0, updated_at=T0))


def messages(c: Conversation, n: int) -> list[Message]:
    return [
        Message(
            id=new_id(),
            conversation_id=c.id,
            user_id=c.user_id,
            role=Role.USER,
            content=f"message {i}",
            created_at=T0 + timedelta(seconds=i),
        )
        for i in range(n)
    ]


def batch(c: Conversation, made: list[Message], minutes: int = 0, key: str | None = None) -> PendingBatch:
    return PendingBatch(
        key=key or f"extracted:{c.id}:{','.join(m.id for m in made)}",
        user_id=c.user_id,
        conversation_id=c.id,
        message_ids=tuple(m.id for m in made),
        pending_since=T0 + timedelta(minutes=minutes),
    )


async def mine(ledger: TaskLedger, user_id: str, older_than: datetime = T0 + timedelta(days=1)) -> list[PendingBatch]:
    # The database is shared with other tests: only this test's users count.
    return [b for b in await ledger.unfinished(older_than, limit=10_000) if b.user_id == user_id]


async def test_claimed_reads_without_recording(pair: Pair, user: str) -> None:
    ledger = pair.ledger
    assert await ledger.claimed(user, "extract:c1:m1") is False
    assert await ledger.claimed(user, "extract:c1:m1") is False
    assert await ledger.claim(user, "extract:c1:m1") is True
    assert await ledger.claimed(user, "extract:c1:m1") is True
    assert await ledger.claimed(new_id(), "extract:c1:m1") is False


async def test_claim_is_true_once_per_user_and_key(pair: Pair, user: str) -> None:
    ledger = pair.ledger
    assert await ledger.claim(user, "extract:c1:m1-m2") is True
    assert await ledger.claim(user, "extract:c1:m1-m2") is False
    assert await ledger.claim(user, "extract:c1:m3") is True
    assert await ledger.claim(new_id(), "extract:c1:m1-m2") is True


async def test_concurrent_claims_of_one_key_succeed_once(pair: Pair, user: str) -> None:
    results = await asyncio.gather(*(pair.ledger.claim(user, "same-batch") for _ in range(20)))
    assert sorted(results) == [False] * 19 + [True]


async def test_messages_and_their_pending_batch_are_stored_together(pair: Pair, user: str) -> None:
    c = await conversation(pair, user)
    made = messages(c, 3)
    pending = batch(c, made)
    assert await pair.conversations.add_messages(made, pending=pending) == made
    assert await pair.conversations.messages(user, c.id) == made
    assert await mine(pair.ledger, user) == [pending]
    assert await pair.ledger.claimed(user, pending.key) is False


async def test_a_failed_message_write_leaves_no_pending_batch(pair: Pair, user: str) -> None:
    c = await conversation(pair, user)
    made = messages(c, 2)
    bad = msgspec.structs.replace(made[1], content="NUL \x00 cannot be stored")
    with pytest.raises(Invalid):
        await pair.conversations.add_messages([made[0], bad], pending=batch(c, made))
    assert await mine(pair.ledger, user) == []
    assert await pair.conversations.messages(user, c.id) == []


async def test_a_claimed_batch_is_no_longer_unfinished(pair: Pair, user: str) -> None:
    c = await conversation(pair, user)
    first, second = messages(c, 1), messages(c, 1)
    await pair.conversations.add_messages(first, pending=batch(c, first))
    await pair.conversations.add_messages(second, pending=batch(c, second, minutes=1))
    assert await pair.ledger.claim(user, batch(c, first).key) is True
    assert await pair.ledger.claim(user, batch(c, first).key) is False
    assert await pair.ledger.claimed(user, batch(c, first).key) is True
    assert await mine(pair.ledger, user) == [batch(c, second, minutes=1)]


async def test_marking_a_known_key_pending_again_changes_nothing(pair: Pair, user: str) -> None:
    c = await conversation(pair, user)
    made = messages(c, 1)
    assert await pair.ledger.mark_pending(batch(c, made)) is True
    assert await pair.ledger.mark_pending(batch(c, made, minutes=5)) is False
    assert await mine(pair.ledger, user) == [batch(c, made)]
    await pair.ledger.claim(user, batch(c, made).key)
    # A retried write of the same messages does not make a finished batch pending again.
    await pair.conversations.add_messages(made, pending=batch(c, made, minutes=9))
    assert await mine(pair.ledger, user) == []
    assert await pair.ledger.claimed(user, batch(c, made).key) is True


async def test_unfinished_finds_every_users_batches_oldest_first_before_a_time(pair: Pair) -> None:
    alice, bob = new_id(), new_id()
    ca, cb = await conversation(pair, alice), await conversation(pair, bob)
    a_old, a_new, b_mid = messages(ca, 1), messages(ca, 1), messages(cb, 1)
    await pair.conversations.add_messages(a_old, pending=batch(ca, a_old, minutes=0))
    await pair.conversations.add_messages(a_new, pending=batch(ca, a_new, minutes=30))
    await pair.conversations.add_messages(b_mid, pending=batch(cb, b_mid, minutes=10))

    found = [b for b in await pair.ledger.unfinished(T0 + timedelta(days=1), limit=10_000) if b.user_id in {alice, bob}]
    assert found == [batch(ca, a_old, minutes=0), batch(cb, b_mid, minutes=10), batch(ca, a_new, minutes=30)]
    # Only batches pending since before `older_than`: a batch still being worked on is left alone.
    assert await mine(pair.ledger, alice, older_than=T0 + timedelta(minutes=20)) == [batch(ca, a_old)]
    assert await mine(pair.ledger, bob, older_than=T0 + timedelta(minutes=10)) == []


async def test_unfinished_is_limited(pair: Pair, user: str) -> None:
    c = await conversation(pair, user)
    for i in range(3):
        made = messages(c, 1)
        await pair.conversations.add_messages(made, pending=batch(c, made, minutes=-100_000 + i))
    # These are the oldest pending batches in the database, so a limit of 2 returns two of them.
    oldest = await pair.ledger.unfinished(T0 - timedelta(days=60), limit=2)
    assert [b.pending_since for b in oldest] == [T0 + timedelta(minutes=-100_000), T0 + timedelta(minutes=-99_999)]
    assert await pair.ledger.unfinished(T0, limit=0) == []
    await pair.ledger.forget_user(user)  # so that a later run on the same database finds its own oldest


async def test_deleting_a_conversation_drops_its_pending_batches(pair: Pair, user: str) -> None:
    gone, kept = await conversation(pair, user), await conversation(pair, user)
    g, k = messages(gone, 1), messages(kept, 1)
    await pair.conversations.add_messages(g, pending=batch(gone, g))
    await pair.conversations.add_messages(k, pending=batch(kept, k))
    assert await pair.conversations.delete(user, gone.id) is True
    assert await mine(pair.ledger, user) == [batch(kept, k)]


async def test_forget_user_removes_that_users_claims_and_pending_batches_only(pair: Pair, user: str) -> None:
    other = new_id()
    mine_c, theirs_c = await conversation(pair, user), await conversation(pair, other)
    m, t = messages(mine_c, 1), messages(theirs_c, 1)
    await pair.conversations.add_messages(m, pending=batch(mine_c, m))
    await pair.conversations.add_messages(t, pending=batch(theirs_c, t))
    await pair.ledger.claim(user, "k")
    await pair.ledger.claim(other, "k")

    await pair.ledger.forget_user(user)
    assert await pair.ledger.claimed(user, "k") is False
    assert await mine(pair.ledger, user) == []
    assert await pair.ledger.claimed(other, "k") is True
    assert await mine(pair.ledger, other) == [batch(theirs_c, t)]


async def test_pending_count_counts_a_conversations_unclaimed_batches(pair: Pair, user: str) -> None:
    c, other = await conversation(pair, user), await conversation(pair, user)
    made = messages(c, 4)
    await pair.conversations.add_messages(made[:2], pending=batch(c, made[:2]))
    await pair.conversations.add_messages(made[2:], pending=batch(c, made[2:]))
    await pair.conversations.add_messages(messages(other, 1), pending=None)
    assert await pair.ledger.pending_count(user, c.id) == 2
    assert await pair.ledger.pending_count(user, other.id) == 0
    assert await pair.ledger.pending_count(new_id(), c.id) == 0

    assert await pair.ledger.claim(user, batch(c, made[:2]).key) is True
    assert await pair.ledger.pending_count(user, c.id) == 1
