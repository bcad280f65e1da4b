"""ConversationStore contract: every adapter behaves the same."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from jyntrix_bootstrap.resources import Storage
from jyntrix_domain.errors import Invalid, NotFound
from jyntrix_domain.model import Conversation, Message, Role, new_id
from jyntrix_domain.ports import ConversationStore

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(storage: Storage) -> ConversationStore:
    return storage.conversations


def conv(user_id: str, minutes: int = 0, title: str | None = "chat", cid: str | None = None) -> Conversation:
    at = T0 + timedelta(minutes=minutes)
    return Conversation(id=cid or new_id(), user_id=user_id, created_at=at, updated_at=at, title=title)


def msg(c: Conversation, content: str, seconds: int = 0, role: Role = Role.USER, mid: str | None = None) -> Message:
    return Message(
        id=mid or new_id(),
        conversation_id=c.id,
        user_id=c.user_id,
        role=role,
        content=content,
        created_at=c.created_at + timedelta(seconds=seconds),
    )


async def test_conversation_round_trip(store: ConversationStore, user: str) -> None:
    c = Conversation(
        id=new_id(), user_id=user, created_at=T0, updated_at=T0, title="Trip ✈️", metadata={"client": {"v": [1, 2]}}
    )
    assert await store.create(c) == c
    assert await store.get(user, c.id) == c


async def test_creating_an_existing_id_returns_the_stored_conversation(store: ConversationStore, user: str) -> None:
    c = conv(user, title="original")
    await store.create(c)
    again = await store.create(conv(user, minutes=5, title="retry", cid=c.id))
    assert again == c
    assert len(await store.list(user)) == 1


async def test_get_unknown_returns_none_and_lists_are_empty(store: ConversationStore, user: str) -> None:
    assert await store.get(user, new_id()) is None
    assert await store.list(user) == []
    assert await store.messages(user, new_id()) == []
    assert await store.get_messages(user, []) == []
    assert await store.get_messages(user, [new_id()]) == []
    assert await store.delete(user, new_id()) is False
    assert await store.forget_user(user) == 0


async def test_list_is_most_recently_updated_first_with_limit_and_offset(store: ConversationStore, user: str) -> None:
    made = [conv(user, minutes=i) for i in range(5)]
    for c in made:
        await store.create(c)
    newest_first = [c.id for c in reversed(made)]
    assert [c.id for c in await store.list(user)] == newest_first
    assert [c.id for c in await store.list(user, limit=2)] == newest_first[:2]
    assert [c.id for c in await store.list(user, limit=2, offset=2)] == newest_first[2:4]
    assert await store.list(user, limit=2, offset=10) == []


async def test_adding_a_message_moves_its_conversation_to_the_top(store: ConversationStore, user: str) -> None:
    old, new = conv(user, minutes=0), conv(user, minutes=10)
    await store.create(old)
    await store.create(new)
    await store.add_message(msg(old, "hello again", seconds=3600))
    listed = await store.list(user)
    assert [c.id for c in listed] == [old.id, new.id]
    assert listed[0].updated_at == old.created_at + timedelta(seconds=3600)


async def test_an_older_message_does_not_move_updated_at_back(store: ConversationStore, user: str) -> None:
    c = conv(user, minutes=60)
    await store.create(c)
    await store.add_message(msg(c, "imported", seconds=-3600))
    stored = await store.get(user, c.id)
    assert stored is not None and stored.updated_at == c.updated_at


async def test_message_round_trip(store: ConversationStore, user: str) -> None:
    c = await store.create(conv(user))
    m = Message(
        id=new_id(),
        conversation_id=c.id,
        user_id=user,
        role=Role.ASSISTANT,
        content="Sure — here it is.",
        created_at=T0,
        metadata={"usage": {"input_tokens": 12}, "refs": [1, 2]},
    )
    assert await store.add_message(m) == m
    assert await store.messages(user, c.id) == [m]
    assert await store.get_messages(user, [m.id]) == [m]


async def test_a_speakers_name_round_trips(store: ConversationStore, user: str) -> None:
    c = await store.create(conv(user))
    named = msgspec.structs.replace(msg(c, "I went to a support group."), name="Caroline")
    unnamed = msg(c, "How was it?", seconds=1)
    assert await store.add_messages([named, unnamed]) == [named, unnamed]
    assert [m.name for m in await store.messages(user, c.id)] == ["Caroline", None]
    assert (await store.get_messages(user, [named.id]))[0].name == "Caroline"


async def test_add_message_is_idempotent_by_id(store: ConversationStore, user: str) -> None:
    c = await store.create(conv(user))
    first = msg(c, "first", mid="m-1")
    assert await store.add_message(first) == first
    assert await store.add_message(msg(c, "redelivered", seconds=5, mid="m-1")) == first
    assert [m.content for m in await store.messages(user, c.id)] == ["first"]


async def test_add_message_to_an_unknown_conversation_raises_not_found(store: ConversationStore, user: str) -> None:
    with pytest.raises(NotFound):
        await store.add_message(msg(conv(user), "orphan"))


async def test_messages_are_the_last_n_oldest_first(store: ConversationStore, user: str) -> None:
    c = await store.create(conv(user))
    for i in range(10):
        await store.add_message(msg(c, f"m{i}", seconds=i, role=Role.USER if i % 2 == 0 else Role.ASSISTANT))
    assert [m.content for m in await store.messages(user, c.id)] == [f"m{i}" for i in range(10)]
    assert [m.content for m in await store.messages(user, c.id, limit=3)] == ["m7", "m8", "m9"]
    before = c.created_at + timedelta(seconds=5)
    assert [m.content for m in await store.messages(user, c.id, limit=2, before=before)] == ["m3", "m4"]
    assert await store.messages(user, c.id, limit=0) == []


async def test_messages_with_equal_timestamps_keep_insertion_order(store: ConversationStore, user: str) -> None:
    c = await store.create(conv(user))
    # Ids in reverse order, so that only insertion order can explain the result.
    for mid, content in [("c", "question"), ("b", "answer"), ("a", "follow-up")]:
        await store.add_message(msg(c, content, mid=mid))
    assert [m.content for m in await store.messages(user, c.id)] == ["question", "answer", "follow-up"]
    assert [m.content for m in await store.messages(user, c.id, limit=2)] == ["answer", "follow-up"]


async def test_messages_before_a_cursor_page_through_messages_that_share_a_time(
    store: ConversationStore, user: str
) -> None:
    c = await store.create(conv(user))
    # 30 messages at one time, then 3 later ones: paging by time alone would stop at the tie.
    made = [msg(c, f"m{i}") for i in range(30)] + [msg(c, f"m{30 + i}", seconds=1 + i) for i in range(3)]
    await store.add_messages(made[:15])
    await store.add_messages(made[15:])
    first = await store.messages(user, c.id, limit=7)
    pages, cursor = [[m.content for m in first]], first[0].id
    while page := await store.messages_before(user, c.id, cursor, limit=7):
        pages.append([m.content for m in page])
        cursor = page[0].id
    assert [content for page in reversed(pages) for content in page] == [m.content for m in made]
    assert [len(p) for p in pages] == [7, 7, 7, 7, 5]


async def test_a_cursor_that_names_no_message_of_the_conversation_is_invalid(
    store: ConversationStore, user: str
) -> None:
    c, other = await store.create(conv(user)), await store.create(conv(user, minutes=1))
    elsewhere = await store.add_message(msg(other, "elsewhere"))
    await store.add_message(msg(c, "here"))
    for cursor in ("no-such-message", elsewhere.id):
        with pytest.raises(Invalid):
            await store.messages_before(user, c.id, cursor)
    with pytest.raises(Invalid):  # another user's message is no cursor either
        await store.messages_before(new_id(), other.id, elsewhere.id)


async def test_get_messages_returns_the_users_messages_oldest_first(store: ConversationStore, user: str) -> None:
    c = await store.create(conv(user))
    made = [await store.add_message(msg(c, f"m{i}", seconds=i)) for i in range(4)]
    found = await store.get_messages(user, [made[3].id, "missing", made[1].id])
    assert [m.content for m in found] == ["m1", "m3"]


async def test_delete_removes_conversation_and_its_messages(store: ConversationStore, user: str) -> None:
    c, kept = await store.create(conv(user)), await store.create(conv(user))
    m = await store.add_message(msg(c, "gone"))
    k = await store.add_message(msg(kept, "stays"))
    assert await store.delete(user, c.id) is True
    assert await store.get(user, c.id) is None
    assert await store.messages(user, c.id) == []
    assert await store.get_messages(user, [m.id, k.id]) == [k]
    assert await store.delete(user, c.id) is False


async def test_another_users_conversations_are_never_returned_nor_changed(store: ConversationStore, user: str) -> None:
    intruder = new_id()
    c = await store.create(conv(user))
    m = await store.add_message(msg(c, "secret"))

    assert await store.get(intruder, c.id) is None
    assert await store.list(intruder) == []
    assert await store.messages(intruder, c.id) == []
    assert await store.get_messages(intruder, [m.id]) == []
    assert await store.delete(intruder, c.id) is False
    with pytest.raises(NotFound):
        await store.add_message(msgspec.structs.replace(msg(c, "injected"), user_id=intruder))
    assert await store.forget_user(intruder) == 0

    assert await store.get(user, c.id) == c
    assert await store.messages(user, c.id) == [m]


async def test_forget_user_removes_conversations_and_messages_of_that_user_only(
    store: ConversationStore, user: str
) -> None:
    other = new_id()
    theirs = await store.create(conv(other))
    their_msg = await store.add_message(msg(theirs, "theirs"))
    mine = []
    for i in range(3):
        c = await store.create(conv(user, minutes=i))
        mine.append(await store.add_message(msg(c, f"mine {i}")))

    assert await store.forget_user(user) == 3
    assert await store.list(user) == []
    assert await store.get_messages(user, [m.id for m in mine]) == []
    assert await store.messages(other, theirs.id) == [their_msg]


async def test_add_messages_stores_a_conversations_messages_in_order(store: ConversationStore, user: str) -> None:
    c = await store.create(conv(user))
    first = await store.add_message(msg(c, "already there", seconds=0))
    made = [first, msg(c, "one", seconds=1), msg(c, "two", seconds=2, role=Role.ASSISTANT)]
    assert await store.add_messages(made) == made
    assert await store.messages(user, c.id) == made
    stored = await store.get(user, c.id)
    assert stored is not None and stored.updated_at == made[-1].created_at
    assert await store.add_messages([]) == []


async def test_add_messages_is_all_or_nothing(store: ConversationStore, user: str) -> None:
    c = await store.create(conv(user))
    with pytest.raises(Invalid):
        await store.add_messages([msg(c, "fine"), msg(c, "bad \x00", seconds=1)])
    with pytest.raises(NotFound):
        await store.add_messages([msg(conv(user), "nowhere")])
    with pytest.raises(Invalid):
        await store.add_messages([msg(c, "one conversation"), msg(conv(user), "and another")])
    assert await store.messages(user, c.id) == []


async def test_unicode_and_100kb_messages_round_trip(store: ConversationStore, user: str) -> None:
    c = await store.create(conv(user, title="Ünïcødé 会話 🗨️"))
    text = "Привет 👋 مرحبا 你好\n" + "ß" * 100_000
    m = await store.add_message(msg(c, text))
    assert await store.messages(user, c.id) == [m]
    stored = await store.get(user, c.id)
    assert stored is not None and stored.title == "Ünïcødé 会話 🗨️"


async def test_nul_characters_are_refused(store: ConversationStore, user: str) -> None:
    c = await store.create(conv(user))
    with pytest.raises(Invalid):
        await store.add_message(msg(c, "bad \x00"))


async def test_concurrent_messages_all_land(store: ConversationStore, user: str) -> None:
    c = await store.create(conv(user))
    made = [msg(c, f"parallel {i}", seconds=i) for i in range(50)]
    await asyncio.gather(*(store.add_message(m) for m in made))
    assert [m.id for m in await store.messages(user, c.id)] == [m.id for m in made]
    stored = await store.get(user, c.id)
    assert stored is not None and stored.updated_at == made[-1].created_at


async def test_concurrent_duplicate_deliveries_store_one_message(store: ConversationStore, user: str) -> None:
    c = await store.create(conv(user))
    results = await asyncio.gather(*(store.add_message(msg(c, f"try {i}", mid="dup")) for i in range(10)))
    assert len({m.content for m in results}) == 1
    assert len(await store.messages(user, c.id)) == 1
