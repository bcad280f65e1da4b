"""Matches derived from the query's analysis and the rows already found, with no further reads.

- `time_matches`: the `time` signal, for memories of the time range the query names.
- `succession_matches`: the `time` signal for what held just before something the query names, in a question
  about before ("where did I work before Spotify?"): "before Spotify" is a time, when what Spotify replaced
  ended. A found memory that ended, replaced by a found memory naming it, is the value asked about, not any
  earlier one.
- `subject_matches`: the `graph` signal (what the query names) for memories about whom or what the question asks:
  a relation it names from the user ("my daughter", "my old dog") when the memory uses a word for that relation
  ("daughter"; "dog", "puppy") or the name the graph resolved it to ("Tom" for "my husband"), or holds that
  relation's slot; an attribute of the user it asks about ("what was my previous job?") when the memory is a fact
  holding a value of it (its slot's family, `jyntrix_domain.attributes`), which is also a full `keyword` match
  (the question names what the fact holds, whatever its words), and so is the turn a current one was drawn
  from, which said it. The graph finds a memory through the
  entities it mentions; a turn, or a fact that names a person only by relation, is found this way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from jyntrix_domain.attributes import slot_family
from jyntrix_domain.model import MemoryKind
from jyntrix_domain.ports import Language
from jyntrix_domain.query import QueryAnalysis
from jyntrix_domain.ranking import Match

SUBJECT = "subject"


def subject_matches(
    matches: Sequence[Match], analysis: QueryAnalysis, language: Language, kin_names: Sequence[str] = ()
) -> list[Match]:
    """The `graph` signal, 1, for each found memory about what the query asks about (module docstring);
    `kin_names` are the names the query's relations resolved to, and the names the found memories give them
    are read in `language`."""
    kin = set(analysis.kin_words)
    families = {f"relation:{rel}" for rel in analysis.kin} | set(analysis.attributes)
    if not kin and not families:
        return []
    rows = {m.memory_id: m.memory for m in matches if m.memory is not None}
    names = {n.casefold() for n in kin_names} | language.names_given(kin, [row.content for row in rows.values()])
    mention = _words_pattern(kin | names)
    # The turns current facts holding the attribute were drawn from: what was said holds it too, and often more
    # of what was asked ("a nurse, mostly nights on the cardiac ward" of "works as a nurse").
    told = {
        m
        for row in rows.values()
        if row.kind is not MemoryKind.TURN and row.valid_until is None and slot_family(row.slot) in families
        for m in row.source_message_ids
    }
    out = []
    for memory_id, row in rows.items():
        holds = slot_family(row.slot) in families or (
            row.kind is MemoryKind.TURN and any(m in told for m in row.source_message_ids)
        )
        if holds or (mention is not None and mention.search(row.content)):
            out.append(Match(memory_id=memory_id, strategy=SUBJECT, signal="graph", strength=1.0, memory=row))
        if holds:
            # The question's words name what the fact holds ("how do I get to work?": its `transport`), whatever
            # words the fact says it in: a full match on the words, as a keyword search of its slot would give.
            out.append(Match(memory_id=memory_id, strategy=SUBJECT, signal="keyword", strength=1.0, memory=row))
    return out


def _words_pattern(words: set[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    return re.compile(r"(?i)\b(?:" + "|".join(map(re.escape, sorted(words))) + r")\b")


def time_matches(matches: Sequence[Match], analysis: QueryAnalysis) -> list[Match]:
    """The `time` signal: 1 for each found memory of the query's resolved time range: what it tells of happened
    then (`occurred` overlaps it), or, when it says no time, it was created then."""
    window = analysis.time_range
    if window is None:
        return []
    seen: set[str] = set()
    out = []
    for m in matches:
        row = m.memory
        if row is None or m.memory_id in seen:
            continue
        when = row.occurred
        if (
            (when.start < window.end and window.start < when.end)
            if when
            else window.start <= row.created_at < window.end
        ):
            seen.add(m.memory_id)
            out.append(Match(memory_id=m.memory_id, strategy="time", signal="time", strength=1.0, memory=row))
    return out


def succession_matches(matches: Sequence[Match], analysis: QueryAnalysis) -> list[Match]:
    """The `time` signal, 1, for each found memory replaced by a found memory naming what the query asks what
    came before (module docstring)."""
    if not analysis.asks_history or not analysis.entities:
        return []
    rows = {m.memory_id: m.memory for m in matches if m.memory is not None}
    anchor = _words_pattern({name.casefold() for name in analysis.entities})
    if anchor is None:
        return []
    successors = {memory_id for memory_id, row in rows.items() if anchor.search(row.content)}
    return [
        Match(memory_id=memory_id, strategy="time", signal="time", strength=1.0, memory=row)
        for memory_id, row in rows.items()
        if row.superseded_by in successors
    ]
