"""Rule "the assistant's words weigh less": an assistant's turn found for a query that does not ask what the
assistant said keeps `share` of its score (`RetrievalConfig.assistant_share`); its breakdown shows the cut as
an adjustment that names the rule, and the results are sorted again, so they still come in the order of the
scores they show.

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


def assistant_turns_lowered(
    ranked: Sequence[RankedMemory], share: float, *, about_assistant: bool
) -> list[RankedMemory]:
    """`ranked` with each assistant turn's score cut to `share` of itself (unless the query asks about what
    the assistant said, or `share` is 1), best first again; equal scores keep their order."""
    if about_assistant or share >= 1.0:
        return list(ranked)
    out = [
        msgspec.structs.replace(r, breakdown=r.breakdown.scaled(share, ASSISTANT_WEIGHS_LESS))
        if r.memory.role is Role.ASSISTANT
        else r
        for r in ranked
    ]
    return sorted(out, key=lambda r: -r.score)
