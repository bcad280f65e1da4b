"""How much an assistant's turn weighs for a query that does not ask what the assistant said: it answers only when
it matches the query strongly (`RetrievalConfig.assistant_min_match`), and then, by the rule "the assistant's words
weigh less", keeps `share` of its score (`RetrievalConfig.assistant_share`). Its breakdown shows the cut as an
adjustment that names the rule, and the results are sorted again, so they still come in the order of the scores
they show.

Why: an assistant's answer repeats the user's words and adds general advice around them. Long and on topic,
it matches a query as well as the user's own message that holds the fact, or better, and crowds it out.
What the assistant said is evidence of what the user was told, not of the user's world: it should answer
when nothing the user said does, or when the query asks about it ("what did you suggest?").
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from jyntrix_domain.model import Role
from jyntrix_domain.ranking import RankedMemory

ASSISTANT_WEIGHS_LESS = "assistant's words weigh less"


def assistant_turns_weighed(
    ranked: Sequence[RankedMemory], *, min_match: float, share: float, about_assistant: bool
) -> list[RankedMemory]:
    """`ranked` without the assistant turns whose keyword and vector match are both below `min_match`, each
    other one's score cut to `share` of itself (unless `share` is 1), best first again; equal scores keep their
    order. A query about what the assistant said keeps them all, whole."""
    if about_assistant:
        return list(ranked)
    out = []
    for r in ranked:
        if r.memory.role is not Role.ASSISTANT:
            out.append(r)
        elif max(r.breakdown.signals.keyword, r.breakdown.signals.vector) >= min_match:
            cut = r.breakdown.scaled(share, ASSISTANT_WEIGHS_LESS) if share < 1.0 else r.breakdown
            out.append(msgspec.structs.replace(r, breakdown=cut))
    return sorted(out, key=lambda r: -r.score)
