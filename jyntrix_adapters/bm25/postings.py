"""Okapi BM25 over a built index plus the writes since it was built, with statistics that are always current.

A `Postings` is immutable: the term frequencies of a fixed list of documents in compressed-column form
(one column per term), their lengths and types. Writes after it was built live beside it: replaced or deleted
documents are masked out (`alive`), new ones sit in a small `delta`, and `CorpusStats` (document count, total
length, document frequency per term) follows every write. A search scores both parts with the current
statistics, so its results are exactly those of a fresh rebuild, and folding the delta into a new `Postings`
changes how fast a search is, never what it returns.
"""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import msgspec
import numpy as np
import numpy.typing as npt

K1 = 1.5
B = 0.75


class CorpusStats:
    """Document count, total length and per-term document frequency of a user's current documents."""

    def __init__(self) -> None:
        self.n = 0
        self.total_length = 0
        self.df: Counter[str] = Counter()

    def add(self, tokens: list[str]) -> None:
        self.n += 1
        self.total_length += len(tokens)
        self.df.update(set(tokens))

    def remove(self, tokens: list[str]) -> None:
        self.n -= 1
        self.total_length -= len(tokens)
        self.df.subtract(set(tokens))

    def idf(self, term: str) -> float:
        df = self.df.get(term, 0)
        return math.log(1.0 + (self.n - df + 0.5) / (df + 0.5)) if df > 0 else 0.0

    def norm(self, length: float | npt.NDArray[np.float64]) -> float | npt.NDArray[np.float64]:
        """k1·(1 - b + b·|d|/avgdl), the length part of BM25's denominator."""
        average = self.total_length / self.n if self.n else 1.0
        return K1 * (1.0 - B + B * length / max(average, 1e-9))


class Postings:
    """Term frequencies of `ids` (in that order) by term: the documents of term t are indices[indptr[c]:indptr[c+1]]."""

    def __init__(
        self,
        vocab: dict[str, int],
        indptr: npt.NDArray[np.int64],
        indices: npt.NDArray[np.int32],
        tf: npt.NDArray[np.float64],
        lengths: npt.NDArray[np.float64],
    ) -> None:
        self.vocab, self.indptr, self.indices, self.tf, self.lengths = vocab, indptr, indices, tf, lengths

    @classmethod
    def build(cls, documents: list[list[str]]) -> Postings:
        vocab: dict[str, int] = {}
        term_ids = [vocab.setdefault(t, len(vocab)) for tokens in documents for t in tokens]
        lengths = np.fromiter((len(tokens) for tokens in documents), dtype=np.int64, count=len(documents))
        n = max(len(documents), 1)
        docs = np.repeat(np.arange(len(documents), dtype=np.int64), lengths)
        # One key per (term, document) pair; counting equal keys gives the term frequencies, sorted by term.
        keys, counts = np.unique(np.asarray(term_ids, dtype=np.int64) * n + docs, return_counts=True)
        terms = keys // n
        indptr = np.searchsorted(terms, np.arange(len(vocab) + 1)).astype(np.int64)
        return cls(vocab, indptr, (keys % n).astype(np.int32), counts.astype(np.float64), lengths.astype(np.float64))

    def scores(self, terms: set[str], stats: CorpusStats) -> npt.NDArray[np.float64]:
        """BM25 of every built document for `terms` under `stats` (zero where no term occurs)."""
        scores = np.zeros(len(self.lengths))
        for term in terms:
            column = self.vocab.get(term)
            idf = stats.idf(term)
            if column is None or idf == 0.0:
                continue
            lo, hi = self.indptr[column], self.indptr[column + 1]
            docs, tf = self.indices[lo:hi], self.tf[lo:hi]
            scores[docs] += idf * tf * (K1 + 1.0) / (tf + stats.norm(self.lengths[docs]))
        return scores

    # -- files ---------------------------------------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        (directory / "vocab.msgpack").write_bytes(
            msgspec.msgpack.encode(sorted(self.vocab, key=self.vocab.__getitem__))
        )
        with open(directory / "postings.npz", "wb") as handle:
            np.savez(handle, indptr=self.indptr, indices=self.indices, tf=self.tf, lengths=self.lengths)

    @classmethod
    def load(cls, directory: Path) -> Postings:
        terms = msgspec.msgpack.decode((directory / "vocab.msgpack").read_bytes(), type=list[str])
        with np.load(directory / "postings.npz") as arrays:
            return cls(
                {t: i for i, t in enumerate(terms)},
                arrays["indptr"],
                arrays["indices"],
                arrays["tf"],
                arrays["lengths"],
            )


def delta_score(terms: set[str], counts: Counter[str], length: int, stats: CorpusStats) -> float:
    """BM25 of one document not yet in the built postings."""
    score = 0.0
    for term in terms:
        tf = counts.get(term, 0)
        if tf:
            score += stats.idf(term) * tf * (K1 + 1.0) / (tf + float(stats.norm(length)))
    return score
