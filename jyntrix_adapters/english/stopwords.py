"""Words that carry no content, one list per use; each list's membership is part of its user's behaviour.

They differ on purpose: a query drops time and recall words that retrieval handles apart, the
keyword index keeps most of them (an indexed memory is matched word for word), fact comparison
drops only the words every third-person fact shares, and the offline responder drops "user".
"""

from __future__ import annotations

from jyntrix_adapters.support.index_terms import INDEX_STOPWORDS

__all__ = ["ANSWER_STOPWORDS", "FACT_STOPWORDS", "INDEX_STOPWORDS", "QUERY_STOPWORDS", "word_set"]


def word_set(words: str) -> frozenset[str]:
    """The whitespace-separated words of `words`: how word lists are written."""
    return frozenset(words.split())


QUERY_STOPWORDS = word_set("""
    a about above after again against all almost also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't down
    during each either else even ever every few for from further get gets got had hadn't has hasn't have haven't
    having he he'd he'll he's her here here's hers herself him himself his how how's however i i'd i'll i'm i've
    if in into is isn't it it's its itself just let's like lot lots may maybe me might mine more most much must
    mustn't my myself no nor not now of off often on once one only or other ought our ours ourselves out over
    own please quite rather really same shall shan't she she'd she'll she's should shouldn't so some such than
    that that's the their theirs them themselves then there there's these they they'd they'll they're they've
    thing things this those though through to too under until up upon us very was wasn't we we'd we'll we're
    we've were weren't what what's whatever when when's where where's whether which while who who's whom whose
    why why's will with won't would wouldn't yes yet you you'd you'll you're you've your yours yourself
    yourselves ok okay hi hello hey thanks thank oh well yeah yep nope sure anything something everything
    nothing anyone someone everyone tell told say said says know knew think remember remind recall mention
    mentioned again still already ago day days week weeks weekend month months year years today tonight
    yesterday tomorrow morning afternoon evening night last next recently lately time times earlier forget
    happen happened happens talk talked discuss discussed chat chatted spoke
    """)
"""What a message's keywords leave out: function words, small talk, and words of time and recall."""

FACT_STOPWORDS = word_set("the a an is are was of to in at on and user user's")
"""What two statements of one fact are not compared on: the words every "the user ..." fact shares."""

ANSWER_STOPWORDS = word_set("""
    a about above after again all am an and any are as at be been being before below between both but by
    can could did do does doing done during each few for from further had has have having he her here hers
    him his how i i'd i'll i'm i've if in into is it it's its just know let me more most my myself no nor
    not now of off on once only or other our ours out over own please remember remind same say she should
    so some such tell than that the their theirs them then there these they this those through to too under
    until up us very was we were what when where which while who whom why will with would you you're your
    yours yourself user user's anything something thing things
    """)
"""What the offline responder does not match a question to a memory on."""
