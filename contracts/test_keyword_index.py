"""KeywordIndex contract: the same behaviour from every adapter (in-process BM25, bm25s on disk)."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
import pytest

from jyntrix_adapters.bm25.keyword_index import FORMAT, Bm25sKeywordIndex
from jyntrix_adapters.inprocess.keyword_index import InProcessKeywordIndex
from jyntrix_domain.errors import Invalid, Unavailable
from jyntrix_domain.model import KeywordDoc, MemoryType, new_id
from jyntrix_domain.ports import KeywordIndex

ALICE, BOB = "alice", "bob"
SEMANTIC, EPISODIC, PROCEDURAL = MemoryType.SEMANTIC, MemoryType.EPISODIC, MemoryType.PROCEDURAL


@contextlib.asynccontextmanager
async def open_keyword_index(kind: str, directory: Path) -> AsyncIterator[KeywordIndex]:
    if kind == "in_process":
        yield InProcessKeywordIndex()
    elif kind == "bm25s":
        yield Bm25sKeywordIndex(directory / "bm25")
    else:
        raise ValueError(kind)


@pytest.fixture(params=["in_process", "bm25s"])
async def index(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KeywordIndex]:
    async with open_keyword_index(request.param, tmp_path) as opened:
        yield opened


def doc(text: str, type: MemoryType = SEMANTIC, id: str | None = None) -> KeywordDoc:
    return KeywordDoc(id=id or new_id(), text=text, type=type)


async def ids(index: KeywordIndex, user: str, query: str, limit: int = 100, **kw: object) -> list[str]:
    return [h.id for h in await index.search(user, query, limit, **kw)]  # type: ignore[arg-type]


def okapi(query: list[str], corpus: list[list[str]], k1: float = 1.5, b: float = 0.75) -> list[float]:
    """Okapi BM25 with Lucene's non-negative idf, written out independently of both adapters."""
    n = len(corpus)
    average = sum(len(d) for d in corpus) / n
    scores = []
    for terms in corpus:
        counts = Counter(terms)
        score = 0.0
        for term in set(query):
            df = sum(1 for d in corpus if term in d)
            if counts[term] == 0:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            tf = counts[term]
            score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(terms) / average))
        scores.append(score)
    return scores


async def test_round_trip_finds_a_document_by_a_word(index: KeywordIndex) -> None:
    stored = doc("I adopted a cat named Miso last spring")
    await index.upsert(ALICE, [stored])
    hits = await index.search(ALICE, "what is my cat called? Miso?", 5)
    assert [h.id for h in hits] == [stored.id]
    assert hits[0].score > 0


async def test_scores_follow_okapi_bm25(index: KeywordIndex) -> None:
    texts = [
        "coffee beans roasted coffee",
        "green tea and coffee",
        "hiking boots for mountain trails",
        "tea ceremony kyoto tea house tea",
    ]
    # The texts tokenise to themselves minus the stopword "and" and "for".
    corpus = [[t for t in text.split() if t not in {"and", "for"}] for text in texts]
    docs = [doc(text) for text in texts]
    await index.upsert(ALICE, docs)
    expected = okapi(["coffee", "tea"], corpus)
    hits = {h.id: h.score for h in await index.search(ALICE, "coffee tea", 10)}
    for stored, score in zip(docs, expected, strict=True):
        if score > 0:
            assert hits[stored.id] == pytest.approx(score, rel=1e-5)
        else:
            assert stored.id not in hits


async def test_results_are_ordered_best_first(index: KeywordIndex) -> None:
    often = doc("sourdough sourdough sourdough bread")
    once = doc("sourdough bread recipe")
    long = doc("sourdough " + " ".join(f"filler{i}" for i in range(40)))
    await index.upsert(ALICE, [long, once, often])
    hits = await index.search(ALICE, "sourdough", 10)
    assert [h.id for h in hits] == [often.id, once.id, long.id]
    assert hits[0].score > hits[1].score > hits[2].score


async def test_a_rarer_word_weighs_more(index: KeywordIndex) -> None:
    common = [doc(f"meeting notes day {i}") for i in range(6)]
    rare = doc("dentist appointment notes")
    other = doc("meeting notes with the dentist office")
    await index.upsert(ALICE, [*common, rare, other])
    hits = await index.search(ALICE, "dentist meeting", 10)
    assert hits[0].id == other.id  # both words
    assert hits[1].id == rare.id  # the rare word alone beats the common one alone


async def test_limit_keeps_the_best_matches(index: KeywordIndex) -> None:
    docs = [doc("garden " * (i + 1) + "plants") for i in range(10)]
    await index.upsert(ALICE, docs)
    top = await ids(index, ALICE, "garden", 3)
    full = await ids(index, ALICE, "garden", 100)
    assert len(full) == 10
    assert top == full[:3]
    assert await index.search(ALICE, "garden", 0) == []


async def test_negative_limit_is_invalid(index: KeywordIndex) -> None:
    with pytest.raises(Invalid):
        await index.search(ALICE, "garden", -1)


async def test_empty_index_returns_nothing(index: KeywordIndex) -> None:
    assert await index.search(ALICE, "anything at all", 10) == []


async def test_no_match_returns_nothing(index: KeywordIndex) -> None:
    await index.upsert(ALICE, [doc("I play the violin"), doc("My sister lives in Lyon")])
    assert await index.search(ALICE, "saxophone", 10) == []
    assert await index.search(ALICE, "", 10) == []
    assert await index.search(ALICE, "the and of with", 10) == []  # stopwords only
    assert await index.search(ALICE, "?!  ...", 10) == []


async def test_only_documents_with_a_query_word_are_returned(index: KeywordIndex) -> None:
    match = doc("I love jazz music")
    await index.upsert(ALICE, [match, doc("I love quiet mornings"), doc("")])
    assert await ids(index, ALICE, "jazz") == [match.id]


async def test_upsert_of_same_id_replaces_text_and_type(index: KeywordIndex) -> None:
    memory_id = new_id()
    await index.upsert(ALICE, [doc("I drink green tea every morning", SEMANTIC, memory_id)])
    await index.upsert(ALICE, [doc("I switched to black coffee", EPISODIC, memory_id)])
    assert await index.search(ALICE, "tea", 10) == []
    assert await ids(index, ALICE, "coffee") == [memory_id]
    assert await ids(index, ALICE, "coffee", types=frozenset({SEMANTIC})) == []
    assert await ids(index, ALICE, "coffee", types=frozenset({EPISODIC})) == [memory_id]


async def test_upsert_is_idempotent_and_does_not_skew_scores(index: KeywordIndex) -> None:
    docs = [doc("river kayak trip"), doc("kayak paddle repair"), doc("mountain bike trip")]
    await index.upsert(ALICE, docs)
    before = await index.search(ALICE, "kayak trip", 10)
    await index.upsert(ALICE, docs)
    await index.upsert(ALICE, docs[:1])
    after = await index.search(ALICE, "kayak trip", 10)
    assert [h.id for h in after] == [h.id for h in before]
    assert [h.score for h in after] == pytest.approx([h.score for h in before], rel=1e-6)


async def test_last_write_of_an_id_in_one_batch_wins(index: KeywordIndex) -> None:
    memory_id = new_id()
    await index.upsert(
        ALICE, [doc("first draft about lemons", id=memory_id), doc("final text about limes", id=memory_id)]
    )
    assert await index.search(ALICE, "lemons", 10) == []
    assert await ids(index, ALICE, "limes") == [memory_id]


async def test_delete_removes_only_the_given_ids(index: KeywordIndex) -> None:
    docs = [doc(f"holiday photo {i}") for i in range(4)]
    await index.upsert(ALICE, docs)
    await index.search(ALICE, "holiday", 10)  # let a lazy index build before the delete
    await index.delete(ALICE, [docs[0].id, docs[2].id])
    assert set(await ids(index, ALICE, "holiday")) == {docs[1].id, docs[3].id}


async def test_deleted_documents_stop_counting_in_the_statistics(index: KeywordIndex) -> None:
    keep = [doc("piano lessons on tuesday"), doc("guitar lessons on friday piano")]
    drop = [doc("piano piano recital"), doc("violin lessons")]
    await index.upsert(ALICE, keep + drop)
    await index.search(ALICE, "piano", 10)
    await index.delete(ALICE, [d.id for d in drop])
    await index.upsert(BOB, keep)
    alice = {h.id: h.score for h in await index.search(ALICE, "piano lessons", 10)}
    fresh = {h.id: h.score for h in await index.search(BOB, "piano lessons", 10)}
    assert alice == pytest.approx(fresh, rel=1e-6)


async def test_delete_of_unknown_ids_or_nothing_is_a_no_op(index: KeywordIndex) -> None:
    stored = doc("weekly chess club")
    await index.upsert(ALICE, [stored])
    await index.delete(ALICE, [new_id()])
    await index.delete(ALICE, [])
    await index.delete(BOB, [stored.id, new_id()])
    assert await ids(index, ALICE, "chess") == [stored.id]


async def test_search_never_returns_another_users_documents(index: KeywordIndex) -> None:
    mine, theirs = doc("my passport number is in the drawer"), doc("my passport number is in the drawer")
    await index.upsert(ALICE, [mine])
    await index.upsert(BOB, [theirs])
    assert await ids(index, ALICE, "passport drawer") == [mine.id]
    assert await ids(index, BOB, "passport drawer") == [theirs.id]
    assert await index.search("carol", "passport", 10) == []


async def test_corpus_statistics_are_per_user(index: KeywordIndex) -> None:
    stored = doc("orchid care tips")
    await index.upsert(ALICE, [stored])
    before = await index.search(ALICE, "orchid", 10)
    await index.upsert(BOB, [doc(f"orchid greenhouse {i}") for i in range(20)])
    after = await index.search(ALICE, "orchid", 10)
    assert after[0].score == pytest.approx(before[0].score, rel=1e-6)


async def test_another_user_cannot_delete_my_documents(index: KeywordIndex) -> None:
    stored = doc("the spare key is under the plant pot")
    await index.upsert(ALICE, [stored])
    await index.delete(BOB, [stored.id])
    await index.delete_user(BOB)
    assert await ids(index, ALICE, "spare key") == [stored.id]


async def test_delete_user_removes_only_that_user(index: KeywordIndex) -> None:
    alice_docs = [doc(f"alice diary entry {i}") for i in range(3)]
    bob_docs = [doc(f"bob diary entry {i}") for i in range(3)]
    await index.upsert(ALICE, alice_docs)
    await index.upsert(BOB, bob_docs)
    await index.search(ALICE, "diary", 10)
    await index.delete_user(ALICE)
    assert await index.search(ALICE, "diary", 10) == []
    assert set(await ids(index, BOB, "diary")) == {d.id for d in bob_docs}
    await index.upsert(ALICE, [doc("a fresh start diary")])  # the user can write again afterwards
    assert len(await index.search(ALICE, "diary", 10)) == 1
    await index.delete_user("nobody")


async def test_type_filter_returns_only_those_types(index: KeywordIndex) -> None:
    semantic = doc("allergic to peanuts", SEMANTIC)
    episodic = doc("ate peanuts at the party and felt ill", EPISODIC)
    procedural = doc("always check labels for peanuts", PROCEDURAL)
    await index.upsert(ALICE, [semantic, episodic, procedural])
    assert await ids(index, ALICE, "peanuts", types=frozenset({EPISODIC})) == [episodic.id]
    both = set(await ids(index, ALICE, "peanuts", types=frozenset({SEMANTIC, PROCEDURAL})))
    assert both == {semantic.id, procedural.id}
    assert len(await index.search(ALICE, "peanuts", 10, None)) == 3
    assert await index.search(ALICE, "peanuts", 10, frozenset()) == []


async def test_type_filter_applies_before_the_limit(index: KeywordIndex) -> None:
    await index.upsert(ALICE, [doc("marathon marathon training", EPISODIC) for _ in range(15)])
    weak = doc("a long text that mentions a marathon once among many other words here", SEMANTIC)
    await index.upsert(ALICE, [weak])
    assert await ids(index, ALICE, "marathon", 1, types=frozenset({SEMANTIC})) == [weak.id]


async def test_unicode_text_is_searchable(index: KeywordIndex) -> None:
    french = doc("Ma grand-mère fait une crème brûlée au café")
    german = doc("Wir wohnen in der Hauptstraße")
    japanese = doc("東京に住んでいます")
    emoji = doc("party time 🎉🎉 with friends")
    await index.upsert(ALICE, [french, german, japanese, emoji])
    assert await ids(index, ALICE, "brûlée") == [french.id]
    assert await ids(index, ALICE, "CAFÉ") == [french.id]
    assert await ids(index, ALICE, "HAUPTSTRASSE") == [german.id]  # ß folds to ss
    assert await ids(index, ALICE, "東京") == [japanese.id]
    assert await ids(index, ALICE, "🎉 friends") == [emoji.id]


async def test_very_long_text_is_indexed_whole(index: KeywordIndex) -> None:
    filler = " ".join(f"word{i % 5000}" for i in range(60_000))
    long = doc(filler + " zeppelin")
    short = doc("a short note about a zeppelin")
    await index.upsert(ALICE, [long, short])
    hits = await index.search(ALICE, "zeppelin", 10)
    assert [h.id for h in hits] == [short.id, long.id]  # length normalisation ranks the short one first
    assert await ids(index, ALICE, "word4999") == [long.id]


async def test_concurrent_writers_and_readers_lose_nothing(index: KeywordIndex) -> None:
    batches = {
        user: [[doc(f"{user} note {b} {i} shared") for i in range(5)] for b in range(10)] for user in (ALICE, BOB)
    }

    async def read(user: str) -> None:
        for _ in range(5):
            await index.search(user, "shared note", 5)
            await asyncio.sleep(0)

    writes = [index.upsert(user, batch) for user, user_batches in batches.items() for batch in user_batches]
    await asyncio.gather(*writes, read(ALICE), read(BOB))
    for user, user_batches in batches.items():
        assert set(await ids(index, user, "shared", 1000)) == {d.id for batch in user_batches for d in batch}


async def test_concurrent_deletes_and_upserts_leave_a_consistent_index(index: KeywordIndex) -> None:
    keep = [doc(f"keep receipt {i}") for i in range(20)]
    drop = [doc(f"drop receipt {i}") for i in range(20)]
    await index.upsert(ALICE, drop)
    await asyncio.gather(*(index.upsert(ALICE, [k]) for k in keep), *(index.delete(ALICE, [d.id]) for d in drop))
    assert set(await ids(index, ALICE, "receipt")) == {k.id for k in keep}


# -- bm25s persistence -----------------------------------------------------------------------------------------------


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
    await worker.delete_user(ALICE)
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


async def test_bm25s_delete_user_leaves_no_file_holding_the_users_text(tmp_path: Path) -> None:
    index = Bm25sKeywordIndex(tmp_path / "bm25")
    await index.upsert(ALICE, [doc("my secret recipe uses cardamom")])
    await index.search(ALICE, "cardamom", 10)
    await index.upsert(ALICE, [doc("cardamom buns on sunday")])
    await index.upsert(BOB, [doc("cardamom tea")])
    await index.delete_user(ALICE)
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
    await index.delete_user("stranger")
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
