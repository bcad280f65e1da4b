"""Evidence recall@k, the measure of the recall benches: the share of a question's evidence its top k find.

Each result cites the items it comes from (messages, or the sessions they were said in; None for one the
bench does not know). A result counts for at most one evidence item it cites that no result above it found,
and a result citing more than MAX_CITED items counts for none: neither a summary nor a window of turns is a
shortcut to the evidence.
"""

from __future__ import annotations

from collections.abc import Sequence

MAX_CITED = 3


def credited(cites: Sequence[Sequence[str | None]], evidence: set[str] | frozenset[str], k: int) -> set[str]:
    """The evidence items the top `k` results (each given by what it cites) find."""
    found: set[str] = set()
    for cited in cites[:k]:
        if len(cited) > MAX_CITED:
            continue
        named = [c for c in cited if c is not None and c in evidence and c not in found]
        if named:
            found.add(named[0])
    return found


def recall(cites: Sequence[Sequence[str | None]], evidence: set[str] | frozenset[str], k: int) -> float:
    return len(credited(cites, evidence, k)) / len(evidence)
