"""Things a user says in passing, each followed later by a question in a new conversation.

Written by hand for the "remember everything" behaviour: the statements are of kinds the
deterministic extraction rules do not read (hobbies picked up, objects bought, opinions,
one-off events, plans without dates, work projects, health notes), so only a memory of the
turn itself can answer them. `expect` lists words of which the answer must name at least one.
"""

from __future__ import annotations

from typing import NamedTuple


class Remark(NamedTuple):
    said: str
    asked: str
    expect: tuple[str, ...]


REMARKS: tuple[Remark, ...] = (
    Remark(
        "Oh by the way, I've been thinking about learning the cello this winter.",
        "Which instrument was I thinking about learning?",
        ("cello",),
    ),
    Remark(
        "Anyway, our dog Biscuit is a border collie, so he needs a lot of walks.", "What breed is Biscuit?", ("collie",)
    ),
    Remark(
        "We're planning a trip to Patagonia once the kids are older.",
        "Where are we planning a trip to?",
        ("patagonia",),
    ),
    Remark(
        "Sorry for the delay, I was repotting my fiddle-leaf fig all morning.", "What plant was I repotting?", ("fig",)
    ),
    Remark(
        "I finally finished reading The Remains of the Day last night, what a book.",
        "Which book did I finish reading?",
        ("remains",),
    ),
    Remark(
        "My knee has been acting up since the half marathon in April.",
        "What has been acting up since the half marathon?",
        ("knee",),
    ),
    Remark(
        "At work I'm migrating our billing system from COBOL to Kotlin.",
        "What language am I migrating the billing system to?",
        ("kotlin",),
    ),
    Remark(
        "We bought a second-hand Volvo estate last weekend, it's bright orange.", "What car did we buy?", ("volvo",)
    ),
    Remark("Honestly I think pineapple on pizza is underrated.", "What do I think is underrated?", ("pineapple",)),
    Remark(
        "My grandmother taught me to make pierogi when I was nine.",
        "What did my grandmother teach me to make?",
        ("pierogi",),
    ),
    Remark("I signed up for a pottery class on Thursday evenings.", "What class did I sign up for?", ("pottery",)),
    Remark(
        "The neighbours' cat keeps sleeping in our greenhouse.",
        "Where does the neighbours' cat keep sleeping?",
        ("greenhouse",),
    ),
    Remark(
        "I've started keeping a journal in Esperanto to practise.",
        "Which language do I keep a journal in?",
        ("esperanto",),
    ),
    Remark(
        "Our team won the regional quiz night with a question about lighthouses.",
        "What was the winning quiz question about?",
        ("lighthouse",),
    ),
    Remark(
        "My daughter wants a telescope for her birthday so she can see Saturn.",
        "What does my daughter want for her birthday?",
        ("telescope",),
    ),
    Remark(
        "I've been brewing my own kombucha in the garage.", "What have I been brewing in the garage?", ("kombucha",)
    ),
    Remark(
        "The boiler broke again, so we're getting a heat pump installed.",
        "What are we getting installed?",
        ("heat pump", "pump"),
    ),
    Remark(
        "I'm trying to cut down on coffee, switching to rooibos in the afternoons.",
        "What am I drinking in the afternoons instead of coffee?",
        ("rooibos",),
    ),
    Remark(
        "We painted the hallway a deep teal colour and I love it.", "What colour did we paint the hallway?", ("teal",)
    ),
    Remark(
        "I volunteered at the food bank on Saturday, sorting tins for four hours.",
        "Where did I volunteer on Saturday?",
        ("food bank",),
    ),
    Remark(
        "My brother Tom is training to become a paramedic in Leeds.",
        "What is my brother Tom training to become?",
        ("paramedic",),
    ),
    Remark("Last month I got a tattoo of a hummingbird on my wrist.", "What tattoo did I get?", ("hummingbird",)),
    Remark(
        "I keep forgetting my locker code at the climbing gym, it's 4471.",
        "What is my locker code at the climbing gym?",
        ("4471",),
    ),
    Remark(
        "For my sister's wedding I'm supposed to give a speech in Welsh.",
        "What language am I giving the wedding speech in?",
        ("welsh",),
    ),
)
