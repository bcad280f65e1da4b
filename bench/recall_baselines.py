"""In-process retrieval baselines over a fixed list of texts: BM25, dense, and their reciprocal-rank fusion.

- BM25: the bm25s library, Lucene's variant with k1=1.5 and b=0.75 (the parameters of the project's keyword
  index), over the project's keyword tokens (`jyntrix_adapters.bm25.tokens.tokens`: keyword terms without
  stopwords, Snowball-stemmed), the query tokenised the same way. Documents that share no term are not ranked.
- dense: cosine similarity of unit vectors from the embedder given (the benches pass the server's MiniLM).
- RRF: score = sum over the two rankings of 1 / (RRF_K + rank), rank from 1, over each ranking's top
  FUSION_DEPTH.

Each returns document indices, best first. A baseline is a floor to measure ranking against, not tuned.
"""

from __future__ import annotations

from collections.abc import Sequence

import bm25s
import numpy as np
import numpy.typing as npt

from jyntrix_adapters.bm25.postings import K1, B
from jyntrix_adapters.bm25.tokens import tokens

RRF_K = 60
FUSION_DEPTH = 100


def rrf(rankings: Sequence[Sequence[int]], limit: int, k: int = RRF_K, depth: int = FUSION_DEPTH) -> list[int]:
    """The documents of `rankings` fused by reciprocal rank (ties: the lower index first), the top `limit`."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking[:depth], start=1):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank)
    return sorted(scores, key=lambda doc: (-scores[doc], doc))[:limit]


def _top(scores: npt.NDArray[np.floating], limit: int) -> list[int]:
    order = np.argsort(-scores, kind="stable")[:limit]
    return [int(i) for i in order]


class Baselines:
    """BM25, dense and RRF over `texts`, whose unit vectors are the rows of `vectors`."""

    def __init__(self, texts: Sequence[str], vectors: npt.NDArray[np.float32]) -> None:
        if len(texts) != len(vectors):
            raise ValueError(f"{len(texts)} texts but {len(vectors)} vectors")
        self._vectors = vectors
        self._bm25 = bm25s.BM25(k1=K1, b=B, method="lucene")
        # Every document keeps its place (an empty one as the empty token) so that indices stay aligned.
        self._bm25.index([tokens(t) for t in texts], create_empty_token=True, show_progress=False)

    def bm25(self, query: str, limit: int) -> list[int]:
        terms = tokens(query)
        if not terms:
            return []
        scores = self._bm25.get_scores(terms)
        return [i for i in _top(scores, limit) if scores[i] > 0]

    def dense(self, query_vector: npt.NDArray[np.float32], limit: int) -> list[int]:
        return _top(self._vectors @ query_vector, limit)

    def rank(self, query: str, query_vector: npt.NDArray[np.float32], limit: int) -> dict[str, list[int]]:
        """Every baseline's top `limit` for one query, by name."""
        keyword, dense = self.bm25(query, max(limit, FUSION_DEPTH)), self.dense(query_vector, max(limit, FUSION_DEPTH))
        return {"bm25": keyword[:limit], "dense": dense[:limit], "rrf": rrf([keyword, dense], limit)}
