"""Which documents a Postgres keyword search scores, chosen from the query words' document frequencies.

Scoring a document in SQL costs microseconds, so scoring every document that holds a common word is what made
search slow for a large user. The plan scores every document of the rarer words (the ones that carry most of
BM25's weight) up to a budget of rows, and for the common rest only documents holding many of them at once:
first all of them, then all but one, and so on, each read capped. When every query word fits the budget the
ranking is exact; otherwise it is exact for the rare words and approximate only among documents that match
nothing rarer than common words (99% of the exact top 20's BM25 score at 100k memories, bench/retrieval_scale.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from math import comb

COMPLETE_ROWS = 200  # documents scored in full for the rarer words, summed over them
CAPPED_ROWS = 100  # documents read per level of the common words (at least the number of hits asked for)
MAX_CLAUSES = 36  # a level whose combinations outnumber this is skipped for the next, looser one


@dataclass(frozen=True)
class KeywordPlan:
    complete: str | None  # a tsquery of the lexemes whose every document is scored
    levels: tuple[str, ...]  # tsqueries of the other lexemes, most demanding first


def quote(lexeme: str, prefix: str = "") -> str:
    """`lexeme` behind `prefix` (the user's, migration 0007) as a tsquery operand, taken literally."""
    return "'" + (prefix + lexeme).replace("\\", "\\\\").replace("'", "''") + "'"


def any_of(lexemes: tuple[str, ...], prefix: str = "") -> str:
    return " | ".join(quote(lexeme, prefix) for lexeme in lexemes)


def at_least(lexemes: tuple[str, ...], m: int, prefix: str = "") -> str:
    """A tsquery matching documents holding at least `m` of `lexemes`."""
    if m == 1:
        return any_of(lexemes, prefix)
    groups = combinations(lexemes, m)
    return " | ".join("(" + " & ".join(quote(lexeme, prefix) for lexeme in group) + ")" for group in groups)


def plan(frequencies: Mapping[str, int], complete_rows: int = COMPLETE_ROWS, prefix: str = "") -> KeywordPlan:
    """The plan for query lexemes with these document frequencies (lexemes no document holds are left out);
    its tsqueries name each lexeme behind `prefix`."""
    present = sorted((df, lexeme) for lexeme, df in frequencies.items() if df > 0)
    complete: list[str] = []
    budget = complete_rows
    for df, lexeme in present:
        if df > budget:
            break
        complete.append(lexeme)
        budget -= df
    rest = tuple(lexeme for _, lexeme in present[len(complete) :])
    counts = [m for m in range(len(rest), 0, -1) if m == 1 or comb(len(rest), m) <= MAX_CLAUSES]
    levels = tuple(at_least(rest, m, prefix) for m in counts)
    return KeywordPlan(complete=any_of(tuple(complete), prefix) if complete else None, levels=levels)
