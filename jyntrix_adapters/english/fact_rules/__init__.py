"""Deterministic extraction: rules for common first-person statements, no model needed.

One module per kind of fact a rule reads: `identity` (name, home, work), `relations` (people and
pets), `habits` (likes, diets, habits), `procedures` (how to answer), `events` (dated plans and
events), `changes` (what a statement ends), `work` (role and employer now) and `now` (home, transport,
tools, goals, pets now); `common` holds the rule types they share (the candidate
they build is the domain's `FactCandidate`), `phrases` the clauses, names and places they read, `extractor`
runs them all.
Only the user's own messages are read; questions and hypotheticals state nothing.
"""

from jyntrix_adapters.english.fact_rules.extractor import DeterministicExtractor

__all__ = ["DeterministicExtractor"]
