"""The bm25s keyword index on disk: restarts, shared directories, damaged files, forgetting that leaves no text,
stemming and the upgrade of an index written before it.
(Its behaviour as a KeywordIndex: contracts/test_keyword_index.py.)
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from jyntrix_adapters.bm25.keyword_index import FORMAT, Bm25sKeywordIndex
from jyntrix_domain.errors import Unavailable
from jyntrix_domain.model import KeywordDoc, MemoryType, new_id
from jyntrix_domain.ports import KeywordIndex

ALICE, BOB = "alice", "bob"


def doc(text: str, id: str | None = None) -> KeywordDoc:
    return KeywordDoc(id=id or new_id(), text=text, type=MemoryType.SEMANTIC)


async def ids(index: KeywordIndex, user: str, query: str, limit: int = 100) -> list[str]:
    return [h.id for h in await index.search(user, query, limit)]


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


async def test_bm25s_index_survives_a_restart(tmp_path: Path) -> None:
    built = [doc("trip to lisbon in june"), doc("lisbon tram map")]
    later = doc("pastel de nata recipe from lisbon")
    gone = doc("lisbon hotel booking")
    first = Bm25sKeywordIndex(tmp_path / "bm25")
    await first.upsert(ALICE, [*built, gone])
    expected = await first.search(ALICE, "lisbon", 10)
    await first.upsert(ALICE, [later])  # written after the last build: only in the log
    await first.delete(ALICE, [gone.id])
    after_writes = await first.search(ALICE, "lisbon tram", 10)

    second = Bm25sKeywordIndex(tmp_path / "bm25")
    assert await second.search(ALICE, "lisbon tram", 10) == after_writes
    assert {h.id for h in expected} - {h.id for h in await second.search(ALICE, "lisbon", 10)} == {gone.id}


async def test_bm25s_restart_loads_the_saved_index_without_rebuilding(tmp_path: Path) -> None:
    first = Bm25sKeywordIndex(tmp_path / "bm25")
    await first.upsert(ALICE, [doc("sailing lessons"), doc("sailing club dues")])
    expected = await first.search(ALICE, "sailing", 10)
    user_dir = next((tmp_path / "bm25").iterdir())
    stamps = {p.name: p.stat().st_mtime_ns for p in [user_dir / "snapshot.msgpack", *(user_dir / "index").iterdir()]}

    second = Bm25sKeywordIndex(tmp_path / "bm25")
    assert await second.search(ALICE, "sailing", 10) == expected
    after = {p.name: p.stat().st_mtime_ns for p in [user_dir / "snapshot.msgpack", *(user_dir / "index").iterdir()]}
    assert after == stamps


async def test_bm25s_instances_sharing_a_directory_see_each_others_writes(tmp_path: Path) -> None:
    api, worker = Bm25sKeywordIndex(tmp_path / "bm25"), Bm25sKeywordIndex(tmp_path / "bm25")
    first = doc("my bike is a blue gravel bike")
    await api.upsert(ALICE, [first])
    assert await ids(api, ALICE, "bike") == [first.id]
    second = doc("bike lock code changed")
    await worker.upsert(ALICE, [second])
    assert set(await ids(api, ALICE, "bike")) == {first.id, second.id}
    await api.delete(ALICE, [first.id])
    assert await ids(worker, ALICE, "bike") == [second.id]
    await worker.forget_user(ALICE)
    assert await api.search(ALICE, "bike", 10) == []


async def test_bm25s_recovers_from_a_torn_log_line(tmp_path: Path) -> None:
    first = Bm25sKeywordIndex(tmp_path / "bm25")
    stored = doc("umbrella in the car")
    await first.search(ALICE, "umbrella", 10)
    await first.upsert(ALICE, [stored])
    log = next((tmp_path / "bm25").iterdir()) / "log.jsonl"
    log.write_bytes(log.read_bytes() + b'{"op":"upsert","docs":[["x","semantic",["umb')  # a crash mid-append

    second = Bm25sKeywordIndex(tmp_path / "bm25")
    assert await ids(second, ALICE, "umbrella") == [stored.id]
    extra = doc("umbrella repair shop")
    await second.upsert(ALICE, [extra])
    assert set(await ids(Bm25sKeywordIndex(tmp_path / "bm25"), ALICE, "umbrella")) == {stored.id, extra.id}


async def test_bm25s_skips_a_damaged_log_line_and_keeps_the_rest(tmp_path: Path) -> None:
    index = Bm25sKeywordIndex(tmp_path / "bm25")
    before, after = doc("compass in the drawer"), doc("compass for the hike")
    await index.upsert(ALICE, [before])
    log = next((tmp_path / "bm25").iterdir()) / "log.jsonl"
    log.write_bytes(log.read_bytes() + b"\x00 not json \n")
    await index.upsert(ALICE, [after])
    assert set(await ids(Bm25sKeywordIndex(tmp_path / "bm25"), ALICE, "compass")) == {before.id, after.id}


async def test_bm25s_corrupt_snapshot_is_reported_as_unavailable(tmp_path: Path) -> None:
    index = Bm25sKeywordIndex(tmp_path / "bm25")
    await index.upsert(ALICE, [doc("lantern batteries")])
    await index.search(ALICE, "lantern", 10)
    snapshot = next((tmp_path / "bm25").iterdir()) / "snapshot.msgpack"
    snapshot.write_bytes(b"\xc1garbage")
    with pytest.raises(Unavailable):
        await Bm25sKeywordIndex(tmp_path / "bm25").search(ALICE, "lantern", 10)
    assert await index.search(BOB, "lantern", 10) == []  # other users are unaffected


async def test_bm25s_forget_user_leaves_no_file_holding_the_users_text(tmp_path: Path) -> None:
    index = Bm25sKeywordIndex(tmp_path / "bm25")
    await index.upsert(ALICE, [doc("my secret recipe uses cardamom")])
    await index.search(ALICE, "cardamom", 10)
    await index.upsert(ALICE, [doc("cardamom buns on sunday")])
    await index.upsert(BOB, [doc("cardamom tea")])
    await index.forget_user(ALICE)
    holders = _files_containing(tmp_path / "bm25", b"cardamom")
    assert holders and all(ALICE.encode() not in p.read_bytes() for p in holders)
    assert len({p.relative_to(tmp_path / "bm25").parts[0] for p in holders}) == 1  # only Bob's directory
    assert await ids(index, BOB, "cardamom") != []


async def test_bm25s_deleting_every_document_leaves_no_file_holding_their_text(tmp_path: Path) -> None:
    index = Bm25sKeywordIndex(tmp_path / "bm25")
    docs = [doc("saffron risotto"), doc("saffron threads price")]
    await index.upsert(ALICE, docs)
    await index.search(ALICE, "saffron", 10)
    await index.delete(ALICE, [d.id for d in docs])
    assert await index.search(ALICE, "saffron", 10) == []
    assert _files_containing(tmp_path / "bm25", b"saffron") == []
    assert await Bm25sKeywordIndex(tmp_path / "bm25").search(ALICE, "saffron", 10) == []


async def test_bm25s_search_for_an_unknown_user_writes_nothing(tmp_path: Path) -> None:
    index = Bm25sKeywordIndex(tmp_path / "bm25")
    assert await index.search("stranger", "anything", 10) == []
    await index.forget_user("stranger")
    assert not (tmp_path / "bm25").exists() or not any((tmp_path / "bm25").iterdir())


async def test_bm25s_forgets_idle_users_in_memory_but_not_on_disk(tmp_path: Path) -> None:
    index = Bm25sKeywordIndex(tmp_path / "bm25", max_loaded_users=2)
    users = [f"user{i}" for i in range(5)]
    for user in users:
        await index.upsert(user, [doc(f"{user} likes kites")])
        await index.search(user, "kites", 10)
    for user in users:
        assert len(await index.search(user, "kites", 10)) == 1


# -- bm25s stemming and its token format -------------------------------------------------------------------------------


async def test_bm25s_matches_word_forms_by_their_stem(tmp_path: Path) -> None:
    index = Bm25sKeywordIndex(tmp_path / "bm25")
    paints, other = doc("She paints sunsets at the lake"), doc("He fixes old bicycles")
    await index.upsert(ALICE, [paints, other])
    assert await ids(index, ALICE, "painting sunset") == [paints.id]
    assert await ids(index, ALICE, "bicycle fixing") == [other.id]


@pytest.mark.parametrize("with_log", [False, True])
async def test_bm25s_upgrades_an_index_written_before_stemming(tmp_path: Path, with_log: bool) -> None:
    index = Bm25sKeywordIndex(tmp_path / "bm25")
    stored, logged = doc("adopting puppies"), doc("volunteered at shelters")
    await index.upsert(ALICE, [stored])
    await index.search(ALICE, "puppies", 10)  # builds the index and its snapshot
    user_dir = next((tmp_path / "bm25").iterdir())
    # Rewrite the files as the previous version left them: no format field, unstemmed tokens, an index
    # built from those tokens with the snapshot's generation, and a log line with unstemmed tokens.
    old_snapshot = {"user_id": ALICE, "generation": 1, "docs": [[stored.id, "semantic", ["adopting", "puppies"]]]}
    (user_dir / "snapshot.msgpack").write_bytes(msgspec.msgpack.encode(old_snapshot))
    (user_dir / "index" / "generation").write_text("1")
    old_line = {"op": "upsert", "docs": [[logged.id, "semantic", ["volunteered", "shelters"]]]}
    (user_dir / "log.jsonl").write_bytes(msgspec.json.encode(old_line) + b"\n" if with_log else b"")

    upgraded = Bm25sKeywordIndex(tmp_path / "bm25")
    assert await ids(upgraded, ALICE, "adopt a puppy") == [stored.id]
    assert await ids(upgraded, ALICE, "volunteering shelter") == ([logged.id] if with_log else [])
    # Rebuilt in the current format, even with nothing in the log to replay.
    rewritten = msgspec.msgpack.decode((user_dir / "snapshot.msgpack").read_bytes())
    assert rewritten["format"] == FORMAT
    expected = [("adopt", "puppi"), ("volunt", "shelter")] if with_log else [("adopt", "puppi")]
    assert sorted(tuple(d[2]) for d in rewritten["docs"]) == expected
