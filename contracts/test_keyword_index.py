"""KeywordIndex contract: the same behaviour from every adapter (in-process BM25, bm25s on disk, Postgres FTS)."""

from __future__ import annotations

import asyncio
import math
from collections import Counter

import pytest

from jyntrix_domain.errors import Invalid
from jyntrix_domain.model import KeywordDoc, MemoryType, new_id
from jyntrix_domain.ports import KeywordIndex

ALICE, BOB = "alice", "bob"
SEMANTIC, EPISODIC, PROCEDURAL = MemoryType.SEMANTIC, MemoryType.EPISODIC, MemoryType.PROCEDURAL


@pytest.fixture
def index(keyword_index: KeywordIndex) -> KeywordIndex:
    """Each adapter the plan can choose (contracts/conftest.py)."""
    return keyword_index


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
    await index.forget_user(BOB)
    assert await ids(index, ALICE, "spare key") == [stored.id]


async def test_forget_user_removes_only_that_user(index: KeywordIndex) -> None:
    alice_docs = [doc(f"alice diary entry {i}") for i in range(3)]
    bob_docs = [doc(f"bob diary entry {i}") for i in range(3)]
    await index.upsert(ALICE, alice_docs)
    await index.upsert(BOB, bob_docs)
    await index.search(ALICE, "diary", 10)
    await index.forget_user(ALICE)
    assert await index.search(ALICE, "diary", 10) == []
    assert set(await ids(index, BOB, "diary")) == {d.id for d in bob_docs}
    await index.upsert(ALICE, [doc("a fresh start diary")])  # the user can write again afterwards
    assert len(await index.search(ALICE, "diary", 10)) == 1
    await index.forget_user("nobody")


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
