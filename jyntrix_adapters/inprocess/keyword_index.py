"""In-process KeywordIndex: Okapi BM25 over per-user posting lists."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

from jyntrix_adapters.support.index_rules import best_first, can_find
from jyntrix_adapters.support.index_terms import keyword_terms
from jyntrix_domain.model import Hit, KeywordDoc, MemoryId, MemoryType, UserId

K1 = 1.5
B = 0.75


class _UserCorpus:
    def __init__(self) -> None:
        self.docs: dict[MemoryId, tuple[MemoryType, int, tuple[str, ...]]] = {}
        self.postings: dict[str, dict[MemoryId, int]] = {}
        self.total_length = 0

    def add(self, doc: KeywordDoc) -> None:
        self.remove(doc.id)
        terms = Counter(keyword_terms(doc.text))
        length = sum(terms.values())
        self.docs[doc.id] = (doc.type, length, tuple(terms))
        self.total_length += length
        for term, tf in terms.items():
            self.postings.setdefault(term, {})[doc.id] = tf

    def remove(self, doc_id: MemoryId) -> None:
        entry = self.docs.pop(doc_id, None)
        if entry is None:
            return
        self.total_length -= entry[1]
        for term in entry[2]:
            docs = self.postings[term]
            del docs[doc_id]
            if not docs:
                del self.postings[term]

    def scores(self, terms: set[str], types: frozenset[MemoryType] | None) -> dict[MemoryId, float]:
        n = len(self.docs)
        average = self.total_length / n if n else 0.0
        scores: dict[MemoryId, float] = {}
        for term in terms:
            docs = self.postings.get(term)
            if not docs:
                continue
            idf = math.log(1.0 + (n - len(docs) + 0.5) / (len(docs) + 0.5))
            for doc_id, tf in docs.items():
                doc_type, length, _ = self.docs[doc_id]
                if types is not None and doc_type not in types:
                    continue
                norm = K1 * (1.0 - B + B * length / average)
                scores[doc_id] = scores.get(doc_id, 0.0) + idf * tf * (K1 + 1.0) / (tf + norm)
        return scores


class InProcessKeywordIndex:
    """BM25 (k1=1.5, b=0.75, non-negative Lucene idf); corpus statistics are each user's own."""

    def __init__(self) -> None:
        self._users: dict[UserId, _UserCorpus] = {}

    async def upsert(self, user_id: UserId, docs: Sequence[KeywordDoc]) -> None:
        corpus = self._users.setdefault(user_id, _UserCorpus())
        for doc in docs:
            corpus.add(doc)

    async def delete(self, user_id: UserId, ids: Sequence[MemoryId]) -> None:
        corpus = self._users.get(user_id)
        if corpus is not None:
            for doc_id in ids:
                corpus.remove(doc_id)

    async def search(
        self, user_id: UserId, query: str, limit: int, types: frozenset[MemoryType] | None = None
    ) -> list[Hit]:
        corpus = self._users.get(user_id)
        if not can_find(limit, types) or corpus is None:
            return []
        scores = corpus.scores(set(keyword_terms(query)), types)
        hits = [Hit(id=doc_id, score=score) for doc_id, score in scores.items() if score > 0.0]
        return best_first(hits)[:limit]

    async def forget_user(self, user_id: UserId) -> None:
        self._users.pop(user_id, None)

    async def ping(self) -> None:
        return None
