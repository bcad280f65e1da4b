"""Synthetic memory texts and queries over one small vocabulary, shared by the benchmarks.

Sentences like "my sister booked the quiet restaurant in Lisbon on Monday and the concert": realistic
enough in length and word overlap for BM25 and the embedding model, seeded so that runs repeat.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SUBJECTS = ["my sister", "my manager", "our neighbour", "my friend Ana", "the dentist", "my son", "the landlord"]
VERBS = ["mentioned", "booked", "cancelled", "loved", "recommended", "forgot", "visited", "planned", "bought"]
ADJECTIVES = ["quiet", "expensive", "new", "old", "favourite", "spicy", "long", "early", "weekly", "small"]
NOUNS = [
    "restaurant",
    "concert",
    "trip",
    "meeting",
    "bicycle",
    "recipe",
    "appointment",
    "book",
    "garden",
    "flight",
    "guitar",
    "apartment",
    "course",
    "present",
    "movie",
    "hike",
    "dinner",
    "holiday",
    "laptop",
    "museum",
]
PLACES = ["in Lisbon", "near the office", "downtown", "at the lake", "in Berlin", "at home", "by the station"]
TIMES = ["on Monday", "last week", "in May", "yesterday", "next spring", "every Friday", "tonight", "in 2023"]


def sentences(rng: np.random.Generator, n: int) -> list[str]:
    def pick(words: list[str]) -> Any:
        return words[int(rng.integers(len(words)))]

    return [
        f"{pick(SUBJECTS)} {pick(VERBS)} the {pick(ADJECTIVES)} {pick(NOUNS)} {pick(PLACES)} {pick(TIMES)}"
        f" and the {pick(NOUNS)}"
        for _ in range(n)
    ]


def queries(rng: np.random.Generator, n: int) -> list[str]:
    return [
        f"{NOUNS[int(rng.integers(len(NOUNS)))]} {PLACES[int(rng.integers(len(PLACES)))].split()[-1]}"
        f" {ADJECTIVES[int(rng.integers(len(ADJECTIVES)))]}"
        for _ in range(n)
    ]


def questions(rng: np.random.Generator, n: int) -> list[str]:
    """Chat questions about the same things (a question's turn asks, so retrieval runs)."""

    def pick(words: list[str]) -> Any:
        return words[int(rng.integers(len(words)))]

    return [
        f"What did {pick(SUBJECTS)} say about the {pick(ADJECTIVES)} {pick(NOUNS)} {pick(PLACES)}?" for _ in range(n)
    ]
