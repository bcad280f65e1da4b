"""bm25 keyword writes never make a search wait for a rebuild of a large user's index."""

from __future__ import annotations

from pathlib import Path

import pytest

from jyntrix_adapters.bm25.keyword_index import Bm25sKeywordIndex
from jyntrix_domain.model import KeywordDoc, MemoryType, new_id

USER = "alice"


def doc(text: str, type: MemoryType = MemoryType.EPISODIC) -> KeywordDoc:
    return KeywordDoc(id=new_id(), text=text, type=type)


def corpus(n: int) -> list[KeywordDoc]:
    return [doc(f"turn {i} about the garden and weekly chores number{i % 37}") for i in range(n)]


def large_user_index(directory: Path) -> Bm25sKeywordIndex:
    # A user counts as large from 100 documents here (1,000 by default), so the test stays small.
    return Bm25sKeywordIndex(directory, inline_build_below=100, merge_min=50, merge_fraction=0.1)


async def built(directory: Path, docs: list[KeywordDoc]) -> Bm25sKeywordIndex:
    """An index whose user holds `docs`, folded into built postings by one background build."""
    index = large_user_index(directory)
    await index.upsert(USER, docs)
    assert len(await index.search(USER, "garden", 1000)) == len(docs)  # served from the delta before any build
    await index.settle()
    assert index.builds == {"background": 1}
    return index


async def test_a_new_document_is_found_at_once_without_a_rebuild(tmp_path: Path) -> None:
    index = await built(tmp_path / "bm25", corpus(300))
    new = doc("booked a zeppelin ride over the garden")
    await index.upsert(USER, [new])
    hits = await index.search(USER, "zeppelin", 10)
    assert [h.id for h in hits] == [new.id]
    assert index.builds == {"background": 1}  # no build ran for it, inline or in the background


async def test_a_deleted_or_replaced_document_is_gone_at_once(tmp_path: Path) -> None:
    docs = corpus(300)
    index = await built(tmp_path / "bm25", docs)
    await index.delete(USER, [docs[0].id])
    await index.upsert(USER, [KeywordDoc(id=docs[1].id, text="now about a kayak", type=MemoryType.SEMANTIC)])
    found = {h.id for h in await index.search(USER, "garden", 1000)}
    assert docs[0].id not in found and docs[1].id not in found
    assert len(found) == 298
    assert [h.id for h in await index.search(USER, "kayak", 10, frozenset({MemoryType.SEMANTIC}))] == [docs[1].id]
    assert index.builds == {"background": 1}


async def test_scores_before_a_build_equal_those_of_a_fresh_build(tmp_path: Path) -> None:
    docs = corpus(300)
    index = await built(tmp_path / "a", docs)
    extra = [doc(f"garden party number{i}") for i in range(10)]
    await index.upsert(USER, extra)
    await index.delete(USER, [d.id for d in docs[:20]])
    served = {h.id: h.score for h in await index.search(USER, "garden party number3", 1000)}
    assert index.builds == {"background": 1}

    fresh = Bm25sKeywordIndex(tmp_path / "b")  # small-user default: builds inline at its first search
    await fresh.upsert(USER, [*docs[20:], *extra])
    expected = {h.id: h.score for h in await fresh.search(USER, "garden party number3", 1000)}
    assert len(served) == 290
    assert served == pytest.approx(expected, rel=1e-9)


async def test_enough_pending_writes_are_folded_in_the_background_and_results_stay_the_same(tmp_path: Path) -> None:
    index = await built(tmp_path / "bm25", corpus(300))
    later = [doc(f"weekly garden note {i}") for i in range(60)]  # more than merge_min pending writes
    await index.upsert(USER, later)
    before = await index.search(USER, "weekly garden note", 500)
    await index.settle()
    assert index.builds == {"background": 2}
    assert await index.search(USER, "weekly garden note", 500) == before


async def test_another_process_sees_a_background_build_and_the_writes_made_during_it(tmp_path: Path) -> None:
    index = await built(tmp_path / "bm25", corpus(300))
    await index.upsert(USER, [doc(f"pending write {i}") for i in range(60)])
    await index.search(USER, "pending", 1)  # starts the background build
    during = doc("written while the build ran: a harpsichord")
    await index.upsert(USER, [during])
    await index.settle()
    other = large_user_index(tmp_path / "bm25")  # a second process on the same directory, after a restart
    assert [h.id for h in await other.search(USER, "harpsichord", 5)] == [during.id]
    assert len(await other.search(USER, "pending", 100)) == 60
    assert other.builds == {}  # it loaded the saved postings and replayed the log
